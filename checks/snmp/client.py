"""An asyncio SNMP client: GET and subtree-bounded walks with numeric OIDs.

SNMPv3 goes through pysnmp 7 (v3arch: USM, authentication, privacy); SNMPv1/v2c through the small BER
codec in ``ber`` and ``udp``, which decodes an order of magnitude faster than pysnmp's pyasn1 (see
docs/snmp.md for the figures).

Values come back as plain Python: ``int`` for every integer type (Counter32/64, Gauge32, TimeTicks,
Integer), ``bytes`` for OCTET STRING, dotted ``str`` for OBJECT IDENTIFIER and IpAddress, and ``None``
for noSuchObject / noSuchInstance / endOfMibView. ``Varbind.kind`` keeps the SNMP type name where the
caller needs it (a Counter32 wraps at 2**32, a Counter64 does not).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pysnmp.hlapi.v3arch.asyncio import (
    ContextData,
    ObjectIdentity,
    ObjectType,
    SnmpEngine,
    UdpTransportTarget,
    UsmUserData,
    bulk_cmd,
    get_cmd,
    next_cmd,
)
from pysnmp.hlapi.v3arch.asyncio import auth as pysnmp_auth
from pysnmp.proto import errind

from checks.snmp import ber, oids
from checks.snmp.errors import SnmpError, SnmpUnreachable
from checks.snmp.oids import Table, Varbind
from checks.snmp.settings import SnmpSettings
from checks.snmp.udp import CommunityChannel

AUTH = {
    "MD5": pysnmp_auth.USM_AUTH_HMAC96_MD5,
    "SHA": pysnmp_auth.USM_AUTH_HMAC96_SHA,
    "SHA224": pysnmp_auth.USM_AUTH_HMAC128_SHA224,
    "SHA256": pysnmp_auth.USM_AUTH_HMAC192_SHA256,
    "SHA384": pysnmp_auth.USM_AUTH_HMAC256_SHA384,
    "SHA512": pysnmp_auth.USM_AUTH_HMAC384_SHA512,
}
PRIV = {
    "DES": pysnmp_auth.USM_PRIV_CBC56_DES,
    "3DES": pysnmp_auth.USM_PRIV_CBC168_3DES,
    "AES": pysnmp_auth.USM_PRIV_CFB128_AES,
    # net-snmp's AES192/AES256 extend the key as Blumenthal's draft does (its "AES192C" is Cisco's way).
    "AES192": pysnmp_auth.USM_PRIV_CFB192_AES_BLUMENTHAL,
    "AES256": pysnmp_auth.USM_PRIV_CFB256_AES_BLUMENTHAL,
}
# Walks stop here even if the device keeps answering inside the subtree (a broken agent looping on
# increasing OIDs): 100,000 rows is far beyond any real table Patrol reads.
MAX_ROWS = 100_000
# A GETBULK asks for columns x repetitions varbinds; keep a response well inside one UDP datagram.
MAX_VARBINDS_PER_REQUEST = 400


def convert(value: Any) -> tuple[Any, str]:
    kind = value.__class__.__name__
    if kind in ("NoSuchObject", "NoSuchInstance", "EndOfMibView", "Null"):
        return None, kind
    if kind in ("OctetString", "Opaque", "Bits"):
        return bytes(value), kind
    if kind == "ObjectIdentifier":
        return oids.dotted(tuple(value)), kind
    if kind == "IpAddress":
        return ".".join(str(b) for b in bytes(value)), kind
    return int(value), kind


def explain(indication: Any, settings: SnmpSettings) -> SnmpError:
    """Map pysnmp's errorIndication to our two failure kinds, with a reason a duty engineer can act on."""
    if isinstance(indication, errind.RequestTimedOut):
        tries = settings.retries + 1
        return SnmpUnreachable(
            f"no SNMP answer from {settings.endpoint} ({tries} tr{'y' if tries == 1 else 'ies'} of "
            f"{settings.timeout:g} s)"
        )
    reasons = {
        errind.WrongDigest: "wrong SNMPv3 authentication key or protocol (snmp_auth_key, snmp_auth_protocol)",
        errind.UnknownUserName: f"the device does not know SNMPv3 user {settings.user!r} (snmp_user)",
        errind.UnsupportedSecurityLevel: f"the device does not accept security level {settings.security_level} "
        f"for user {settings.user!r}",
        errind.DecryptionError: "wrong SNMPv3 privacy key or protocol (snmp_priv_key, snmp_priv_protocol)",
        errind.NotInTimeWindow: "SNMPv3 message outside the device's time window (engine boots/time)",
        errind.UnknownEngineID: "SNMPv3 engine ID discovery failed",
    }
    for kind, reason in reasons.items():
        if isinstance(indication, kind):
            return SnmpError(f"{settings.describe()}: {reason}")
    return SnmpError(f"{settings.describe()}: {indication}")


