"""Maintenance windows: one-off, cron-like and weekly, scoped by host pattern and optional check.

    MaintenanceWindow.once("db upgrade", "db01", start, end)
    MaintenanceWindow.cron("nightly backup", "backup*", "0 2 * * *", timedelta(hours=1), timezone="Asia/Shanghai")
    MaintenanceWindow.weekly("patch sunday", "linux:!db*", ["sun"], time(3, 0), timedelta(hours=2), check="uptime")

A window covers the half-open interval [start, start + duration). Cron expressions are read as cron reads
them (``checks.schedule.cron_trigger``: Sunday = 0), in the window's time zone; weekly windows start at a
wall-clock time in that zone on the given days. Recurring windows may be bounded by ``starts_at`` /
``ends_at``.

Host patterns follow Ansible (``collector.config.patterns``): with an inventory, groups and the usual
``,`` ``&`` ``!`` ``~regex`` terms select hosts; a target that is not in the inventory (or no inventory
at all) is matched by name only, each term as a glob or ``~regex``, groups matching nothing.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from checks.errors import ConfigError
from checks.schedule import cron_trigger
from collector.config import patterns

WindowKind = Literal["once", "cron", "weekly"]
WINDOW_KINDS: tuple[str, ...] = ("once", "cron", "weekly")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # date.weekday() order
_ONE_DAY = dt.timedelta(days=1)
_TICK = dt.timedelta(microseconds=1)


@dataclass(frozen=True)
class MaintenanceWindow:
    name: str
    pattern: str
    kind: WindowKind
    check: str | None = None  # None: every check; else a check name or glob
    starts_at: dt.datetime | None = None  # once: the start; recurring: optional first day in force
    ends_at: dt.datetime | None = None  # once: the end (exclusive); recurring: optional end of validity
    cron: str | None = None
    weekdays: tuple[str, ...] = ()
    start_time: dt.time | None = None
    duration: dt.timedelta | None = None
    timezone: str = "UTC"
    created_by: str = ""
    created_at: dt.datetime | None = None
    id: int | None = None
    _zone: Any = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        _text(self.name, "name", 200)
        _text(self.pattern, "pattern", 1000)
        if self.check is not None:
            _text(self.check, "check", 100)
        if self.kind not in WINDOW_KINDS:
            raise ValueError(f"maintenance window kind: expected one of {', '.join(WINDOW_KINDS)}, got {self.kind!r}")
        for name in ("starts_at", "ends_at", "created_at"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, dt.datetime) or value.tzinfo is None):
                raise ValueError(f"maintenance window {name}: expected a time with a time zone, got {value!r}")
        try:
            object.__setattr__(self, "_zone", ZoneInfo(self.timezone))
        except (ZoneInfoNotFoundError, ValueError, TypeError):
            raise ValueError(
                f"maintenance window time zone {self.timezone!r} is unknown (e.g. UTC, Asia/Shanghai)"
            ) from None
        if self.kind == "once":
            if self.starts_at is None or self.ends_at is None or not self.starts_at < self.ends_at:
                raise ValueError("a one-off maintenance window needs a start before its end")
            return
        if self.starts_at is not None and self.ends_at is not None and not self.starts_at < self.ends_at:
            raise ValueError("maintenance window validity: the start must come before the end")
        if not isinstance(self.duration, dt.timedelta) or self.duration <= dt.timedelta(0):
            raise ValueError(f"a recurring maintenance window needs a duration above zero, got {self.duration!r}")
        if self.kind == "cron":
            if not isinstance(self.cron, str):
                raise ValueError("a cron maintenance window needs a cron expression such as '0 2 * * *'")
            object.__setattr__(self, "cron", " ".join(self.cron.split()))
            _trigger(self.cron, self.timezone)  # validates the expression
        else:
            days = tuple(_weekday(day) for day in self.weekdays)
            if not days:
                raise ValueError("a weekly maintenance window needs at least one day (mon ... sun)")
            object.__setattr__(self, "weekdays", tuple(sorted(set(days), key=WEEKDAYS.index)))
            if not isinstance(self.start_time, dt.time) or self.start_time.tzinfo is not None:
                raise ValueError("a weekly maintenance window needs a start time of day such as 03:00")

    # -- constructors ------------------------------------------------------------------------------

    @classmethod
    def once(cls, name: str, pattern: str, start: dt.datetime, end: dt.datetime, **extra: Any) -> MaintenanceWindow:
        return cls(name=name, pattern=pattern, kind="once", starts_at=start, ends_at=end, **extra)

    @classmethod
    def cron_window(
        cls, name: str, pattern: str, expression: str, duration: dt.timedelta, **extra: Any
    ) -> MaintenanceWindow:
        return cls(name=name, pattern=pattern, kind="cron", cron=expression, duration=duration, **extra)

    @classmethod
    def weekly_window(
        cls,
        name: str,
        pattern: str,
        days: Iterable[str],
        start_time: dt.time,
        duration: dt.timedelta,
        **extra: Any,
    ) -> MaintenanceWindow:
        return cls(name=name, pattern=pattern, kind="weekly", weekdays=tuple(days), start_time=start_time,
                   duration=duration, **extra)

    def with_id(self, window_id: int) -> MaintenanceWindow:
        return replace(self, id=window_id)

    # -- evaluation --------------------------------------------------------------------------------

    def active(self, at: dt.datetime) -> bool:
        """Whether the window is in force at ``at`` (an aware time)."""
        if self.kind == "once":
            return self.starts_at <= at < self.ends_at  # type: ignore[operator]
        if self.starts_at is not None and at < self.starts_at:
            return False
        if self.ends_at is not None and at >= self.ends_at:
            return False
        assert self.duration is not None
        if self.kind == "cron":
            # The first firing after (at - duration): the window is open iff it is not after `at`.
            fire = _trigger(self.cron, self.timezone).get_next_fire_time(None, at - self.duration + _TICK)
            return fire is not None and fire <= at
        local = at.astimezone(self._zone)
        for back in range(int(self.duration / _ONE_DAY) + 2):
            day = local.date() - dt.timedelta(days=back)
            if WEEKDAYS[day.weekday()] not in self.weekdays:
                continue
            # In UTC before adding the duration: aware arithmetic in one zone is wall-clock arithmetic.
            start = dt.datetime.combine(day, self.start_time, tzinfo=self._zone).astimezone(dt.UTC)  # type: ignore[arg-type]
            if start <= at < start + self.duration:
                return True
        return False

    def covers(self, target: str, check: str, matcher: TargetMatcher) -> bool:
        """Whether an event of ``target`` / ``check`` falls under this window's scope (not its time)."""
        if self.check is not None and self.check != check and not fnmatch.fnmatchcase(check, self.check):
            return False
        return matcher.matches(self.pattern, target)

    def describe(self) -> str:
        if self.kind == "once":
            start, end = (t.astimezone(self._zone) for t in (self.starts_at, self.ends_at))  # type: ignore[union-attr]
            return f"{self.name} ({start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} {self.timezone})"
        if self.kind == "cron":
            return f"{self.name} (cron '{self.cron}' for {self.duration}, {self.timezone})"
        days = ",".join(self.weekdays)
        return f"{self.name} ({days} {self.start_time:%H:%M} for {self.duration}, {self.timezone})"


