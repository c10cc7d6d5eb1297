"""redfish_health — a server's hardware through its BMC (iDRAC, iLO, XCC, iBMC ...) over Redfish.

Per chassis: temperatures against the thresholds the BMC publishes for each sensor, fans (health
and reading), power supplies (``PowerSubsystem`` where the BMC has it, else ``Power``). Per system:
the health rollup, storage controllers and drives (health, predicted failure). One item each.

A BMC that does not answer is CRITICAL (as an unreachable host is); one that refuses the credentials,
fails the TLS pin or answers nonsense is UNKNOWN with the reason. A part that cannot be read (a
resource the BMC links to but fails to serve) is one UNKNOWN item; the other parts are still reported.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from typing import Any

from pydantic import Field

from checks.base import Check, CheckContext, Outcome, metric
from checks.middleware.http import (
    EndpointConfigError,
    EndpointDenied,
    EndpointError,
    EndpointUnreachable,
)
from checks.params import CheckParams
from checks.redfish.client import RedfishClient
from checks.status import Status
from checks.thresholds import Levels, LowerLimit, Range, UpperLimit
from checks.units import format_value

HEALTH = {"OK": Status.OK, "Warning": Status.WARNING, "Critical": Status.CRITICAL}
ABSENT = ("Absent",)


class RedfishHealthParams(CheckParams):
    temperature_warning: UpperLimit | None = Field(
        default=None, description="°C above which a temperature warns, instead of the BMC's UpperThresholdNonCritical"
    )
    temperature_critical: UpperLimit | None = Field(
        default=None,
        description="°C above which a temperature is critical, instead of the BMC's UpperThresholdCritical",
    )
    fan_warning: LowerLimit | None = Field(
        default=None, description="fan speed (the fan's own unit) below which to warn, instead of the BMC's"
    )
    fan_critical: LowerLimit | None = Field(
        default=None, description="fan speed below which the fan is critical, instead of the BMC's"
    )
    storage: bool = Field(default=True, description="check storage controllers and drives")
    report_absent: bool = Field(
        default=False, description="report empty bays (absent power supplies, drives) as OK items instead of skipping"
    )


def health_of(document: dict[str, Any], rollup: bool = False) -> tuple[Status, str, str]:
    """(status, Health text, State text) from a resource's ``Status``; no Health reported is OK."""
    status = document.get("Status") or {}
    if not isinstance(status, dict):
        status = {}
    health = status.get("Health")
    if rollup:
        # The rollup covers the resource and everything under it; the emulator spells it HealthRollUp.
        health = status.get("HealthRollup") or status.get("HealthRollUp") or health
    state = str(status.get("State") or "")
    return HEALTH.get(str(health), Status.OK if health is None else Status.UNKNOWN), str(health or ""), state


def describe_health(health: str, state: str) -> str:
    parts = []
    if health:
        parts.append(f"health {health}")
    if state and state != "Enabled":
        parts.append(f"state {state}")
    return ", ".join(parts) or "no status reported"


def number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def band(low: Any, high: Any) -> Range | None:
    """The normal band between a sensor's lower and upper threshold, as a range that alerts outside it."""
    low, high = number(low), number(high)
    if low is None and high is None:
        return None
    return Range(-math.inf if low is None else low, math.inf if high is None else high)


def upper_only(limit: Range | None) -> Range | None:
    """A plain-number override (``temperature_warning: 70``) means "above 70"; a temperature below 0 °C is
    no alarm, so the lower end of the Nagios range the number became is opened."""
    if limit is not None and not limit.inside and limit.start == 0 and limit.end != math.inf:
        return Range(-math.inf, limit.end)
    return limit


def first(document: dict[str, Any], *names: str) -> Any:
    for name in names:
        if document.get(name) is not None:
            return document[name]
    return None


