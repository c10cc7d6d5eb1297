"""snmp_interfaces — per interface: oper status where admin is up, error and discard rates, utilisation.

Counters become rates through ``ctx.rates`` (checks.rates): the 64-bit ifHC*Octets where the device
has them, else the 32-bit ifIn/OutOctets, which wrap (at 1 Gbit/s every 34 s, so poll often or use
HC counters). A device restart (sysUpTime went back) or an ifIndex now holding another interface
resets the counters: no rate is given for that interval instead of a huge bogus one.
"""

from __future__ import annotations

import fnmatch
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from pydantic import Field, PositiveFloat, field_validator

from checks.base import CheckContext, Outcome, metric
from checks.params import CheckParams
from checks.snmp import oids
from checks.snmp.base import SnmpCheck, text
from checks.snmp.system import rebooted
from checks.status import Status
from checks.thresholds import Levels, UpperLimit
from checks.units import format_bytes

# IANAifType numbers by name, for include_types / exclude_types (either form is accepted).
IF_TYPES = {
    "other": 1, "ethernetCsmacd": 6, "iso88023Csmacd": 7, "fddi": 15, "ppp": 23, "softwareLoopback": 24,
    "propPointToPointSerial": 22, "frameRelay": 32, "atm": 37, "propVirtual": 53, "ieee80211": 71,
    "tunnel": 131, "l2vlan": 135, "l3ipvlan": 136, "mpls": 166, "ieee8023adLag": 161, "bridge": 209,
}  # fmt: skip
OPER = {1: "up", 2: "down", 3: "testing", 4: "unknown", 5: "dormant", 6: "notPresent", 7: "lowerLayerDown"}
ADMIN = {1: "up", 2: "down", 3: "testing"}
SPEED_SATURATED = 2**32 - 1  # ifSpeed's ceiling: the real speed is in ifHighSpeed

COLUMNS = (
    oids.IF_DESCR, oids.IF_TYPE, oids.IF_SPEED, oids.IF_ADMIN_STATUS, oids.IF_OPER_STATUS,
    oids.IF_IN_OCTETS, oids.IF_IN_DISCARDS, oids.IF_IN_ERRORS, oids.IF_OUT_OCTETS, oids.IF_OUT_DISCARDS,
    oids.IF_OUT_ERRORS, oids.IF_NAME, oids.IF_HC_IN_OCTETS, oids.IF_HC_OUT_OCTETS, oids.IF_HIGH_SPEED,
    oids.IF_ALIAS,
)  # fmt: skip


def if_type(value: int | str) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    if value in IF_TYPES:
        return IF_TYPES[value]
    raise ValueError(f"unknown interface type {value!r}: use an IANAifType number or one of {', '.join(IF_TYPES)}")


class SnmpInterfacesParams(CheckParams):
    include: list[str] = Field(default_factory=list, description="interface name patterns to check (default: all)")
    exclude: list[str] = Field(default_factory=list, description="interface name patterns to skip")
    include_types: list[int | str] = Field(
        default_factory=list, description="ifType numbers or names (ethernetCsmacd, ieee8023adLag ...) to check"
    )
    exclude_types: list[int | str] = Field(
        default_factory=lambda: ["softwareLoopback"], description="ifType numbers or names to skip"
    )
    errors_warning: UpperLimit | None = Field(default=1, description="errors per second (in + out) to warn at")
    errors_critical: UpperLimit | None = Field(default=10, description="errors per second to be critical at")
    discards_warning: UpperLimit | None = Field(default=10, description="discards per second (in + out) to warn at")
    discards_critical: UpperLimit | None = Field(default=100, description="discards per second, critical")
    utilisation_warning: UpperLimit | None = Field(
        default=90, description="% of link speed (busier direction) to warn at, where the speed is known"
    )
    utilisation_critical: UpperLimit | None = Field(default=None, description="% of link speed, critical")
    oper_down: Status = Field(
        default=Status.CRITICAL,
        description="status of an interface that is administratively up but not operationally up",
    )
    interval: PositiveFloat = Field(
        default=10.0, le=120, description="seconds between the two samples of a one-shot run (no previous poll)"
    )

    @field_validator("include_types", "exclude_types")
    @classmethod
    def _types(cls, values: list[int | str]) -> list[int | str]:
        for value in values:
            if_type(value)  # raises with the known names
        return values


