"""snmp_device — device CPU and memory, from a vendor profile or HOST-RESOURCES-MIB.

The profile is chosen by sysObjectID (checks/snmp/profiles/*.yaml plus the site's own, see
checks.snmp.vendor); where the vendor's OIDs give nothing, HOST-RESOURCES-MIB is tried.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from pydantic import Field

from checks.base import CheckContext, Outcome, metric
from checks.errors import CheckUnavailable, ConfigError
from checks.params import CheckParams
from checks.snmp import oids, vendor
from checks.snmp.base import SnmpCheck, text
from checks.snmp.oids import Table
from checks.status import Status
from checks.thresholds import Levels, UpperLimit
from checks.units import format_bytes


class SnmpDeviceParams(CheckParams):
    cpu_warning: UpperLimit | None = Field(default=80, description="CPU load % at which to warn")
    cpu_critical: UpperLimit | None = Field(default=90, description="CPU load % at which the state is critical")
    memory_warning: UpperLimit | None = Field(default=85, description="memory used % at which to warn")
    memory_critical: UpperLimit | None = Field(default=95, description="memory used % at which critical")
    profile: str | None = Field(default=None, description="use this profile instead of choosing by sysObjectID")
    profile_dirs: list[str] = Field(
        default_factory=list, description="directories with extra or overriding profile YAML files"
    )


def numbers(table: Table, skip_zero: bool = False) -> list[int]:
    values = [vb.value for vb in table.values() if isinstance(vb.value, int)]
    return [v for v in values if v != 0] if skip_zero else values


def aggregate(values: list[int], how: str) -> float:
    return float(max(values)) if how == "max" else sum(values) / len(values)


def cpu_figure(source: vendor.CpuSource, tables: Mapping[oids.OID, Table]) -> float | None:
    values = numbers(tables.get(oids.parse(source.oid), {}), source.skip_zero)
    return round(aggregate(values, source.aggregate), 2) if values else None


def memory_figure(source: vendor.MemorySource, tables: Mapping[oids.OID, Table]) -> tuple[float, int | None] | None:
    """(used %, total bytes or None) from the walked tables, or None when the device has none of it."""

    def column(oid: str | None) -> Table:
        return tables.get(oids.parse(oid), {}) if oid else {}

    if source.percent:
        values = numbers(column(source.percent), source.skip_zero)
        return (round(aggregate(values, source.aggregate), 2), None) if values else None
    if source.hr_storage:
        kinds = column(oids.HR_STORAGE_TYPE)
        for index, kind in sorted(kinds.items()):
            if kind.value != oids.HR_STORAGE_RAM:
                continue
            units = column(oids.HR_STORAGE_UNITS).get(index)
            size = column(oids.HR_STORAGE_SIZE).get(index)
            used = column(oids.HR_STORAGE_USED).get(index)
            if units and size and used and isinstance(size.value, int) and size.value > 0:
                return round(100.0 * used.value / size.value, 2), size.value * units.value
        return None
    used = sum(numbers(column(source.used)))
    if source.free:
        free_rows = column(source.free)
        if not free_rows:
            return None
        total = used + sum(numbers(free_rows))
    else:
        total = sum(numbers(column(source.total)))
    if total <= 0:
        return None
    return round(100.0 * used / total, 2), total * source.units


def roots(profile: vendor.Profile) -> list[str]:
    out = []
    if profile.cpu:
        out.append(profile.cpu.oid)
    if profile.memory:
        m = profile.memory
        if m.hr_storage:
            out += [oids.HR_STORAGE_TYPE, oids.HR_STORAGE_UNITS, oids.HR_STORAGE_SIZE, oids.HR_STORAGE_USED]
        out += [o for o in (m.percent, m.used, m.free, m.total) if o]
    return out


class SnmpDeviceCheck(SnmpCheck):
    name = "snmp_device"
    title = "Network device CPU and memory over SNMP (vendor profiles: Cisco, Huawei, H3C; HOST-RESOURCES-MIB)"
    Params = SnmpDeviceParams
    metrics = {
        "cpu_used": "CPU load (%), the average or busiest CPU as the profile says",
        "memory_used": "memory used (%)",
        "memory_total": "memory size (bytes), where the device reports it",
    }
    example = "- snmp_device: {cpu_warning: 80, cpu_critical: 90, memory_warning: 85}"

    def poll(self, ctx: CheckContext, session, params: SnmpDeviceParams) -> Iterator[Outcome]:
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
        tables = session.walk(roots(profile), self.budget(ctx))
        cpu = cpu_figure(profile.cpu, tables) if profile.cpu else None
        memory = memory_figure(profile.memory, tables) if profile.memory else None
        cpu_from = memory_from = f"profile {profile.name}"
        fallback = profiles[vendor.FALLBACK]
        if (cpu is None or memory is None) and profile.name != fallback.name:
            more = session.walk(roots(fallback), self.budget(ctx))
            fallen_back = f"profile {profile.name}: nothing there, {fallback.name} instead"
            if cpu is None and fallback.cpu:
                cpu, cpu_from = cpu_figure(fallback.cpu, more), fallen_back
            if memory is None and fallback.memory:
                memory, memory_from = memory_figure(fallback.memory, more), fallen_back
        if cpu is None:
            yield Outcome(item="cpu", summary=f"the device reports no CPU load ({cpu_from})", status=Status.UNKNOWN,
                          collected=False)  # fmt: skip
        else:
            yield Outcome(
                item="cpu", summary=f"CPU {cpu:g}% ({cpu_from})", metrics=[metric("cpu_used", cpu, "%")],
                levels={"cpu_used": Levels(params.cpu_warning, params.cpu_critical)},
            )  # fmt: skip
        if memory is None:
            yield Outcome(item="memory", summary=f"the device reports no memory usage ({memory_from})",
                          status=Status.UNKNOWN, collected=False)  # fmt: skip
        else:
            percent, total = memory
            figures = [metric("memory_used", percent, "%")]
            summary = f"memory {percent:g}% used"
            if total:
                figures.append(metric("memory_total", total, "B"))
                summary += f" of {format_bytes(total)}"
            yield Outcome(
                item="memory", summary=f"{summary} ({memory_from})", metrics=figures,
                levels={"memory_used": Levels(params.memory_warning, params.memory_critical)},
            )  # fmt: skip
