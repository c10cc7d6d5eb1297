"""The SSH connections of one run: one per target, shared by that target's checks, closed at the end.

The first check of a target to need the connection opens it; the target's other checks wait for it
(they would only open more connections to the same host). A failure is remembered for the rest of
the run, so a blackholed or misconfigured target costs its timeout once, not once per check.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from checks.errors import CheckUnavailable
from checks.secrets import Scrubber
from checks.target import Target


class SshPool:
    def __init__(self, scrubber: Scrubber | None = None, opener: Callable[[Target, Scrubber], Any] | None = None):
        self.scrubber = scrubber or Scrubber()
        self._opener = opener
        self._lock = threading.Lock()
        self._target_locks: dict[str, threading.Lock] = {}
        self._open: dict[str, Any] = {}
        self._failed: dict[str, tuple[type[Exception], str]] = {}
        self._sources: dict[str, Any] = {}
        self._closed = False

    def connection(self, target: Target) -> Any:
        """The run's connection to ``target`` (an ``SshConnection``), opened on first use."""
        with self._lock:
            if self._closed:
                raise CheckUnavailable("the run is over: its SSH connections are closed")
            lock = self._target_locks.setdefault(target.name, threading.Lock())
        with lock:
            if target.name in self._failed:
                raise _again(*self._failed[target.name])
            conn = self._open.get(target.name)
            if conn is not None and conn.active:
                return conn
            try:
                conn = self._opener_for()(target, self.scrubber)
            except Exception as exc:
                # Keep the class so the base check describes it the same way (timed out, cannot check ...).
                self._failed[target.name] = (type(exc), str(exc))
                raise
            with self._lock:
                if self._closed:  # the run ended while this check was connecting
                    conn.close()
                    raise CheckUnavailable("the run is over: its SSH connections are closed")
                self._open[target.name] = conn
            return conn

    def host_source(self, target: Target) -> Any:
        """The run's /proc reader for ``target``: one snapshot per run, shared by the host checks."""
        from checks.ssh.procfs import SshHostSource

        with self._lock:
            source = self._sources.get(target.name)
            if source is None:
                source = self._sources[target.name] = SshHostSource(lambda: self.connection(target))
            return source

    def close(self) -> None:
        with self._lock:
            self._closed = True
            conns, self._open = list(self._open.values()), {}
        for conn in conns:
            conn.close()

    def _opener_for(self) -> Callable[[Target, Scrubber], Any]:
        if self._opener is None:
            try:
                from checks.ssh.connection import SshConnection
            except ImportError as exc:
                raise CheckUnavailable(f"SSH checks need paramiko ({exc}): install patrol[ssh]") from None
            self._opener = SshConnection.open
        return self._opener


def _again(kind: type[Exception], message: str) -> Exception:
    """A fresh exception like the remembered one (raising one object from several threads mixes tracebacks)."""
    try:
        return kind(message)
    except TypeError:  # an exception class with another constructor
        return CheckUnavailable(message)
