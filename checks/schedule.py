"""A playbook's schedule: a 5-field cron expression, or ``@every <duration>`` for continuous monitoring.

Shared by the collector and the agent, which must agree on firing times: a result names the firing it
belongs to (``scheduled_at``), so both sides compute the same instants. ``@every N`` fires at
multiples of N seconds since the Unix epoch, not N seconds after whoever started last.

Cron is read as cron reads it. APScheduler 3 numbers weekdays from Monday = 0 (its issue #286), so
``cron_trigger`` rewrites the day-of-week field into names before handing it over: ``1-5`` stays
Monday to Friday and ``0``/``7`` stay Sunday. The scheduler must build its triggers with it.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

# Cron's own shorthands, as the 5-field expressions they stand for.
ALIASES = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
LOOKBACK_WINDOWS = tuple(dt.timedelta(days=d) for d in (1 / 24, 1, 32, 367))  # yearly is cron's sparsest
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)([smhd])")
_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")  # cron numbering: 0 and 7 are Sunday

EXPECTED = (
    "expected a 5-field cron expression (minute hour day-of-month month day-of-week, e.g. '0 8 * * *') "
    "or '@every <duration>' (e.g. '@every 1m', '@every 90s', '@every 1h30m')"
)


@dataclass(frozen=True)
class Schedule:
    text: str  # as written in the playbook
    cron: str | None = None  # the 5-field expression (an alias such as @daily expanded)
    every_seconds: float | None = None

    def trigger(self, timezone: Any = None) -> Any:
        """An APScheduler 3 trigger firing on this schedule."""
        if self.cron is not None:
            return cron_trigger(self.cron, timezone)
        from apscheduler.triggers.interval import IntervalTrigger

        # Anchored at the epoch, so every process computes the same firing instants.
        return IntervalTrigger(seconds=self.every_seconds, start_date=EPOCH, timezone=timezone or dt.UTC)


    def latest_fire_time(self, now: dt.datetime, timezone: Any = None) -> dt.datetime:
        """The nominal firing instant at or before ``now``: the ``scheduled_at`` a result of this firing carries.

        A job that starts a little late (the scheduler was busy, jitter) still names the firing it
        belongs to, so the agent's results and the collector's patrol run agree on it.
        """
        now = now.astimezone(dt.UTC)
        if self.every_seconds is not None:
            elapsed = (now - EPOCH).total_seconds()
            return EPOCH + dt.timedelta(seconds=(elapsed // self.every_seconds) * self.every_seconds)
        trigger = self.trigger(timezone or dt.UTC)
        # Walk forward through a growing window: a few steps for any schedule, however sparse.
        for window in LOOKBACK_WINDOWS:
            latest = None
            fire = trigger.get_next_fire_time(None, now - window)
            while fire is not None and fire <= now:
                latest = fire
                fire = trigger.get_next_fire_time(fire, fire + dt.timedelta(seconds=1))
            if latest is not None:
                return latest.astimezone(dt.UTC)
        raise ValueError(f"schedule {self.text!r} did not fire in the year before {now}")


def parse_schedule(text: str) -> Schedule:
    """Parse and validate a schedule; ValueError says what is wrong and what was expected."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError(EXPECTED)
    written = text.strip()
    if written.startswith("@every"):
        return Schedule(text, every_seconds=parse_duration(written[len("@every"):].strip()))
    cron = ALIASES.get(written, written)
    if cron.startswith("@"):
        raise ValueError(f"unknown schedule {written!r}; " + EXPECTED)
    try:
        cron_trigger(cron, timezone="UTC")  # validates every field; any fixed zone will do for that
    except ImportError:
        # The core install (agents, one-shot runs) has no scheduler; the field count is all we can check.
        fields = len(cron.split())
        if fields != 5:
            raise ValueError(f"cron expression {written!r} has {fields} fields; " + EXPECTED) from None
    return Schedule(text, cron=" ".join(cron.split()))


def parse_duration(text: str) -> float:
    """Seconds in a duration such as ``90s``, ``1m``, ``1h30m``, ``2d``, ``1.5h``."""
    if not text or _DURATION.sub("", text) != "":
        written = f"'@every {text}' is not a duration" if text else "'@every' needs a duration"
        raise ValueError(f"{written}; expected numbers with units (s, m, h, d), as in '@every 1h30m'")
    seconds = sum(float(number) * UNITS[unit] for number, unit in _DURATION.findall(text))
    if seconds <= 0:
        raise ValueError(f"'@every {text}': the interval must be longer than zero")
    return seconds


def cron_trigger(expression: str, timezone: Any = None) -> Any:
    """An APScheduler 3 CronTrigger for a standard 5-field cron expression, weekdays as cron means them."""
    try:
        from apscheduler.triggers.cron import CronTrigger
    except ImportError:  # a collector extra; the core install reads playbooks without scheduling them
        raise ImportError("cron schedules need APScheduler: pip install 'patrol[collector]'") from None
    fields = expression.split()
    if len(fields) != 5:
        raise ValueError(f"cron expression {expression!r} has {len(fields)} fields; " + EXPECTED)
    minute, hour, day, month, weekday = fields
    try:
        return CronTrigger(minute=minute, hour=hour, day=day, month=month, day_of_week=_weekdays(weekday),
                           timezone=timezone)
    except ValueError as exc:
        raise ValueError(f"cron expression {expression!r}: {exc}; " + EXPECTED) from None


def _weekdays(field: str) -> str:
    """Cron's day-of-week field as APScheduler 3 names (``1-5`` -> ``mon,tue,wed,thu,fri``)."""
    if field in ("*", "?"):
        return "*"
    days: set[int] = set()
    for item in field.split(","):
        span, _, step_text = item.partition("/")
        if step_text and not step_text.isdigit() or step_text == "0":
            raise ValueError(f"day-of-week {item!r}: the step must be a positive whole number")
        step = int(step_text) if step_text else 1
        if span == "*":
            first, last = 0, 6
        else:
            low, _, high = span.partition("-")
            first = _weekday(low)
            last = _weekday(high) if high else (6 if step_text else first)
            if last < first and last == 0:
                last = 7  # "fri-sun": cron counts Sunday as 7 at the end of a range
            if last < first:
                raise ValueError(f"day-of-week range {span!r} runs backwards")
        days.update(day % 7 for day in range(first, last + 1, step))
    return ",".join(_WEEKDAYS[day] for day in sorted(days))


def _weekday(text: str) -> int:
    name = text.strip().lower()
    if name.isdigit() and 0 <= int(name) <= 7:
        return int(name)
    if name[:3] in _WEEKDAYS and len(name) == 3:
        return _WEEKDAYS.index(name)
    raise ValueError(f"day-of-week {text!r} is not 0-7 or a day name (sun, mon, ... sat)")
