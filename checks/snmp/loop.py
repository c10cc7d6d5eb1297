"""One asyncio event loop thread shared by every SNMP poll of the process.

Checks run in the runner's worker threads; pysnmp is asyncio. Rather than an event loop (and a
pysnmp engine, which is bound to the loop it first ran in) per check, every poll is handed to one
long-lived loop thread, where hundreds of devices are in flight at once on a handful of sockets.
A semaphore bounds the devices in flight; each poll carries its own deadline, so a dead device costs
only its own timeout and never holds up the others.
"""

from __future__ import annotations

import asyncio
import concurrent.futures as cf
import threading
from collections.abc import Awaitable, Callable
from typing import TypeVar

from pysnmp.hlapi.v3arch.asyncio import SnmpEngine

from checks.snmp.client import SnmpClient
from checks.snmp.errors import SnmpError, SnmpUnreachable
from checks.snmp.settings import SnmpSettings

T = TypeVar("T")
DEFAULT_IN_FLIGHT = 256


class SnmpLoop:
    def __init__(self, in_flight: int = DEFAULT_IN_FLIGHT) -> None:
        self.in_flight = in_flight
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="patrol-snmp", daemon=True)
        self._thread.start()
        self._semaphore = asyncio.Semaphore(in_flight)  # used on the loop thread only
        # One engine for every community-based device, one per SNMPv3 credential set: pysnmp keeps one
        # USM entry per user name in an engine, so two devices with the same user and different keys
        # must not share one.
        self._engines: dict[str, SnmpEngine] = {}

    def engine_for(self, settings: SnmpSettings) -> SnmpEngine:
        """The pysnmp engine for SNMPv3 (and the discovery probe); v1/v2c polls do not use one."""
        key = "community" if settings.version != "3" else "v3:" + settings.credential_key()
        engine = self._engines.get(key)
        if engine is None:
            engine = self._engines[key] = SnmpEngine()
        return engine

    def run(
        self, settings: SnmpSettings, work: Callable[[SnmpClient], Awaitable[T]], deadline: float, probe: bool = False
    ) -> T:
        """Run ``work`` against the device on the loop thread; give up at ``deadline`` seconds from now.

        Waiting for a free slot counts against the deadline too: a poll queued behind many others is
        reported as such, not as an unreachable device.
        """

        started = {"polling": False}

        async def bounded() -> T:
            async with self._semaphore:
                started["polling"] = True
                engine = self.engine_for(settings) if settings.version == "3" or probe else None
                client = SnmpClient(engine, settings)
                try:
                    return await work(client)
                finally:
                    client.close()

        async def with_deadline() -> T:
            try:
                return await asyncio.wait_for(bounded(), deadline)
            except TimeoutError:
                if not started["polling"]:
                    raise SnmpError(
                        f"{settings.endpoint} was not polled: {self.in_flight} other devices were in flight until "
                        f"the check's deadline ({deadline:.3g} s)"
                    ) from None
                raise SnmpUnreachable(
                    f"no complete SNMP answer from {settings.endpoint} within the check's {deadline:.3g} s"
                ) from None

        future = asyncio.run_coroutine_threadsafe(with_deadline(), self._loop)
        try:
            return future.result(deadline + 5.0)  # the loop enforces the deadline; this is a backstop
        except cf.TimeoutError:
            future.cancel()
            raise SnmpUnreachable(f"SNMP poll of {settings.endpoint} did not finish within {deadline:.3g} s") from None


_shared: SnmpLoop | None = None
_shared_lock = threading.Lock()


def shared_loop() -> SnmpLoop:
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = SnmpLoop()
        return _shared