@dataclass(frozen=True)
class Interface:
    index: int
    name: str
    type: int
    admin: int
    oper: int
    speed_bps: float  # 0 when unknown
    alias: str
    counters32: Mapping[str, int]  # errors, discards, and the octets where no HC counters exist
    counters64: Mapping[str, int]  # HC octets


def build_interfaces(tables: Mapping[oids.OID, Mapping[oids.OID, object]]) -> list[Interface]:
    """Join the walked columns by ifIndex. ``tables`` maps each column OID to {index: Varbind}."""

    columns = {oid: tables.get(oids.parse(oid), {}) for oid in COLUMNS}  # parsed once, not per value

    def column(oid: str) -> Mapping[oids.OID, object]:
        return columns[oid]

    def value(oid: str, index: oids.OID):
        vb = columns[oid].get(index)
        return None if vb is None else vb.value

    indexes = sorted(set(column(oids.IF_DESCR)) | set(column(oids.IF_NAME)) | set(column(oids.IF_OPER_STATUS)))
    out = []
    for index in indexes:
        if len(index) != 1:
            continue
        name = text(value(oids.IF_NAME, index)) or text(value(oids.IF_DESCR, index)) or f"ifIndex {index[0]}"
        high = value(oids.IF_HIGH_SPEED, index)
        low = value(oids.IF_SPEED, index)
        if isinstance(high, int) and high > 0:
            speed = high * 1_000_000.0
        elif isinstance(low, int) and 0 < low < SPEED_SATURATED:
            speed = float(low)
        else:
            speed = 0.0
        c32 = {}
        for key, oid in (("in_errors", oids.IF_IN_ERRORS), ("out_errors", oids.IF_OUT_ERRORS),
                         ("in_discards", oids.IF_IN_DISCARDS), ("out_discards", oids.IF_OUT_DISCARDS)):  # fmt: skip
            v = value(oid, index)
            if isinstance(v, int):
                c32[key] = v
        c64 = {}
        hc_in, hc_out = value(oids.IF_HC_IN_OCTETS, index), value(oids.IF_HC_OUT_OCTETS, index)
        if isinstance(hc_in, int) and isinstance(hc_out, int):
            c64 = {"in_octets": hc_in, "out_octets": hc_out}
        else:
            lo_in, lo_out = value(oids.IF_IN_OCTETS, index), value(oids.IF_OUT_OCTETS, index)
            if isinstance(lo_in, int) and isinstance(lo_out, int):
                c32.update(in_octets=lo_in, out_octets=lo_out)
        out.append(
            Interface(
                index=index[0], name=name, type=_int(value(oids.IF_TYPE, index)),
                admin=_int(value(oids.IF_ADMIN_STATUS, index)), oper=_int(value(oids.IF_OPER_STATUS, index)),
                speed_bps=speed, alias=text(value(oids.IF_ALIAS, index)), counters32=c32, counters64=c64,
            )  # fmt: skip
        )
    return out


def _int(value: object) -> int:
    return value if isinstance(value, int) else 0