class Items:
    """Item names, unique within one run: a name seen twice gets its chassis (or system) in front."""

    def __init__(self) -> None:
        self.seen: set[str] = set()

    def name(self, label: str, owner: str) -> str:
        if label in self.seen and not label.startswith(f"{owner} / "):
            label = f"{owner} / {label}"
        candidate, n = label, 1
        while candidate in self.seen:  # still taken (two sensors of one chassis with one name)
            n += 1
            candidate = f"{label} #{n}"
        self.seen.add(candidate)
        return candidate


class RedfishHealthCheck(Check):
    name = "redfish_health"
    title = "Server hardware through its BMC over Redfish: temperatures, fans, power supplies, health, drives"
    Params = RedfishHealthParams
    default_timeout = 60.0
    own_connection = True  # it reaches the BMC itself over HTTPS; the server's own SSH does not matter
    metrics = {
        "temperature": "a temperature sensor's reading (°C), against the BMC's own thresholds unless overridden",
        "fan_speed": "a fan's reading, in rpm or % as the BMC reports it",
        "power_input": "a power supply's input power (W), where the BMC reports it",
    }
    example = "- redfish_health: {temperature_warning: 75, storage: true}"

    def run(self, ctx: CheckContext, params: RedfishHealthParams) -> Iterable[Outcome]:
        # A "redfish" connection, where given, is the requests session to use (tests hand in one that
        # serves recorded responses); otherwise the client makes its own.
        factory = ctx.connections.get("redfish")
        try:
            client = RedfishClient(ctx, factory(ctx.target) if factory else None)
        except EndpointConfigError as exc:
            yield Outcome(summary=f"cannot check: {exc}", status=Status.UNKNOWN, collected=False)
            return
        with client:
            try:
                client.open()
                yield from self.poll(client, params)
            except EndpointUnreachable as exc:
                yield Outcome(summary=f"unreachable: {exc}", status=Status.CRITICAL, collected=False)
            except EndpointDenied as exc:
                yield Outcome(summary=f"access denied: {exc}", status=Status.UNKNOWN, collected=False)
            except (EndpointError, EndpointConfigError) as exc:
                yield Outcome(summary=f"cannot read the BMC: {exc}", status=Status.UNKNOWN, collected=False)

    def poll(self, client: RedfishClient, params: RedfishHealthParams) -> Iterator[Outcome]:
        items = Items()
        root = client.root
        systems = client.link(root, "Systems")
        if systems:
            yield from self.part(client, "systems", lambda: self.systems(client, systems, params, items))
        chassis_collection = client.link(root, "Chassis")
        if chassis_collection:
            chassis_list = yield from self.part(client, "chassis", lambda: list(client.members(chassis_collection)))
            for chassis in chassis_list or []:
                owner = f"chassis {chassis.get('Id') or chassis.get('Name') or '?'}"
                yield from self.part(client, f"{owner} / thermal", lambda c=chassis, o=owner: self.thermal(
                    client, c, o, params, items))  # fmt: skip
                yield from self.part(client, f"{owner} / power", lambda c=chassis, o=owner: self.power(
                    client, c, o, params, items))  # fmt: skip
        if not systems and not chassis_collection:
            yield Outcome(item="system", summary="the Redfish service lists neither systems nor chassis",
                          status=Status.UNKNOWN, collected=False)  # fmt: skip

    @staticmethod
    def part(client: RedfishClient, item: str, produce: Any) -> Iterator[Outcome]:
        """Run one part; an answer the BMC fails to give for it is one UNKNOWN item. Returns its value
        (a list of outcomes is yielded, anything else is handed back)."""
        try:
            value = produce()
            if isinstance(value, Iterator):
                yield from value  # as they come, so a later failure keeps the earlier items
                return None
            return value
        except EndpointError as exc:
            yield Outcome(item=item, summary=f"cannot read {item}: {exc}", status=Status.UNKNOWN, collected=False)
            return None

    # -- systems: rollup, storage -----------------------------------------------------------------

    def systems(self, client: RedfishClient, collection: str, params: RedfishHealthParams,
                items: Items) -> Iterator[Outcome]:  # fmt: skip
        systems = list(client.members(collection))
        for system in systems:
            sid = str(system.get("Id") or system.get("Name") or "?")
            label = "system" if len(systems) == 1 else f"system {sid}"
            status, health, state = health_of(system, rollup=True)
            power = system.get("PowerState")
            model = " ".join(str(system[k]) for k in ("Manufacturer", "Model") if system.get(k))
            summary = f"{describe_health(health, state)} (rollup)" + (f", power {power}" if power else "")
            if model:
                summary += f"; {model}"
            yield Outcome(item=items.name(label, sid), summary=summary, status=status)
            storage = client.link(system, "Storage")
            if params.storage and storage:
                yield from self.part(client, f"{label} / storage", lambda s=storage, o=label: self.storage(
                    client, s, o, params, items))  # fmt: skip

    def storage(self, client: RedfishClient, collection: str, owner: str, params: RedfishHealthParams,
                items: Items) -> Iterator[Outcome]:  # fmt: skip
        for storage in client.members(collection):
            stid = str(storage.get("Id") or storage.get("Name") or "?")
            controllers = [c for c in storage.get("StorageControllers") or [] if isinstance(c, dict)]
            if not controllers and client.link(storage, "Controllers"):
                controllers = list(client.members(client.link(storage, "Controllers")))  # Storage v1.9 and later
            if not controllers:
                controllers = [storage]  # the storage subsystem's own status stands for its controller
            for ctl in controllers:
                member = str(ctl.get("MemberId") or ctl.get("Id") or "")
                label = f"controller {stid}" if len(controllers) == 1 or not member else f"controller {stid} / {member}"
                status, health, state = health_of(ctl)
                if state in ABSENT and not params.report_absent:
                    continue
                name = ctl.get("Name") or ctl.get("Model") or stid
                yield Outcome(item=items.name(label, owner), summary=f"{name}: {describe_health(health, state)}",
                              status=Status.OK if state in ABSENT else status)  # fmt: skip
            for ref in storage.get("Drives") or []:
                if not isinstance(ref, dict) or not isinstance(ref.get("@odata.id"), str):
                    continue
                yield from self.part(client, f"{owner} / drive {ref['@odata.id'].rsplit('/', 1)[-1]}",
                                     lambda r=ref["@odata.id"]: self.drive(client, r, owner, params, items))

    def drive(self, client: RedfishClient, path: str, owner: str, params: RedfishHealthParams,
              items: Items) -> Iterator[Outcome]:  # fmt: skip
        drive = client.get(path)
        did = str(drive.get("Id") or path.rsplit("/", 1)[-1])
        status, health, state = health_of(drive)
        if state in ABSENT:
            if params.report_absent:
                yield Outcome(item=items.name(f"drive {did}", owner), summary="not present", status=Status.OK)
            return
        facts = [describe_health(health, state)]
        if drive.get("FailurePredicted") is True:
            facts.append("failure predicted: replace it")
            status = Status.worst([status, Status.WARNING])
        what = " ".join(str(drive[k]) for k in ("MediaType", "Protocol") if drive.get(k))
        capacity = number(drive.get("CapacityBytes"))
        if capacity:
            what += f" {format_value(capacity, 'B')}"
        name = drive.get("Name") or did
        summary = f"{name}" + (f" ({what.strip()})" if what.strip() else "") + ": " + "; ".join(facts)
        yield Outcome(item=items.name(f"drive {did}", owner), summary=summary, status=status)

    # -- chassis: temperatures, fans, power supplies -------------------------------------------------

    def thermal(self, client: RedfishClient, chassis: dict[str, Any], owner: str, params: RedfishHealthParams,
                items: Items) -> Iterator[Outcome]:  # fmt: skip
        path = client.link(chassis, "Thermal")
        if not path:
            yield from self.thermal_subsystem(client, chassis, owner, params, items)
            return
        thermal = client.get(path)
        for sensor in thermal.get("Temperatures") or []:
            if isinstance(sensor, dict):
                outcome = self.temperature(sensor, owner, params, items)
                if outcome:
                    yield outcome
        for fan in thermal.get("Fans") or []:
            if isinstance(fan, dict):
                outcome = self.fan(fan, owner, params, items)
                if outcome:
                    yield outcome

    def thermal_subsystem(self, client: RedfishClient, chassis: dict[str, Any], owner: str,
                          params: RedfishHealthParams, items: Items) -> Iterator[Outcome]:  # fmt: skip
        """Redfish 2020.4 and later: fans under ThermalSubsystem, temperatures in the chassis' Sensors."""
        sensors = client.link(chassis, "Sensors")
        if sensors:
            for sensor in client.members(sensors):
                if sensor.get("ReadingType") != "Temperature":
                    continue
                thresholds = sensor.get("Thresholds") if isinstance(sensor.get("Thresholds"), dict) else {}

                def at(name: str, limits: dict[str, Any] = thresholds) -> Any:
                    value = limits.get(name)
                    return value.get("Reading") if isinstance(value, dict) else None

                # The same sensor in the older Thermal form, so one method judges both.
                legacy = {"Name": sensor.get("Name") or sensor.get("Id"), "Status": sensor.get("Status"),
                          "ReadingCelsius": sensor.get("Reading"),
                          "UpperThresholdNonCritical": at("UpperCaution"),
                          "UpperThresholdCritical": at("UpperCritical"), "UpperThresholdFatal": at("UpperFatal"),
                          "LowerThresholdNonCritical": at("LowerCaution"),
                          "LowerThresholdCritical": at("LowerCritical"),
                          "LowerThresholdFatal": at("LowerFatal")}  # fmt: skip
                outcome = self.temperature(legacy, owner, params, items)
                if outcome:
                    yield outcome
        subsystem = client.link(chassis, "ThermalSubsystem")
        fans = client.link(client.get(subsystem), "Fans") if subsystem else None
        for fan in client.members(fans) if fans else []:
            speed = fan.get("SpeedPercent") if isinstance(fan.get("SpeedPercent"), dict) else {}
            rpm = speed.get("SpeedRPM")
            legacy = {"Name": fan.get("Name") or fan.get("Id"), "Status": fan.get("Status"),
                      "Reading": rpm if rpm is not None else speed.get("Reading"),
                      "ReadingUnits": "RPM" if rpm is not None else "Percent"}  # fmt: skip
            outcome = self.fan(legacy, owner, params, items)
            if outcome:
                yield outcome

    def temperature(self, sensor: dict[str, Any], owner: str, params: RedfishHealthParams,
                    items: Items) -> Outcome | None:  # fmt: skip
        status, health, state = health_of(sensor)
        if state in ABSENT or state == "Disabled":
            return None  # a sensor slot without a sensor (an empty CPU socket, a missing DIMM)
        name = str(first(sensor, "Name", "MemberId") or "?")
        item = items.name(f"{owner} / {name}", owner)
        reading = number(first(sensor, "ReadingCelsius", "CurrentReading"))
        if reading is None:
            return Outcome(item=item, summary=f"{name}: no reading ({describe_health(health, state)})",
                           status=Status.worst([status, Status.UNKNOWN]), collected=False)  # fmt: skip
        warning = band(sensor.get("LowerThresholdNonCritical"), sensor.get("UpperThresholdNonCritical"))
        critical = band(first(sensor, "LowerThresholdCritical", "LowerThresholdFatal"),
                        first(sensor, "UpperThresholdCritical", "UpperThresholdFatal"))  # fmt: skip
        source = "BMC thresholds"
        if params.temperature_warning is not None or params.temperature_critical is not None:
            source = "thresholds from the parameters"
            warning = upper_only(params.temperature_warning) if params.temperature_warning is not None else warning
            critical = upper_only(params.temperature_critical) if params.temperature_critical is not None else critical
        summary = f"{name} {format_value(reading, 'C')}"
        limits = [f"{kind} {r.describe('C')}" for kind, r in (("warning", warning), ("critical", critical)) if r]
        summary += f" ({source}: {', '.join(limits)})" if limits else " (no thresholds published)"
        if status is not Status.OK:
            summary += f"; the BMC reports {describe_health(health, state)}"
        return Outcome(item=item, summary=summary, metrics=[metric("temperature", reading, "C")],
                       levels={"temperature": Levels(warning, critical)}, status=status)  # fmt: skip

    def fan(self, fan: dict[str, Any], owner: str, params: RedfishHealthParams, items: Items) -> Outcome | None:
        status, health, state = health_of(fan)
        if state in ABSENT and not params.report_absent:
            return None
        name = str(first(fan, "Name", "FanName", "MemberId") or "?")
        item = items.name(f"{owner} / {name}", owner)
        if state in ABSENT:
            return Outcome(item=item, summary=f"{name}: not present", status=Status.OK)
        reading = number(first(fan, "Reading", "ReadingRPM", "CurrentReading"))
        units = str(first(fan, "ReadingUnits", "Units") or ("RPM" if fan.get("ReadingRPM") is not None else ""))
        unit = "%" if units.lower() == "percent" else "rpm"
        if reading is None:
            return Outcome(item=item, summary=f"{name}: {describe_health(health, state)}, no reading", status=status)
        warning = band(fan.get("LowerThresholdNonCritical"), fan.get("UpperThresholdNonCritical"))
        critical = band(first(fan, "LowerThresholdCritical", "LowerThresholdFatal"),
                        first(fan, "UpperThresholdCritical", "UpperThresholdFatal"))  # fmt: skip
        if params.fan_warning is not None:
            warning = params.fan_warning
        if params.fan_critical is not None:
            critical = params.fan_critical
        summary = f"{name} {format_value(reading, unit)}: {describe_health(health, state)}"
        return Outcome(item=item, summary=summary, metrics=[metric("fan_speed", reading, unit)],  # type: ignore[arg-type]
                       levels={"fan_speed": Levels(warning, critical)}, status=status)  # fmt: skip

    def power(self, client: RedfishClient, chassis: dict[str, Any], owner: str, params: RedfishHealthParams,
              items: Items) -> Iterator[Outcome]:  # fmt: skip
        subsystem = client.link(chassis, "PowerSubsystem")
        if subsystem:
            collection = client.link(client.get(subsystem), "PowerSupplies")
            supplies = list(client.members(collection)) if collection else []
        elif client.link(chassis, "Power"):
            supplies = [s for s in client.get(client.link(chassis, "Power") or "").get("PowerSupplies") or []
                        if isinstance(s, dict)]  # fmt: skip
        else:
            return
        for supply in supplies:
            outcome = self.supply(supply, owner, params, items)
            if outcome:
                yield outcome

    def supply(self, supply: dict[str, Any], owner: str, params: RedfishHealthParams, items: Items) -> Outcome | None:
        status, health, state = health_of(supply)
        sid = str(first(supply, "MemberId", "Id", "Name") or "?")
        name = str(supply.get("Name") or sid)
        if state in ABSENT:
            if not params.report_absent:
                return None
            return Outcome(item=items.name(f"PSU {sid}", owner), summary=f"{name}: not present", status=Status.OK)
        facts = [describe_health(health, state)]
        line = supply.get("LineInputStatus")
        if line and line != "Normal":
            facts.append(f"line input {line}")
            status = Status.worst([status, Status.WARNING])
        figures = []
        watts = number(first(supply, "PowerInputWatts"))
        if watts is not None:
            figures.append(metric("power_input", watts, "W"))
            facts.append(f"input {format_value(watts, 'W')}")
        capacity = number(supply.get("PowerCapacityWatts"))
        if capacity:
            facts.append(f"capacity {format_value(capacity, 'W')}")
        return Outcome(item=items.name(f"PSU {sid}", owner), summary=f"{name}: {', '.join(facts)}",
                       metrics=figures, status=status)  # fmt: skip
