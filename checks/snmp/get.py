"""snmp_get — any OIDs, each an item with optional thresholds, for everything no other check covers.

Numbers are compared with the thresholds (Nagios ranges: ``80`` alerts above 80, ``10:`` below 10);
counters can be turned into per-second rates; text values can be compared with an expected value.
"""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import BaseModel, ConfigDict, Field, field_validator

from checks.base import CheckContext, Outcome, metric
from checks.params import CheckParams
from checks.snmp import oids
from checks.snmp.base import SnmpCheck, text
from checks.status import Status
from checks.thresholds import Levels, UpperLimit

COUNTERS = {"Counter32": 32, "Counter64": 64}


class OidSpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)

    oid: str = Field(description="numeric OID of a scalar or table cell, e.g. 1.3.6.1.2.1.15.3.1.2.10.0.0.1")
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=60, description="item and metric name (snake_case)")
    warning: UpperLimit | None = Field(default=None, description="number or Nagios range to warn at")
    critical: UpperLimit | None = Field(default=None, description="number or Nagios range, critical")
    scale: float = Field(default=1.0, description="multiply the value by this (e.g. 0.1 for tenths of a degree)")
    rate: bool = Field(default=False, description="report a counter as a per-second rate between polls")
    expect: str | None = Field(default=None, description="a text value must equal this, else critical")

    @field_validator("oid")
    @classmethod
    def _numeric(cls, value: str) -> str:
        return oids.dotted(oids.parse(value))


class SnmpGetParams(CheckParams):
    oids: list[OidSpec] = Field(min_length=1, description="the OIDs to read, each with its name and thresholds")

    @field_validator("oids")
    @classmethod
    def _unique(cls, specs: list[OidSpec]) -> list[OidSpec]:
        names = [s.name for s in specs]
        duplicated = sorted({n for n in names if names.count(n) > 1})
        if duplicated:
            raise ValueError(f"each name must be unique: {', '.join(duplicated)} appear(s) more than once")
        return specs


class SnmpGetCheck(SnmpCheck):
    name = "snmp_get"
    title = "Any SNMP OIDs as items, with thresholds, counter rates or expected text"
    Params = SnmpGetParams
    metrics = {"value": "the OID's value (times scale; per second when rate is set); the item is its name"}
    example = (
        "- snmp_get: {oids: [{oid: 1.3.6.1.2.1.15.3.1.2.192.0.2.1, name: bgp_peer_state, warning: '6:6'}]}"
    )

    def poll(self, ctx: CheckContext, session, params: SnmpGetParams) -> Iterator[Outcome]:
        got = session.get([spec.oid for spec in params.oids], self.budget(ctx))
        for spec in params.oids:
            yield self.evaluate(ctx, spec, got.get(oids.parse(spec.oid)))

    @staticmethod
    def evaluate(ctx: CheckContext, spec: OidSpec, vb) -> Outcome:
        if vb is None or vb.value is None:
            kind = vb.kind if vb is not None else "no answer"
            return Outcome(item=spec.name, summary=f"{spec.oid}: {kind} (the device has no such OID)",
                           status=Status.UNKNOWN, collected=False)  # fmt: skip
        if not isinstance(vb.value, int):
            value = text(vb.value)
            if spec.expect is not None and value != spec.expect:
                return Outcome(item=spec.name, summary=f"{spec.oid} = {value!r}, expected {spec.expect!r}",
                               status=Status.CRITICAL)  # fmt: skip
            return Outcome(item=spec.name, summary=f"{spec.oid} = {value!r}")
        number = float(vb.value)
        unit = ""
        if spec.rate:
            width = COUNTERS.get(vb.kind)
            rates = ctx.rates.update(("snmp_get", ctx.target.name, spec.oid), {"v": vb.value}, width)
            if rates is None or rates["v"] is None:
                return Outcome(item=spec.name, summary=f"{spec.oid}: {vb.value} (a rate from the next poll on)")
            number, unit = rates["v"], "/s"
        number = round(number * spec.scale, 6)
        return Outcome(
            item=spec.name, summary=f"{spec.oid} = {number:g}{unit}",
            metrics=[metric("value", number, unit)],  # type: ignore[arg-type]
            levels={"value": Levels(spec.warning, spec.critical)},
        )  # fmt: skip