class SnmpInterfacesCheck(SnmpCheck):
    name = "snmp_interfaces"
    title = "Network device interfaces over SNMP: oper status, error and discard rates, utilisation"
    Params = SnmpInterfacesParams
    metrics = {
        "up": "1 when the interface is operationally up, else 0",
        "errors": "in + out errors per second (ifInErrors + ifOutErrors)",
        "discards": "in + out discarded packets per second (ifInDiscards + ifOutDiscards)",
        "rx": "bytes received per second (ifHCInOctets, or ifInOctets)",
        "tx": "bytes sent per second (ifHCOutOctets, or ifOutOctets)",
        "utilisation": "busier direction's throughput as a share of ifHighSpeed (or ifSpeed) (%)",
    }
    example = "- snmp_interfaces: {include: ['Gi*', 'Te*'], exclude_types: [softwareLoopback, l2vlan]}"

    def poll(self, ctx: CheckContext, session, params: SnmpInterfacesParams) -> Iterator[Outcome]:
        device_key = ("snmp_interfaces", ctx.target.name)
        if ctx.rates.previous(device_key) is None:
            # A one-shot run holds no previous sample: take one now and the second after ``interval``.
            self.sample(ctx, session, device_key)
            time.sleep(max(0.0, min(params.interval, ctx.remaining() - 2 * session.settings.timeout - 1)))
        interfaces, rates = self.sample(ctx, session, device_key)
        chosen = [i for i in interfaces if self.wanted(i, params)]
        if not chosen:
            yield Outcome(summary="no interface matches the include/exclude settings", status=Status.UNKNOWN)
            return
        names = [i.name for i in chosen]
        for interface in chosen:
            item = interface.name if names.count(interface.name) == 1 else f"{interface.name} ({interface.index})"
            yield self.evaluate(item, interface, rates.get(interface.index), params)

    def sample(self, ctx: CheckContext, session, device_key) -> tuple[list[Interface], dict[int, dict]]:
        """One poll of the interface tables; rates against the previous poll, where one is usable."""
        scalars, tables = session.get_and_walk([oids.SYS_UPTIME], COLUMNS, self.budget(ctx))
        ticks = scalars.get(oids.parse(oids.SYS_UPTIME))
        ticks = ticks.value if ticks is not None and isinstance(ticks.value, int) else None
        previous = ctx.rates.previous(device_key)
        restarted = False
        if previous is not None and ticks is not None:
            elapsed = ctx.rates.clock() - previous.at
            restarted = rebooted(previous.values.get("ticks"), ticks, elapsed)
        ctx.rates.update(device_key, {"ticks": ticks} if ticks is not None else {})
        interfaces = build_interfaces(tables)
        rates: dict[int, dict] = {}
        for i in interfaces:
            # The name is part of the key: after a reload an ifIndex may hold another interface.
            key = ("snmp_if", ctx.target.name, i.index, i.name)
            r32 = ctx.rates.update(key + (32,), i.counters32, 32, restarted)
            r64 = ctx.rates.update(key + (64,), i.counters64, 64, restarted)
            if r32 is not None and (r64 is not None or not i.counters64):
                rates[i.index] = {**r32, **(r64 or {})}
        return interfaces, rates

    @staticmethod
    def wanted(interface: Interface, params: SnmpInterfacesParams) -> bool:
        if params.include and not any(fnmatch.fnmatchcase(interface.name, p) for p in params.include):
            return False
        if any(fnmatch.fnmatchcase(interface.name, p) for p in params.exclude):
            return False
        if params.include_types and interface.type not in {if_type(t) for t in params.include_types}:
            return False
        return interface.type not in {if_type(t) for t in params.exclude_types}

    @staticmethod
    def evaluate(item: str, i: Interface, rates: Mapping[str, float | None] | None, params) -> Outcome:
        label = f" ({i.alias})" if i.alias else ""
        if i.admin != 1:
            state = ADMIN.get(i.admin, str(i.admin))
            return Outcome(item=item, summary=f"administratively {state}{label}", metrics=[metric("up", 0)])
        if i.oper not in (1, 5):  # dormant (5) is a healthy state for dial-on-demand and standby links
            state = OPER.get(i.oper, str(i.oper))
            return Outcome(
                item=item, summary=f"oper status {state}, admin up{label}", metrics=[metric("up", 0)],
                status=params.oper_down,
            )  # fmt: skip
        figures = [metric("up", 1)]
        summary = "up" + (f", {i.speed_bps / 1e6:g} Mbit/s" if i.speed_bps else "") + label
        needed = ("in_errors", "out_errors", "in_discards", "out_discards", "in_octets", "out_octets")
        if not rates or any(rates.get(k) is None for k in needed):
            return Outcome(item=item, summary=summary + "; no rates this time (first poll or counters reset)",
                           metrics=figures)  # fmt: skip
        errors = rates["in_errors"] + rates["out_errors"]
        discards = rates["in_discards"] + rates["out_discards"]
        rx, tx = rates["in_octets"], rates["out_octets"]
        figures += [
            metric("errors", round(errors, 3), "/s"),
            metric("discards", round(discards, 3), "/s"),
            metric("rx", round(rx, 1), "B/s"),
            metric("tx", round(tx, 1), "B/s"),
        ]
        levels = {
            "errors": Levels(params.errors_warning, params.errors_critical),
            "discards": Levels(params.discards_warning, params.discards_critical),
        }
        summary += f", rx {format_bytes(rx)}/s, tx {format_bytes(tx)}/s, {errors:g} err/s, {discards:g} discard/s"
        if i.speed_bps > 0:
            utilisation = round(100.0 * max(rx, tx) * 8 / i.speed_bps, 2)
            figures.append(metric("utilisation", utilisation, "%"))
            levels["utilisation"] = Levels(params.utilisation_warning, params.utilisation_critical)
        return Outcome(item=item, summary=summary, metrics=figures, levels=levels)
