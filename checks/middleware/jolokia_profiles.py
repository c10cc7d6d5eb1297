"""Jolokia profiles: which MBean attributes become which metrics, per kind of server, as YAML data.

A profile lists MBean reads; each read names an MBean (or an ObjectName pattern), the item each
matching MBean becomes (key properties of its name substituted: ``"threads {name}"``), and its
metrics: an ``attribute`` (a path into composite values, ``HeapMemoryUsage/used``), or a ``ratio``
of two attributes in %, optionally a per-second ``rate`` of a counter, scaled, with default
thresholds. Profiles ship in ``checks/middleware/profiles/``; a site adds or overrides them (same
``name``) with files in the directories of the jolokia ``profile_dirs`` parameter or the
``PATROL_JOLOKIA_PROFILES`` environment variable (separated by ``:``). See docs/middleware.md.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from checks.datafiles import load_model_file, load_named_files
from checks.thresholds import UpperLimit

BUILTIN_DIR = Path(__file__).with_name("profiles")
ENV_DIRS = "PATROL_JOLOKIA_PROFILES"
NAME = r"^[a-z][a-z0-9_]*$"
# domain:key=value[,key=value...] where a value may be quoted; '*' and '?' make a pattern.
OBJECT_NAME = re.compile(r"^[^:]+:.+=.+$")


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)


class MetricSpec(_Strict):
    name: str = Field(pattern=NAME, max_length=60, description="metric name (snake_case, no unit suffix)")
    attribute: str | None = Field(default=None, description="attribute, or a path into it: HeapMemoryUsage/used")
    ratio: tuple[str, str] | None = Field(default=None, description="[part, whole]: 100 * part / whole, in %")
    unit: Literal["", "%", "B", "s", "/s"] = ""
    scale: float = Field(default=1.0, description="multiply the value (or rate) by this")
    rate: bool = Field(default=False, description="a counter: report its per-second rate between polls")
    warning: UpperLimit | None = None
    critical: UpperLimit | None = None

    @model_validator(mode="after")
    def _one_source(self) -> MetricSpec:
        if (self.attribute is None) == (self.ratio is None):
            raise ValueError("a metric needs exactly one of 'attribute' or 'ratio'")
        if self.ratio is not None and self.rate:
            raise ValueError("'rate' applies to an 'attribute' counter, not to a 'ratio'")
        return self

    @property
    def unit_of(self) -> str:
        return "%" if self.ratio is not None else self.unit

    def paths(self) -> tuple[str, ...]:
        return self.ratio if self.ratio is not None else (self.attribute,)  # type: ignore[return-value]


class ReadSpec(_Strict):
    mbean: str = Field(description="an ObjectName or pattern, e.g. Catalina:type=ThreadPool,name=*")
    item: str = Field(description="the item of each matching MBean; {key} is a key property of its name")
    optional: bool = Field(default=False, description="no matching MBean is not an error (a feature not in use)")
    metrics: list[MetricSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _valid(self) -> ReadSpec:
        if not OBJECT_NAME.match(self.mbean):
            raise ValueError(f"mbean {self.mbean!r} is not an ObjectName (domain:key=value,...)")
        return self

    def attributes(self) -> list[str]:
        """The top-level attributes to read (a path's first part), in order, once each."""
        out: list[str] = []
        for spec in self.metrics:
            for path in spec.paths():
                top = path.split("/", 1)[0]
                if top not in out:
                    out.append(top)
        return out


class Profile(_Strict):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    description: str = ""
    reads: list[ReadSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_metrics(self) -> Profile:
        names = [m.name for r in self.reads for m in r.metrics]
        duplicated = sorted({n for n in names if names.count(n) > 1})
        if duplicated:
            raise ValueError(f"metric names must be unique in a profile: {', '.join(duplicated)} repeat")
        return self

    def metric(self, name: str) -> MetricSpec | None:
        return next((m for r in self.reads for m in r.metrics if m.name == name), None)


def load_file(path: Path) -> Profile:
    return load_model_file(path, Profile, "Jolokia profile", "name, description, reads")


_cache: dict[Path, tuple[tuple[int, int], Profile]] = {}
_cache_lock = threading.Lock()


def _load_cached(path: Path) -> Profile:
    """load_file, parsed again only when the file changed: the poller polls many targets with one profile,
    and parsing the shipped profiles costs about 13 ms a poll."""
    try:
        stat = path.stat()
    except OSError:
        return load_file(path)  # reports the error with the file's name
    stamp = (stat.st_mtime_ns, stat.st_size)
    with _cache_lock:
        cached = _cache.get(path)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    profile = load_file(path)
    with _cache_lock:
        _cache[path] = (stamp, profile)
    return profile


def profile_dirs(extra: Iterable[str] = ()) -> list[Path]:
    env = os.environ.get(ENV_DIRS, "")
    return [BUILTIN_DIR, *(Path(p).expanduser() for p in env.split(os.pathsep) if p),
            *(Path(p).expanduser() for p in extra)]  # fmt: skip


def load_profiles(extra_dirs: Iterable[str] = ()) -> dict[str, Profile]:
    """Every profile by name; a later directory's profile replaces an earlier one of the same name.

    Every problem in every file is reported at once, each naming its file and field.
    """
    return load_named_files(profile_dirs(extra_dirs), _load_cached, "Jolokia profile")


def key_properties(object_name: str) -> dict[str, str]:
    """The key properties of an ObjectName, quotes removed: 'Catalina:name="http-nio-8080",type=ThreadPool'
    -> {'name': 'http-nio-8080', 'type': 'ThreadPool', 'domain': 'Catalina'}."""
    domain, _, rest = object_name.partition(":")
    props = {"domain": domain}
    # A quoted value may hold commas and '=' (JMX quoting: backslash escapes inside quotes).
    for match in re.finditer(r'([^,=]+)=("(?:[^"\\]|\\.)*"|[^,]*)', rest):
        key, value = match.group(1).strip(), match.group(2)
        if value.startswith('"') and value.endswith('"') and len(value) >= 2:
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        props[key] = value
    return props
