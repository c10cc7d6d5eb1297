"""Device profiles: where a vendor keeps CPU and memory figures (snmp_device) and its environment tables
(snmp_environment), as YAML data files users can add to.

A profile names the sysObjectID prefixes it applies to and the OIDs to read; the longest matching
prefix wins. Profiles ship in ``checks/snmp/profiles/``; a site adds or overrides them (same
``name``) with files in the directories given by the snmp_device ``profile_dirs`` parameter or the
``PATROL_SNMP_PROFILES`` environment variable (paths separated by ``:``). See docs/snmp.md.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from checks.datafiles import load_model_file, load_named_files
from checks.errors import ConfigError
from checks.snmp import oids

BUILTIN_DIR = Path(__file__).with_name("profiles")
ENV_DIRS = "PATROL_SNMP_PROFILES"
FALLBACK = "host-resources"


def _oid(value: str | None) -> str | None:
    if value is None:
        return None
    return oids.dotted(oids.parse(str(value)))


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CpuSource(_Strict):
    oid: str = Field(description="a column (or scalar) of CPU load in %")
    aggregate: Literal["avg", "max"] = "avg"
    skip_zero: bool = False  # entities that report 0 have no CPU (fans, ports)

    @field_validator("oid")
    @classmethod
    def _numeric(cls, value: str) -> str | None:
        return _oid(value)


class MemorySource(_Strict):
    """One of: ``percent`` (a column in %), ``used`` with ``free`` or ``total`` (bytes, summed over rows),
    or ``hr_storage: true`` (HOST-RESOURCES-MIB RAM)."""

    percent: str | None = None
    used: str | None = None
    free: str | None = None
    total: str | None = None
    units: int = Field(default=1, ge=1, description="bytes per unit of used/free/total")
    hr_storage: bool = False
    aggregate: Literal["avg", "max"] = "max"
    skip_zero: bool = False

    @field_validator("percent", "used", "free", "total")
    @classmethod
    def _numeric(cls, value: str | None) -> str | None:
        return _oid(value)

    @model_validator(mode="after")
    def _one_form(self) -> MemorySource:
        forms = [self.percent is not None, self.used is not None, self.hr_storage]
        if sum(forms) != 1:
            raise ValueError("memory needs exactly one of: percent, used (with free or total), hr_storage: true")
        if self.used is not None and (self.free is None) == (self.total is None):
            raise ValueError("memory.used needs exactly one of memory.free or memory.total")
        return self


StateName = Literal["ok", "warning", "critical", "absent", "unknown"]


class EnvTable(_Strict):
    """One vendor environment table (snmp_environment): a column of names, of readings, of the
    device's own threshold, and of states with what each state value means."""

    kind: Literal["temperature", "fan", "supply"]
    label: str = Field(min_length=1, description="item prefix: 'temperature', 'fan', 'PSU' ...")
    name: str | None = Field(default=None, description="column of names; none: entPhysicalName of the same index")
    value: str | None = Field(default=None, description="column of readings (°C for temperatures)")
    unit: Literal["C", "rpm", "%", "W"] | None = Field(
        default=None, description="the readings' unit (default: C for temperatures, rpm for fans, W for supplies)"
    )
    critical: str | None = Field(default=None, description="column of the device's own upper threshold")
    warning: str | None = Field(default=None, description="column of the device's own upper warning threshold")
    state: str | None = Field(default=None, description="column of states")
    states: dict[int, StateName] = Field(default_factory=dict, description="state value -> what it means")
    state_names: dict[int, str] = Field(default_factory=dict, description="state value -> the MIB's name for it")
    present: str | None = Field(default=None, description="column saying whether the part is there")
    present_values: list[int] = Field(default_factory=lambda: [1], description="values of `present` meaning there")
    no_reading: list[int] = Field(default_factory=list, description="readings that mean 'no sensor here' (skipped)")
    entity_index: bool = Field(
        default=True, description="rows are indexed by entPhysicalIndex (names from entPhysicalName without `name`)"
    )

    @field_validator("name", "value", "critical", "warning", "state", "present")
    @classmethod
    def _numeric(cls, value: str | None) -> str | None:
        return _oid(value)

    @model_validator(mode="after")
    def _something(self) -> EnvTable:
        if self.value is None and self.state is None:
            raise ValueError("an environment table needs a value or a state column")
        return self


class Environment(_Strict):
    entity_sensors: bool = Field(default=True, description="read ENTITY-SENSOR-MIB (RFC 3433) sensors too")
    tables: list[EnvTable] = Field(default_factory=list)


class Profile(_Strict):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    description: str = ""
    sys_object_id: list[str] = Field(default_factory=list, description="sysObjectID prefixes, e.g. 1.3.6.1.4.1.9.")
    cpu: CpuSource | None = None
    memory: MemorySource | None = None
    environment: Environment | None = None  # snmp_environment: sensors, fans, power supplies

    @field_validator("sys_object_id")
    @classmethod
    def _prefixes(cls, values: list[str]) -> list[str]:
        for value in values:
            oids.parse(value.rstrip("."))
        return values

    def match_length(self, sys_object_id: str) -> int:
        """Length of the longest prefix matching ``sys_object_id`` (0: no match)."""
        oid = sys_object_id.lstrip(".") + "."
        return max((len(p) for p in self.sys_object_id if oid.startswith(p.lstrip(".").rstrip(".") + ".")), default=0)


def load_file(path: Path) -> Profile:
    return load_model_file(path, Profile, "SNMP profile", "name, sys_object_id, cpu, memory, environment")


def profile_dirs(extra: Iterable[str] = ()) -> list[Path]:
    dirs = [BUILTIN_DIR]
    env = os.environ.get(ENV_DIRS, "")
    dirs += [Path(p).expanduser() for p in env.split(os.pathsep) if p]
    dirs += [Path(p).expanduser() for p in extra]
    return dirs


def load_profiles(extra_dirs: Iterable[str] = ()) -> dict[str, Profile]:
    """Every profile by name; a later directory's profile replaces an earlier one of the same name."""
    return load_named_files(profile_dirs(extra_dirs), load_file, "SNMP profile")


def choose(profiles: Mapping[str, Profile], sys_object_id: str | None, forced: str | None = None) -> Profile:
    """The profile named ``forced``, else the longest sysObjectID match, else HOST-RESOURCES-MIB."""
    if forced:
        if forced not in profiles:
            raise ConfigError.single(f"unknown SNMP profile {forced!r}; known: {', '.join(sorted(profiles))}")
        return profiles[forced]
    best = max(profiles.values(), key=lambda p: p.match_length(sys_object_id or ""), default=None)
    if best is not None and sys_object_id and best.match_length(sys_object_id) > 0:
        return best
    return profiles[FALLBACK]
