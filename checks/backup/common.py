"""What the backup checks share: durations in parameters, the age of the last backup, and running a
backup tool with its password in the environment."""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Mapping, Sequence
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema

from checks.backup.shell import Completed, Shell
from checks.base import CheckContext, Outcome, metric
from checks.errors import CheckUnavailable
from checks.result import Metric
from checks.status import Status
from checks.thresholds import Direction, Levels, Range

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_PART = re.compile(r"(\d+(?:\.\d+)?)([smhdw])")


def parse_duration(value: Any) -> float:
    """Seconds in ``value``: a number of seconds, or text such as ``26h``, ``1d12h``, ``90m``, ``8d``."""
    if isinstance(value, bool):
        raise ValueError("expected a duration such as '26h', '8d', '90m' or a number of seconds")
    if isinstance(value, (int, float)):
        seconds = float(value)
    elif isinstance(value, str) and value.strip():
        text = value.strip().replace(" ", "")
        if re.fullmatch(r"\d+(\.\d+)?", text):
            seconds = float(text)
        elif _PART.sub("", text) == "":
            seconds = sum(float(n) * _UNITS[u] for n, u in _PART.findall(text))
        else:
            raise ValueError(
                f"{value!r} is not a duration; expected numbers with units (s, m, h, d, w) such as '26h' or '1d12h'"
            )
    else:
        raise ValueError("expected a duration such as '26h', '8d', '90m' or a number of seconds")
    if not math.isfinite(seconds) or seconds <= 0:
        raise ValueError("a duration must be longer than zero")
    return seconds


Duration = Annotated[
    float,
    BeforeValidator(parse_duration),
    PlainSerializer(lambda seconds: seconds, return_type=float),  # seconds: the plan's JSON validates again
    WithJsonSchema(
        {"anyOf": [{"type": "number"}, {"type": "string"}], "description": "seconds, or a duration such as '26h'"}
    ),
]


def format_age(seconds: float) -> str:
    """Ages for humans: 45 s, 12 min, 5.2 h, 3.1 d."""
    if seconds < 0:
        return f"{format_age(-seconds)} in the future"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 2 * 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


def age_levels(warning: float | None, critical: float | None) -> Levels:
    """Age thresholds (seconds; higher is worse) as a Levels pair for the ``age`` figure."""

    def above(seconds: float | None) -> Range | None:
        return None if seconds is None else Range.parse(round(seconds), Direction.ABOVE)

    return Levels(above(warning), above(critical))


def age_metric(seconds: float) -> Metric:
    return metric("age", round(max(0.0, seconds), 3), "s")


# -- backup tools --------------------------------------------------------------------------------


class ToolFailed(Exception):
    """A backup tool answered with an error. ``status`` is the state it means (a missing repository is
    CRITICAL: the backups are gone or never were; a wrong password or a locked repository is UNKNOWN:
    nothing is known about the backups)."""

    def __init__(self, message: str, critical: bool = False) -> None:
        super().__init__(message)
        self.critical = critical


def shell_for(ctx: CheckContext) -> Shell:
    return ctx.connection("shell")


def password_env(ctx: CheckContext, variable: str | None, env_name: str) -> dict[str, str]:
    """``{env_name: password}`` from the target's secret variable (registered with the scrubber), or {}
    when the variable is unset (the tool then uses what its own environment or configuration gives)."""
    if not variable:
        return {}
    secret = ctx.secret(variable)
    return {} if secret is None else {env_name: secret}


def run_tool(ctx: CheckContext, argv: Sequence[str], env: Mapping[str, str], timeout: float | None) -> Completed:
    """Run a tool within what is left of the check's time (or ``timeout`` if shorter)."""
    left = max(0.1, ctx.remaining() - 1.0)  # keep a moment to report the timeout as this check's own
    limit = min(left, timeout) if timeout else left
    done = shell_for(ctx).run(argv, env, limit)
    if done.exit_status == 127:
        raise CheckUnavailable(f"{argv[0]} is not installed on the host holding the backups ({done.error_text()})")
    return done


def parse_json(done: Completed, what: str) -> Any:
    try:
        return json.loads(done.stdout.decode("utf-8", "replace"))
    except ValueError as exc:
        raise ToolFailed(f"{what} did not answer JSON ({exc}); stderr: {done.error_text(200) or 'empty'}") from None


_FRACTION = re.compile(r"(\.\d{6})\d+")


def parse_time(text: str, zone: dt.tzinfo | None = None) -> float:
    """Epoch seconds of an ISO 8601 time as the tools write it: restic with nanoseconds and an offset,
    borg 1.x without an offset (in the local time of the host that ran it: ``zone``, default this one's)."""
    text = _FRACTION.sub(r"\1", text.strip()).replace("Z", "+00:00")
    when = dt.datetime.fromisoformat(text)
    if when.tzinfo is None and zone is not None:
        when = when.replace(tzinfo=zone)
    return when.timestamp()  # a naive time is taken as this machine's local time


def time_zone(name: str | None) -> dt.tzinfo | None:
    if name is None:
        return None
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)


def check_zone(name: str | None) -> str | None:
    """Validator of ``timezone`` parameters: an IANA name."""
    if name is None:
        return None
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r} (expected an IANA name such as 'Asia/Shanghai')") from None
    return name


def failed(item: str, exc: Exception) -> Outcome:
    """The outcome of a tool that could not tell us about the backups, kept under the job's item."""
    if isinstance(exc, ToolFailed) and exc.critical:
        return Outcome(item=item, summary=str(exc), status=Status.CRITICAL)
    if isinstance(exc, TimeoutError):
        summary = f"timed out: {exc} (a hung repository or mount?)"
    elif isinstance(exc, CheckUnavailable):
        summary = f"cannot check: {exc}"
    else:
        summary = str(exc)
    return Outcome(item=item, summary=summary, status=Status.UNKNOWN, collected=False)