class _ColumnEnded(Exception):
    def __init__(self, position: int) -> None:
        self.position = position


Answer = tuple[int, int, list[tuple[oids.OID, Any, str]]]  # error status, error index, varbinds


class SnmpClient:
    """One device, on one event loop (and pysnmp engine for v3). Use it from its loop only; close it."""

    def __init__(self, engine: SnmpEngine | None, settings: SnmpSettings) -> None:
        self.engine = engine
        self.settings = settings
        self._transport: UdpTransportTarget | None = None
        self._channel: CommunityChannel | None = None
        if settings.version == "3":
            self._context = ContextData(contextName=settings.context.encode())
            self._auth: Any = UsmUserData(
                settings.user,
                authKey=settings.auth_key,
                privKey=settings.priv_key,
                authProtocol=AUTH[settings.auth_protocol] if settings.auth_protocol else None,
                privProtocol=PRIV[settings.priv_protocol] if settings.priv_protocol else None,
            )
        else:
            self._channel = CommunityChannel(settings)

    def close(self) -> None:
        if self._channel is not None:
            self._channel.close()

    async def transport(self) -> UdpTransportTarget:
        if self._transport is None:
            try:
                self._transport = await UdpTransportTarget.create(
                    (self.settings.address, self.settings.port),
                    timeout=self.settings.timeout,
                    retries=self.settings.retries,
                )
            except Exception as exc:  # noqa: BLE001 - pysnmp raises PySnmpError for a name it cannot resolve
                raise SnmpUnreachable(f"cannot resolve {self.settings.address}: {exc}") from None
        return self._transport

    async def _exchange(self, pdu: int, wanted: list[oids.OID], repetitions: int = 0) -> Answer:
        """One request and its answer, whichever protocol stack the version needs."""
        if self._channel is not None:
            return await self._channel.request(pdu, wanted, 0, repetitions)
        request = [ObjectType(ObjectIdentity(oids.dotted(o))) for o in wanted]
        transport = await self.transport()
        if pdu == ber.GET:
            answer = await get_cmd(self.engine, self._auth, transport, self._context, *request, lookupMib=False)
        elif pdu == ber.GET_NEXT:
            answer = await next_cmd(self.engine, self._auth, transport, self._context, *request, lookupMib=False)
        else:
            answer = await bulk_cmd(
                self.engine, self._auth, transport, self._context, 0, repetitions, *request, lookupMib=False
            )
        indication, status, index, varbinds = answer
        if indication:
            raise explain(indication, self.settings)
        converted = []
        for name, value in varbinds:
            python, kind = convert(value)
            converted.append((tuple(name), python, kind))
        return int(status), int(index), converted

    def _status_error(self, status: int, bad: oids.OID | None) -> SnmpError:
        where = f" at {oids.dotted(bad)}" if bad else ""
        name = ber.ERROR_STATUS.get(status, str(status))
        return SnmpError(f"{self.settings.describe()}: the device answered {name}{where}")

    async def get(self, wanted: Sequence[str | oids.OID]) -> dict[oids.OID, Varbind]:
        """GET the given OIDs. A missing one comes back with value None (noSuchObject), not an error."""
        pending = [oids.parse(o) for o in wanted]
        out: dict[oids.OID, Varbind] = {}
        while pending:
            status, index, varbinds = await self._exchange(ber.GET, pending)
            if status:
                bad = pending[index - 1] if 0 < index <= len(pending) else None
                if self.settings.version == "1" and status == 2 and bad:
                    # SNMPv1 fails the whole request for one missing OID: note it and ask for the rest.
                    out[bad] = Varbind(bad, None, "NoSuchName")
                    pending.remove(bad)
                    continue
                raise self._status_error(status, bad)
            for oid, value, kind in varbinds:
                out[oid] = Varbind(oid, value, kind)
            break
        return out

    async def walk(self, roots: Sequence[str | oids.OID]) -> dict[oids.OID, Table]:
        """Walk every subtree in ``roots`` together, each bounded to its own subtree.

        One GETBULK (GETNEXT for SNMPv1) carries every unfinished column, so a table of N columns costs
        about rows / max_repetitions round trips, not N times that. A column ends at the first OID
        outside its subtree, at endOfMibView, or where the device returns an OID that does not increase
        (a broken agent would otherwise loop forever).
        """
        parsed = list(dict.fromkeys(oids.parse(r) for r in roots))
        tables: dict[oids.OID, Table] = {root: {} for root in parsed}
        position = {root: root for root in parsed}
        active = list(parsed)
        rows = 0
        while active and rows < MAX_ROWS:
            try:
                varbinds = await self._next_batch(active, position)
            except _ColumnEnded as ended:
                del active[ended.position]
                continue
            width = len(active)
            finished: set[oids.OID] = set()
            for i, (oid, value, kind) in enumerate(varbinds):
                root = active[i % width]
                if root in finished:
                    continue
                if kind == "EndOfMibView" or oid[: len(root)] != root or len(oid) <= len(root) or oid <= position[root]:
                    finished.add(root)
                    continue
                position[root] = oid
                index = oid[len(root) :]
                tables[root][index] = Varbind(oid, value, kind)
                rows += 1
            if not varbinds:  # an empty answer would otherwise repeat the same request forever
                finished.update(active)
            active = [root for root in active if root not in finished]
        return tables

    async def _next_batch(self, active: list[oids.OID], position: dict[oids.OID, oids.OID]) -> list:
        request = [position[root] for root in active]
        if self.settings.version == "1":
            status, index, varbinds = await self._exchange(ber.GET_NEXT, request)
        else:
            repetitions = max(1, min(self.settings.max_repetitions, MAX_VARBINDS_PER_REQUEST // len(active)))
            status, index, varbinds = await self._exchange(ber.GET_BULK, request, repetitions)
        if status:
            if self.settings.version == "1" and status == 2 and 0 < index <= len(active):
                # SNMPv1 ends the MIB view by failing the whole request: that column is done, ask again
                # for the others.
                raise _ColumnEnded(index - 1)
            raise self._status_error(status, None)
        return varbinds

    async def answers(self) -> bool:
        """Does anything at the address speak SNMP? An SNMPv3 discovery gets a report from any agent,
        whatever its communities or users, so a timeout can be told apart from a dead device."""
        probe = UsmUserData("patrol-probe")
        transport = await UdpTransportTarget.create(
            (self.settings.address, self.settings.port), timeout=self.settings.timeout, retries=0
        )
        indication, *_ = await get_cmd(
            self.engine, probe, transport, ContextData(), ObjectType(ObjectIdentity(oids.SYS_UPTIME)),
            lookupMib=False,
        )  # fmt: skip
        return not isinstance(indication, errind.RequestTimedOut)
