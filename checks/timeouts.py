"""Bounded waits on calls that may block forever (statvfs on a hung NFS mount, a dead peer)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class CallTimedOut(TimeoutError):
    def __init__(self, name: str, timeout: float) -> None:
        self.name = name
        self.timeout = timeout
        super().__init__(f"{name} did not finish within {timeout:g} s")


def call_with_timeout(fn: Callable[[], T], timeout: float, name: str) -> T:
    """Run ``fn`` in a daemon thread and wait at most ``timeout`` seconds for it.

    A daemon thread rather than an executor: a call stuck in the kernel can be neither cancelled nor
    joined, and it must keep neither the caller waiting nor the process from exiting.
    Exceptions raised by ``fn`` are re-raised here; a timeout raises CallTimedOut.
    """
    box: dict[str, object] = {}

    def work() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - handed to the caller
            box["error"] = exc

    worker = threading.Thread(target=work, name=name, daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise CallTimedOut(name, timeout)
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    return box["value"]  # type: ignore[return-value]
