"""snmp_environment — a network device's sensors, fans and power supplies over SNMP.

Two sources, both read in one walk: the standard ENTITY-SENSOR-MIB (RFC 3433) sensor table, with each
reading scaled by its entPhySensorScale and entPhySensorPrecision and named by entPhysicalName, and the
vendor environment tables the device's profile lists (CISCO-ENVMON-MIB, HUAWEI-ENTITY-EXTENT-MIB ...),
with the device's own thresholds and states. The profile is the snmp_device one, chosen by sysObjectID
(checks/snmp/profiles/*.yaml, site-extensible, see checks.snmp.vendor); a profile without an
``environment`` uses the fallback's (ENTITY-SENSOR-MIB only).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping

from pydantic import Field

from checks.base import CheckContext, Outcome, metric
from checks.errors import CheckUnavailable, ConfigError
from checks.params import CheckParams
from checks.snmp import oids, vendor
from checks.snmp.base import SnmpCheck, text
from checks.snmp.oids import OID, Table
from checks.status import Status
from checks.thresholds import Levels, LowerLimit, Range, UpperLimit
from checks.units import format_value

# ENTITY-SENSOR-MIB entPhySensorTable (1.3.6.1.2.1.99.1.1) columns, indexed by entPhysicalIndex
SENSOR_TYPE = "1.3.6.1.2.1.99.1.1.1.1"
SENSOR_SCALE = "1.3.6.1.2.1.99.1.1.1.2"
SENSOR_PRECISION = "1.3.6.1.2.1.99.1.1.1.3"
SENSOR_VALUE = "1.3.6.1.2.1.99.1.1.1.4"
SENSOR_OPER_STATUS = "1.3.6.1.2.1.99.1.1.1.5"
# ENTITY-MIB entPhysicalTable names
ENT_PHYSICAL_DESCR = "1.3.6.1.2.1.47.1.1.1.1.2"
ENT_PHYSICAL_NAME = "1.3.6.1.2.1.47.1.1.1.1.7"

# EntitySensorDataScale -> power of ten. RFC 3433 lists exa(14) before peta(15); the values say so.
SCALE_EXPONENT = {1: -24, 2: -21, 3: -18, 4: -15, 5: -12, 6: -9, 7: -6, 8: -3, 9: 0, 10: 3, 11: 6, 12: 9,
                  13: 12, 14: 18, 15: 15, 16: 21, 17: 24}  # fmt: skip
# EntitySensorDataType -> (metric, unit, what); other(1), unknown(2), hertz(7), cmm(11), truthvalue(12)
# have no unit of ours and are published as "sensor_value".
SENSOR_KINDS = {
    3: ("voltage", "V", "voltage (AC)"),
    4: ("voltage", "V", "voltage (DC)"),
    5: ("current", "A", "current"),
    6: ("power", "W", "power"),
    8: ("temperature", "C", "temperature"),
    9: ("humidity", "%", "relative humidity"),
    10: ("fan_speed", "rpm", "fan speed"),
}
OTHER_KINDS = {1: "other", 2: "unknown", 7: "frequency (Hz)", 11: "air flow (ft³/min)", 12: "truth value"}
OPER_STATUS = {1: "ok", 2: "unavailable", 3: "nonoperational"}
STATE_STATUS = {"ok": Status.OK, "warning": Status.WARNING, "critical": Status.CRITICAL, "unknown": Status.UNKNOWN}


class SnmpEnvironmentParams(CheckParams):
    temperature_warning: UpperLimit | None = Field(
        default=None, description="°C above which a temperature warns (default: none; the device's state still counts)"
    )
    temperature_critical: UpperLimit | None = Field(
        default=None, description="°C above which a temperature is critical, instead of the device's own threshold"
    )
    fan_warning: LowerLimit | None = Field(default=None, description="fan speed (rpm or %) below which to warn")
    fan_critical: LowerLimit | None = Field(default=None, description="fan speed below which the fan is critical")
    report_absent: bool = Field(default=False, description="report parts the device says are not present as OK")
    profile: str | None = Field(default=None, description="use this profile instead of choosing by sysObjectID")
    profile_dirs: list[str] = Field(
        default_factory=list, description="directories with extra or overriding profile YAML files"
    )


def number(vb: oids.Varbind | None) -> int | None:
    return vb.value if vb is not None and isinstance(vb.value, int) and not isinstance(vb.value, bool) else None


def scaled(value: int, scale: int | None, precision: int | None) -> float:
    """entPhySensorValue in its unit: value × 10^(3·scale) × 10^(−precision), rounded to what it says."""
    exponent = SCALE_EXPONENT.get(scale or 9, 0) - (precision or 0)
    result = value * (10.0**exponent)
    return round(result, max(0, -exponent) + 3) if exponent < 0 else result


def above(limit: Range | None) -> Range | None:
    """A plain-number temperature limit means "above it": its range does not alert below 0 °C."""
    if limit is not None and not limit.inside and limit.start == 0 and limit.end != math.inf:
        return Range(-math.inf, limit.end)
    return limit


class Names:
    """Items unique within one run: a repeated name gets its index."""

    def __init__(self) -> None:
        self.seen: set[str] = set()

    def unique(self, name: str, index: OID) -> str:
        if name in self.seen:
            name = f"{name} #{oids.dotted(index)}"
        self.seen.add(name)
        return name


def entity_name(tables: Mapping[OID, Table], index: OID) -> str | None:
    for column in (ENT_PHYSICAL_NAME, ENT_PHYSICAL_DESCR):
        vb = tables.get(oids.parse(column), {}).get(index)
        name = text(vb.value) if vb is not None and vb.value is not None else ""
        if name:
            return name
    return None


def roots(environment: vendor.Environment) -> list[str]:
    out: list[str] = []
    if environment.entity_sensors:
        out += [SENSOR_TYPE, SENSOR_SCALE, SENSOR_PRECISION, SENSOR_VALUE, SENSOR_OPER_STATUS]
    if environment.entity_sensors or any(t.entity_index and not t.name for t in environment.tables):
        out += [ENT_PHYSICAL_NAME, ENT_PHYSICAL_DESCR]
    for table in environment.tables:
        out += [c for c in (table.name, table.value, table.critical, table.warning, table.state, table.present) if c]
    return list(dict.fromkeys(out))


class SnmpEnvironmentCheck(SnmpCheck):
    name = "snmp_environment"
    title = "Network device sensors, fans and power supplies over SNMP (ENTITY-SENSOR-MIB, Cisco, Huawei profiles)"
    Params = SnmpEnvironmentParams
    metrics = {
        "temperature": "a temperature (°C), against the device's own threshold unless overridden",
        "fan_speed": "a fan's speed (rpm, or % of full speed where the device says so)",
        "voltage": "an ENTITY-SENSOR-MIB voltage sensor (V)",
        "current": "an ENTITY-SENSOR-MIB current sensor (A)",
        "power": "an ENTITY-SENSOR-MIB power sensor, or a power supply's reading where a profile has one (W)",
        "humidity": "an ENTITY-SENSOR-MIB relative humidity sensor (%)",
        "sensor_value": "an ENTITY-SENSOR-MIB sensor of another kind (Hz, ft³/min, truth value), scaled",
    }
    example = "- snmp_environment: {temperature_warning: 55}"

    def poll(self, ctx: CheckContext, session, params: SnmpEnvironmentParams) -> Iterator[Outcome]:
        try:
            profiles = vendor.load_profiles(params.profile_dirs)
        except ConfigError as exc:
            raise CheckUnavailable(f"invalid SNMP profiles: {exc}") from None
        got = session.get([oids.SYS_OBJECT_ID], self.budget(ctx))
        sys_object_id = got.get(oids.parse(oids.SYS_OBJECT_ID))
        sys_object_id = text(sys_object_id.value) if sys_object_id and sys_object_id.value else None
        try:
            profile = vendor.choose(profiles, sys_object_id, params.profile)
        except ConfigError as exc:
            raise CheckUnavailable(str(exc)) from None
        source = profile
        if profile.environment is None:
            source = profiles[vendor.FALLBACK]
        environment = source.environment or vendor.Environment()
        tables = session.walk(roots(environment), self.budget(ctx))
        names = Names()
        outcomes = []
        if environment.entity_sensors:
            outcomes += list(self.entity_sensors(tables, params, names))
        for table in environment.tables:
            outcomes += list(self.vendor_table(table, tables, params, names))
        if not outcomes:
            yield Outcome(item="environment", status=Status.UNKNOWN, collected=False,
                          summary=f"the device reports no environment sensors (profile {source.name})")  # fmt: skip
            return
        yield from outcomes

    # -- ENTITY-SENSOR-MIB ------------------------------------------------------------------------

    def entity_sensors(self, tables: Mapping[OID, Table], params: SnmpEnvironmentParams,
                       names: Names) -> Iterator[Outcome]:  # fmt: skip
        column = lambda oid: tables.get(oids.parse(oid), {})  # noqa: E731
        kinds, scales, precisions = column(SENSOR_TYPE), column(SENSOR_SCALE), column(SENSOR_PRECISION)
        values, statuses = column(SENSOR_VALUE), column(SENSOR_OPER_STATUS)
        for index in sorted(set(kinds) | set(values)):
            kind = number(kinds.get(index))
            raw = number(values.get(index))
            oper = number(statuses.get(index))
            name = entity_name(tables, index) or f"sensor {oids.dotted(index)}"
            item = names.unique(name, index)
            state = OPER_STATUS.get(oper or 0, f"status {oper}")
            if oper == 2 or raw is None:
                yield Outcome(item=item, summary=f"{name}: the sensor's value is unavailable", status=Status.UNKNOWN,
                              collected=False)  # fmt: skip
                continue
            value = scaled(raw, number(scales.get(index)), number(precisions.get(index)))
            metric_name, unit, what = SENSOR_KINDS.get(kind or 0, ("sensor_value", "", OTHER_KINDS.get(kind or 0, "?")))
            levels: dict[str, Levels] = {}
            if metric_name == "temperature":
                levels["temperature"] = Levels(above(params.temperature_warning), above(params.temperature_critical))
            elif metric_name == "fan_speed":
                levels["fan_speed"] = Levels(params.fan_warning, params.fan_critical)
            status = Status.CRITICAL if oper == 3 else Status.OK
            summary = f"{name}: {what} {format_value(value, unit)}, sensor {state}"
            yield Outcome(item=item, summary=summary, metrics=[metric(metric_name, value, unit)],  # type: ignore[arg-type]
                          levels=levels, status=status)  # fmt: skip

    # -- vendor tables ----------------------------------------------------------------------------

    def vendor_table(self, table: vendor.EnvTable, tables: Mapping[OID, Table], params: SnmpEnvironmentParams,
                     names: Names) -> Iterator[Outcome]:  # fmt: skip
        column = lambda oid: tables.get(oids.parse(oid), {}) if oid else {}  # noqa: E731
        name_col, value_col = column(table.name), column(table.value)
        critical_col, warning_col = column(table.critical), column(table.warning)
        state_col, present_col = column(table.state), column(table.present)
        metric_name, default_unit = {"temperature": ("temperature", "C"), "fan": ("fan_speed", "rpm"),
                                     "supply": ("power", "W")}[table.kind]  # fmt: skip
        unit = table.unit or default_unit
        for index in sorted(set(name_col) | set(value_col) | set(state_col)):
            if table.name:
                vb = name_col.get(index)
                name = text(vb.value) if vb is not None else ""
            elif table.entity_index:
                name = entity_name(tables, index) or ""
            else:
                name = ""
            name = name or "/".join(str(n) for n in index)
            reading = number(value_col.get(index))
            if table.value and (reading is None or reading in table.no_reading) and not state_col:
                continue  # an entity without this sensor (a Huawei port or fan tray reading 0)
            if table.value and reading in table.no_reading:
                reading = None
            state_value = number(state_col.get(index))
            meaning = table.states.get(state_value, "unknown") if state_value is not None else None
            there = number(present_col.get(index))
            absent = meaning == "absent" or (there is not None and there not in table.present_values)
            item = names.unique(f"{table.label} {name}", index)
            if absent:
                if params.report_absent:
                    yield Outcome(item=item, summary=f"{table.label} {name}: not present", status=Status.OK)
                continue
            facts = []
            status = Status.OK
            if meaning is not None:
                status = STATE_STATUS[meaning]
                said = table.state_names.get(state_value)  # type: ignore[arg-type]
                facts.append(f"state {said} ({meaning})" if said and said != meaning else f"state {meaning}" + (
                    f" ({state_value})" if meaning == "unknown" else ""))  # fmt: skip
            figures, levels = [], {}
            if reading is not None:
                figures.append(metric(metric_name, float(reading), unit))  # type: ignore[arg-type]
                facts.insert(0, format_value(float(reading), unit))
                if table.kind == "temperature":
                    device_warning = number(warning_col.get(index))
                    device_critical = number(critical_col.get(index))
                    warning = above(params.temperature_warning) or (
                        Range(-math.inf, device_warning) if device_warning not in (None, 0) else None)
                    critical = above(params.temperature_critical) or (
                        Range(-math.inf, device_critical) if device_critical not in (None, 0) else None)
                    if device_critical not in (None, 0):
                        facts.append(f"device threshold {format_value(float(device_critical), 'C')}")
                    levels[metric_name] = Levels(warning, critical)
                elif table.kind == "fan":
                    levels[metric_name] = Levels(params.fan_warning, params.fan_critical)
            elif table.value and not facts:
                continue
            yield Outcome(item=item, summary=f"{table.label} {name}: {', '.join(facts) or 'no reading'}",
                          metrics=figures, levels=levels, status=status)  # fmt: skip
