"""Assets and configuration: what the ``facts`` check recorded of each target, and what changed since
the previous patrol.

The facts check publishes its findings as metrics, Prometheus style: ``*_info`` metrics of value 1
whose labels carry the text (``os_info{os, kernel, arch, hostname}``, ``cpu_info{model}``,
``address_info{interface, address, family}``, ``device_info{descr, object_id, name}``) and plain
figures (``cpus``, ``memory_total``, ``disk_size{disk, model}``). This module reads them back into
one row per target and compares each field with the target's previous facts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict

from checks.result import Metric, Result
from checks.units import format_bytes

FACTS_CHECK = "facts"
FIELDS = ("os", "kernel", "cpu", "memory", "disks", "addresses", "device")  # as compared, in table order


class Asset(BaseModel):
    model_config = ConfigDict(frozen=True)

    target: str
    collected_at: dt.datetime
    os: str = ""  # "Debian GNU/Linux 12 (bookworm)"; for a device its sysDescr
    kernel: str = ""  # "6.1.0-18-amd64 x86_64"
    hostname: str = ""
    cpu_model: str = ""
    cpus: int | None = None
    memory_bytes: float | None = None
    disks: list[str] = []  # "sda 476.9 GiB (Samsung SSD 860)"
    disk_bytes: float | None = None  # all disks together
    addresses: list[str] = []  # "eth0 10.0.0.11/24"
    object_id: str = ""  # devices: sysObjectID
    device_name: str = ""  # devices: sysName

    @property
    def is_device(self) -> bool:
        return bool(self.object_id)

    def value(self, field: str) -> str:
        """One field as the report shows it and compares it."""
        if field == "os":
            return self.os
        if field == "kernel":
            return self.kernel
        if field == "cpu":
            count = f"{self.cpus} × " if self.cpus else ""
            return f"{count}{self.cpu_model}".strip(" ×") if (self.cpus or self.cpu_model) else ""
        if field == "memory":
            return format_bytes(self.memory_bytes) if self.memory_bytes else ""
        if field == "disks":
            return ", ".join(self.disks)
        if field == "addresses":
            return ", ".join(self.addresses)
        if field == "device":
            return " ".join(p for p in (self.device_name, self.object_id) if p)
        raise KeyError(field)


class AssetChange(BaseModel):
    model_config = ConfigDict(frozen=True)

    target: str
    field: str  # one of FIELDS
    before: str
    after: str


class AssetsSection(BaseModel):
    model_config = ConfigDict(frozen=True)

    assets: list[Asset]  # by target name
    changes: list[AssetChange]  # by target, then field order
    compared: int  # targets that had previous facts to compare with
    new_targets: list[str]  # targets with facts now and none before (when there was a previous patrol)


def asset_of(result: Result) -> Asset:
    """The asset row of one ``facts`` result."""
    by_name: dict[str, list[Metric]] = {}
    for m in result.metrics:
        by_name.setdefault(m.name, []).append(m)

    def label(metric: str, key: str) -> str:
        found = by_name.get(metric)
        return found[0].labels.get(key, "") if found else ""

    def figure(metric: str) -> float | None:
        found = by_name.get(metric)
        return found[0].value if found else None

    disks = []
    for m in sorted(by_name.get("disk_size", []), key=lambda m: m.labels.get("disk", "")):
        model = m.labels.get("model", "")
        disks.append(f"{m.labels.get('disk', '?')} {format_bytes(m.value)}" + (f" ({model})" if model else ""))
    addresses = sorted(
        f"{m.labels.get('interface', '?')} {m.labels.get('address', '')}".strip()
        for m in by_name.get("address_info", [])
    )
    cpus = figure("cpus")
    kernel = " ".join(p for p in (label("os_info", "kernel"), label("os_info", "arch")) if p)
    return Asset(
        target=result.target,
        collected_at=result.started_at,
        os=label("os_info", "os") or label("device_info", "descr"),
        kernel=kernel,
        hostname=label("os_info", "hostname"),
        cpu_model=label("cpu_info", "model"),
        cpus=int(cpus) if cpus is not None else None,
        memory_bytes=figure("memory_total"),
        disks=disks,
        disk_bytes=sum(m.value for m in by_name.get("disk_size", [])) or None,
        addresses=addresses,
        object_id=label("device_info", "object_id"),
        device_name=label("device_info", "name"),
    )


def assets_section(results: Sequence[Result], previous: Sequence[Result] | None) -> AssetsSection | None:
    """The section from the reported results and the previous patrol's (None: there was none);
    None when no target ran the facts check."""
    now = _newest(results)
    if not now:
        return None
    before = _newest(previous or ())
    changes = []
    for name, asset in sorted(now.items()):
        old = before.get(name)
        if old is None:
            continue
        for field in FIELDS:
            if old.value(field) != asset.value(field):
                changes.append(
                    AssetChange(target=name, field=field, before=old.value(field), after=asset.value(field))
                )
    return AssetsSection(
        assets=[now[name] for name in sorted(now)],
        changes=changes,
        compared=sum(1 for name in now if name in before),
        new_targets=sorted(set(now) - set(before)) if previous is not None else [],
    )


def _newest(results: Sequence[Result]) -> dict[str, Asset]:
    newest: dict[str, Result] = {}
    for r in results:
        if r.check == FACTS_CHECK and r.collected and r.metrics:
            if r.target not in newest or r.started_at > newest[r.target].started_at:
                newest[r.target] = r
    return {name: asset_of(r) for name, r in newest.items()}
