"""smart — disk health from ``smartctl --json`` (smartmontools 7 and later), one item per disk.

Disks come from ``smartctl --scan --json`` unless the parameters list them; each is read with
``smartctl -a --json [-d TYPE] DEV``. smartctl's exit status is a bit mask (smartctl(8), "RETURN
VALUES"), read as:

    bit 0  the command line did not parse              -> UNKNOWN
    bit 1  the device could not be opened (or sleeps)  -> UNKNOWN
    bit 2  a SMART or ATA command failed               -> UNKNOWN when no SMART data came back, else a note
    bit 3  SMART overall-health: DISK FAILING          -> CRITICAL
    bit 4  a pre-failure attribute is at or below its threshold      -> WARNING
    bit 5  an attribute was at or below its threshold in the past    -> a note
    bit 6  the device error log has entries            -> a note
    bit 7  the self-test log has errors                -> WARNING

The figures (reallocated and pending sectors, temperature; NVMe percentage used and media errors)
carry their own thresholds. smartctl needs root to open disks: run the patrol as root (agent) or
give it ``sudo: true`` with the sudoers rule in docs/hardware.md.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from checks.base import Check, CheckContext, Outcome, metric
from checks.errors import CheckUnavailable
from checks.params import CheckParams
from checks.platform.common import run_tool
from checks.result import Metric
from checks.status import Status
from checks.thresholds import Levels, UpperLimit
from checks.units import format_value


class Device(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, pattern=r"^[^\s-]", description="the device, e.g. /dev/sda, /dev/nvme0")
    type: str | None = Field(
        default=None, pattern=r"^[\w,.+-]+$", description="smartctl -d TYPE (sat, nvme, megaraid,0, ...)"
    )


def _device(value: Any) -> Any:
    return {"name": value} if isinstance(value, str) else value


DeviceEntry = Annotated[Device, BeforeValidator(_device)]


class SmartParams(CheckParams):
    devices: list[DeviceEntry] = Field(
        default_factory=list,
        description="disks to read: a name (/dev/sda) or {name, type}; default: what smartctl --scan finds",
    )
    sudo: bool = Field(default=False, description="run smartctl under 'sudo -n' (see the sudoers rule in the docs)")
    command: str = Field(default="smartctl", min_length=1, description="the smartctl program on the host")
    reallocated_warning: UpperLimit | None = Field(default=0, description="reallocated sectors above which to warn")
    reallocated_critical: UpperLimit | None = Field(default=None, description="reallocated sectors: critical above")
    pending_warning: UpperLimit | None = Field(default=0, description="pending (unreadable) sectors: warn above")
    pending_critical: UpperLimit | None = Field(default=None, description="pending sectors: critical above")
    temperature_warning: UpperLimit | None = Field(default=55, description="disk temperature (C): warn above")
    temperature_critical: UpperLimit | None = Field(default=65, description="disk temperature (C): critical above")
    percentage_used_warning: UpperLimit | None = Field(default=80, description="NVMe endurance used (%): warn above")
    percentage_used_critical: UpperLimit | None = Field(default=90, description="NVMe endurance used: critical above")
    media_errors_warning: UpperLimit | None = Field(default=None, description="NVMe media errors: warn above")
    media_errors_critical: UpperLimit | None = Field(default=0, description="NVMe media errors: critical above")


# -- parsing (pure) ------------------------------------------------------------------------------


@dataclass
class DiskHealth:
    name: str
    model: str = ""
    serial: str = ""
    protocol: str = ""
    passed: bool | None = None  # SMART overall-health; None: not reported
    reallocated: int | None = None
    pending: int | None = None
    temperature: float | None = None
    percentage_used: float | None = None
    media_errors: int | None = None
    available_spare: float | None = None
    critical_warning: int | None = None
    power_on_hours: int | None = None
    messages: list[str] = field(default_factory=list)  # smartctl's own error messages


class SmartReadError(ValueError):
    pass


def parse_scan(text: str | bytes) -> list[Device]:
    """The devices of ``smartctl --scan --json`` (an empty list when it sees none)."""
    data = _load(text, "smartctl --scan")
    return [Device(name=d["name"], type=d.get("type")) for d in data.get("devices") or [] if d.get("name")]


def _load(text: str | bytes, what: str) -> dict:
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise SmartReadError(f"{what} did not answer JSON ({exc}); is it smartmontools 7 or later?") from None
    if not isinstance(data, dict):
        raise SmartReadError(f"{what} answered JSON that is not an object")
    return data


def _attribute(table: list[dict], ids: tuple[int, ...]) -> int | None:
    for row in table:
        if row.get("id") in ids:
            raw = row.get("raw") or {}
            value = raw.get("value")
            if isinstance(value, int):
                # Some drives pack more than the count into the 48-bit raw value; the count is the low word.
                return value & 0xFFFF if value > 0xFFFFFFFF else value
    return None


def parse_disk(text: str | bytes, name: str = "") -> DiskHealth:
    """The health figures of one ``smartctl -a --json DEV`` answer."""
    data = _load(text, "smartctl -a")
    device = data.get("device") or {}
    disk = DiskHealth(
        name=device.get("name") or name,
        model=data.get("model_name") or data.get("scsi_model_name") or "",
        serial=data.get("serial_number") or "",
        protocol=device.get("protocol") or "",
        messages=[
            m["string"] for m in (data.get("smartctl") or {}).get("messages") or []
            if m.get("severity") == "error" and m.get("string")
        ],
    )
    status = data.get("smart_status") or {}
    if isinstance(status.get("passed"), bool):
        disk.passed = status["passed"]
    table = (data.get("ata_smart_attributes") or {}).get("table") or []
    disk.reallocated = _attribute(table, (5,))
    disk.pending = _attribute(table, (197,))
    nvme = data.get("nvme_smart_health_information_log") or {}
    if nvme:
        disk.percentage_used = nvme.get("percentage_used")
        disk.media_errors = nvme.get("media_errors")
        disk.available_spare = nvme.get("available_spare")
        disk.critical_warning = nvme.get("critical_warning")
    scsi_defects = data.get("scsi_grown_defect_list")
    if disk.reallocated is None and isinstance(scsi_defects, int):
        disk.reallocated = scsi_defects  # SAS disks: the grown defect list is their reallocation count
    temperature = (data.get("temperature") or {}).get("current")
    if temperature is None and nvme.get("temperature") is not None:
        temperature = nvme["temperature"]
    if isinstance(temperature, (int, float)):
        disk.temperature = float(temperature)
    hours = (data.get("power_on_time") or {}).get("hours")
    if isinstance(hours, int):
        disk.power_on_hours = hours
    return disk


# (bit, status, text): what smartctl's exit status says about the disk beyond its figures
_BITS = (
    (3, Status.CRITICAL, "SMART overall-health: FAILING"),
    (4, Status.WARNING, "a pre-failure attribute is at or below its threshold"),
    (5, None, "an attribute was at or below its threshold in the past"),
    (6, None, "the device error log has entries"),
    (7, Status.WARNING, "the self-test log reports errors"),
)


def exit_unreadable(exit_status: int, disk: DiskHealth | None) -> str | None:
    """Why the disk could not be read, from bits 0-2 of smartctl's exit status; None when it was read."""
    detail = "; ".join(disk.messages) if disk and disk.messages else ""
    if exit_status & 1:
        return "smartctl did not accept its command line" + (f": {detail}" if detail else "")
    if exit_status & 2:
        return f"smartctl could not open the device ({detail or 'missing, no permission, or in low-power mode'})"
    has_data = disk is not None and (disk.passed is not None or disk.temperature is not None)
    if exit_status & 4 and not has_data:
        return f"SMART commands failed ({detail or 'no SMART support, or a controller that hides the disk'})"
    return None


