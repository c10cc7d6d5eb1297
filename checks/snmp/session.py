"""The ``snmp`` connection kind: a per-target session the snmp_* checks poll through.

A check calls ``get`` and ``walk`` synchronously from its worker thread; the work runs on the shared
loop thread (``checks.snmp.loop``) under the check's own deadline.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from checks.errors import CheckUnavailable
from checks.secrets import Scrubber
from checks.snmp import oids
from checks.snmp.errors import SnmpError, SnmpUnreachable
from checks.snmp.oids import Table, Varbind
from checks.snmp.settings import SnmpSettings
from checks.target import Target

if TYPE_CHECKING:  # pysnmp is optional: imported when a poll first runs
    from checks.snmp.client import SnmpClient
    from checks.snmp.loop import SnmpLoop


class SnmpSession:
    def __init__(self, target: Target, loop: SnmpLoop | None = None, scrubber: Scrubber | None = None) -> None:
        self.target = target
        self.scrubber = scrubber
        self._loop = loop
        self._settings: SnmpSettings | None = None

    @property
    def settings(self) -> SnmpSettings:
        if self._settings is None:
            self._settings = SnmpSettings.from_target(self.target, self.scrubber)
        return self._settings

    @property
    def loop(self) -> SnmpLoop:
        if self._loop is None:
            try:
                from checks.snmp.loop import shared_loop
            except ImportError as exc:
                missing = f"SNMP polling needs the snmp extra (pip install 'patrol[snmp]'): {exc}"
                raise CheckUnavailable(missing) from None
            self._loop = shared_loop()
        return self._loop

    def get(self, wanted: Sequence[str | oids.OID], deadline: float) -> dict[oids.OID, Varbind]:
        return self._run(lambda client: client.get(wanted), deadline)

    def walk(self, roots: Sequence[str | oids.OID], deadline: float) -> dict[oids.OID, Table]:
        return self._run(lambda client: client.walk(roots), deadline)

    def get_and_walk(
        self, wanted: Sequence[str], roots: Sequence[str], deadline: float
    ) -> tuple[dict[oids.OID, Varbind], dict[oids.OID, Table]]:
        """Scalars and tables in one poll, so both come from the same moment of the device."""

        async def work(client: SnmpClient):
            return await client.get(wanted), await client.walk(roots)

        return self._run(work, deadline)

    def _run(self, work, deadline: float):
        """``deadline``: seconds this poll may take. A timeout is probed, time permitting, to tell a dead
        device (CRITICAL) from one that ignores our community or v3 keys, or that answers small requests
        but not the whole poll in time (UNKNOWN, with the reason)."""
        settings = self.settings
        started = time.monotonic()
        try:
            return self.loop.run(settings, work, deadline)
        except SnmpUnreachable as exc:
            left = lambda: deadline - (time.monotonic() - started)  # noqa: E731
            if left() < settings.timeout + 0.2:
                raise
            try:
                answered = self.loop.run(settings, lambda client: client.answers(), left(), probe=True)
            except SnmpError:
                answered = False
            if not answered:
                raise exc from None
            if left() > settings.timeout + 0.2:
                try:
                    self.loop.run(settings, lambda client: client.get([oids.SYS_UPTIME]), left())
                except SnmpError:
                    pass
                else:
                    raise SnmpError(
                        f"{settings.describe()} answers a single GET but not the whole poll within "
                        f"{settings.timeout:g} s x {settings.retries + 1}: too slow or losing large answers "
                        "(raise snmp_timeout or lower snmp_max_repetitions)"
                    ) from None
            what = (
                "the community (snmp_community) is wrong or not allowed from this address"
                if settings.version != "3"
                else "the SNMPv3 privacy key or protocol (snmp_priv_key, snmp_priv_protocol) is probably wrong"
            )
            raise SnmpError(f"{settings.describe()} answers SNMP but not to our requests: {what}") from None


def snmp_session(target: Target) -> SnmpSession:
    """The connection factory registered under ``"snmp"`` (collector.reach.connections_for)."""
    return SnmpSession(target)