class TargetMatcher:
    """Ansible host-pattern matching for single target names, with or without an inventory (see above)."""

    def __init__(self, inventory: Any = None) -> None:
        self._inventory = inventory
        self._selected: dict[str, frozenset[str]] = {}
        self._by_name: dict[tuple[str, str], bool] = {}

    def matches(self, pattern: str, target: str) -> bool:
        inventory = self._inventory
        if inventory is not None and target in inventory.hosts:
            selected = self._selected.get(pattern)
            if selected is None:
                try:
                    names = patterns.evaluate(pattern, inventory.hosts, inventory.groups, str(inventory.path))
                except ConfigError:
                    names = self._tolerant(pattern, inventory)
                selected = self._selected[pattern] = frozenset(names)
            return target in selected
        key = (pattern, target)
        found = self._by_name.get(key)
        if found is None:
            found = self._by_name[key] = name_matches(pattern, target)
        return found

    @staticmethod
    def _tolerant(pattern: str, inventory: Any) -> set[str]:
        """Like ``patterns.evaluate``, but a term matching nothing (a host since removed) selects nothing
        instead of failing: a stored window must not stop the engine."""
        selected: set[str] = set()
        try:
            terms = patterns.order(patterns.split(pattern))
        except ConfigError:
            return selected
        for term in terms:
            operator, body = (term[0], term[1:]) if term[0] in "&!" else ("", term)
            try:
                matched = patterns.evaluate(body, inventory.hosts, inventory.groups, str(inventory.path))
            except (ConfigError, re.error):
                matched = set()
            if operator == "&":
                selected &= matched
            elif operator == "!":
                selected -= matched
            else:
                selected |= matched
        return selected


def name_matches(pattern: str, target: str) -> bool:
    """Whether an Ansible host pattern selects ``target`` by its name alone (no groups known)."""
    try:
        terms = patterns.order(patterns.split(pattern))
    except ConfigError:
        return False
    selected = False
    for term in terms:
        operator, body = (term[0], term[1:]) if term[0] in "&!" else ("", term)
        hit = body == "all" or _term_matches(body, target)
        if operator == "&":
            selected = selected and hit
        elif operator == "!":
            selected = selected and not hit
        else:
            selected = selected or hit
    return selected


def _term_matches(body: str, target: str) -> bool:
    if body.startswith("~"):
        try:
            return re.match(body[1:], target) is not None
        except re.error:
            return False
    return fnmatch.fnmatchcase(target, body)


@functools.lru_cache(maxsize=256)
def _trigger(expression: str, timezone: str) -> Any:
    return cron_trigger(expression, ZoneInfo(timezone))


def _weekday(text: object) -> str:
    name = str(text).strip().lower()[:3]
    if name not in WEEKDAYS:
        raise ValueError(f"weekday {text!r}: expected one of {', '.join(WEEKDAYS)}")
    return name


def _text(value: object, what: str, limit: int) -> None:
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise ValueError(f"maintenance window {what}: expected 1 to {limit} characters, got {value!r}")