def evaluate(disk: DiskHealth, exit_status: int, params: SmartParams) -> Outcome:
    """The outcome of one disk read: its figures, their thresholds, and the states the exit status adds."""
    problems: list[str] = []
    notes: list[str] = []
    statuses: list[Status] = []
    for bit, status, text in _BITS:
        if exit_status & (1 << bit):
            if status is None:
                notes.append(text)
            elif not (bit == 3 and disk.passed is False):  # said once, below
                problems.append(text)
                statuses.append(status)
    if exit_status & 4:
        notes.append("some SMART commands failed")
    if disk.passed is False:
        problems.append("SMART overall-health: FAILED")
        statuses.append(Status.CRITICAL)
    if disk.critical_warning:
        problems.append(f"NVMe critical warning 0x{disk.critical_warning:02x}")
        statuses.append(Status.CRITICAL)
    figures: list[Metric] = []
    parts: list[str] = []
    for name, value, unit, text in (
        ("reallocated_sectors", disk.reallocated, "", "{} reallocated"),
        ("pending_sectors", disk.pending, "", "{} pending"),
        ("temperature", disk.temperature, "C", "{}"),
        ("percentage_used", disk.percentage_used, "%", "{} used"),
        ("available_spare", disk.available_spare, "%", "{} spare"),
        ("media_errors", disk.media_errors, "", "{} media errors"),
    ):
        if value is not None:
            figures.append(metric(name, value, unit))
            parts.append(text.format(format_value(value, unit)))
    health = {True: "health PASSED", False: "health FAILED", None: "no overall health reported"}[disk.passed]
    label = " ".join(x for x in (disk.model, disk.serial and f"({disk.serial})") if x)
    summary = ", ".join([*([label] if label else []), health, *parts])
    if problems:
        summary = "; ".join(problems) + " - " + summary
    if notes:
        summary += f" [{'; '.join(notes)}]"
    return Outcome(
        item=disk.name,
        summary=summary,
        metrics=figures,
        status=Status.worst(statuses) if statuses else None,
        levels={
            "reallocated_sectors": Levels(params.reallocated_warning, params.reallocated_critical),
            "pending_sectors": Levels(params.pending_warning, params.pending_critical),
            "temperature": Levels(params.temperature_warning, params.temperature_critical),
            "percentage_used": Levels(params.percentage_used_warning, params.percentage_used_critical),
            "media_errors": Levels(params.media_errors_warning, params.media_errors_critical),
        },
    )


# -- the check ----------------------------------------------------------------------------------


class SmartCheck(Check):
    name = "smart"
    title = "Disk SMART health: overall health, reallocated and pending sectors, temperature, NVMe wear"
    Params = SmartParams
    connection_kind = "shell"
    default_timeout = 60.0
    metrics = {
        "reallocated_sectors": "ATA attribute 5 (Reallocated_Sector_Ct) raw count; SAS: grown defect list",
        "pending_sectors": "ATA attribute 197 (Current_Pending_Sector) raw count: sectors waiting to be remapped",
        "temperature": "current drive temperature (C)",
        "percentage_used": "NVMe: vendor estimate of the endurance used (%; may exceed 100)",
        "available_spare": "NVMe: remaining spare capacity (%)",
        "media_errors": "NVMe: unrecovered data integrity errors since manufacture",
    }
    example = "- smart: {sudo: true, temperature_warning: 55, temperature_critical: 65}"

    def run(self, ctx: CheckContext, params: SmartParams) -> Iterable[Outcome]:
        devices = list(params.devices)
        if not devices:
            done = run_tool(ctx, [params.command, "--scan", "--json"], params.sudo)
            try:
                devices = parse_scan(done.stdout)
            except SmartReadError as exc:
                raise CheckUnavailable(f"{exc}; stderr: {done.error_text(200) or 'empty'}") from None
            if not devices:
                hint = "" if params.sudo else " (smartctl usually needs root: see the 'sudo' parameter)"
                raise CheckUnavailable(f"smartctl --scan found no SMART device on this host{hint}")
        for device in devices:
            yield self.read(ctx, params, device)

    def read(self, ctx: CheckContext, params: SmartParams, device: Device) -> Outcome:
        argv = [params.command, "-a", "--json"]
        if device.type:
            argv += ["-d", device.type]
        done = run_tool(ctx, [*argv, device.name], params.sudo)
        try:
            disk = parse_disk(done.stdout, device.name)
        except SmartReadError as exc:
            return Outcome(item=device.name, summary=f"cannot read: {exc}", status=Status.UNKNOWN, collected=False)
        disk.name = device.name if device.type is None else f"{device.name} [{device.type}]"
        reason = exit_unreadable(done.exit_status, disk)
        if reason:
            return Outcome(item=disk.name, summary=reason, status=Status.UNKNOWN, collected=False)
        return evaluate(disk, done.exit_status, params)
