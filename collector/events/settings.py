"""The ``events:`` section of the settings file: the event engine's rules.

    events:
      open_after: 2             # consecutive non-OK results that open an event
      resolve_after: 2          # consecutive OK results that resolve it
      flap_detection: true
      flap_high: 30             # percent, Icinga 2's defaults
      flap_low: 25
      reopen_within: 10m
      close_after: 24h
      nodata_intervals: 3       # an agent is silent after this many of its intervals ...
      nodata_minimum: 60s       # ... and never sooner than this
      down_checks: [ping]       # checks whose CRITICAL means the whole target is down
      own_target_suppresses: true
      checks:                   # per check name or glob, first match wins
        uptime: {open_after: 1}
        "network_*": {flap_detection: false}

Escalation levels and their delays are the ``notifications:`` section's ``escalation`` (one place says
whom to wake and when); without any, level 1 falls due after 10 minutes and goes wherever the routes
send ``escalated`` notices. Dependencies between targets are inventory variables (``patrol_parents``).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, ValidationError, model_validator

from checks.errors import ConfigError, Path, Problem
from checks.params import problems_from_validation
from collector.events.policy import CheckRules, EscalationStep, Policy
from collector.notify.settings import Delay, Model, NotificationSettings, parse_duration

SECTION: Path = ("events",)


def _percent(value: float) -> float:
    if not 0 <= value <= 100:
        raise ValueError("expected a percentage from 0 to 100")
    return value


Percent = Annotated[float, AfterValidator(_percent)]
Count = Annotated[int, Field(ge=1, le=1000)]


class CheckOverrides(Model):
    open_after: Count | None = None
    resolve_after: Count | None = None
    flap_detection: bool | None = None
    flap_high: Percent | None = None
    flap_low: Percent | None = None


class EventSettings(Model):
    """The ``events:`` section (see docs/events.md for each rule)."""

    open_after: Count = 2
    resolve_after: Count = 2
    flap_detection: bool = True
    flap_high: Percent = 30.0
    flap_low: Percent = 25.0
    reopen_within: Delay = dt.timedelta(minutes=10)
    close_after: Delay = dt.timedelta(hours=24)
    nodata_intervals: float = Field(default=3.0, gt=0, le=1000)
    nodata_minimum: Delay = dt.timedelta(seconds=60)
    down_checks: tuple[str, ...] = ()
    own_target_suppresses: bool = True
    checks: dict[str, CheckOverrides] = Field(default_factory=dict)
    evaluate_interval: Annotated[dt.timedelta, BeforeValidator(parse_duration)] = Field(
        default=dt.timedelta(seconds=0.5), description="how often stored results are looked for (other processes)"
    )
    tick_interval: Annotated[dt.timedelta, BeforeValidator(parse_duration)] = Field(
        default=dt.timedelta(seconds=5), description="how often escalations, expiries, windows and silence are checked"
    )

    @model_validator(mode="after")
    def _coherent(self) -> EventSettings:
        if self.flap_low > self.flap_high:
            raise ValueError("flap_low must not be above flap_high")
        if self.reopen_within > self.close_after:
            raise ValueError("reopen_within must not be longer than close_after (closed events never reopen)")
        for name in ("evaluate_interval", "tick_interval"):
            value = getattr(self, name)
            if not dt.timedelta(milliseconds=50) <= value <= dt.timedelta(minutes=5):
                raise ValueError(f"{name} must be between 50ms and 5m")
        return self

    def policy(self, notifications: NotificationSettings | None = None) -> Policy:
        """The engine's policy; escalation levels from the notifications' ``escalation`` when it has any."""
        escalation: Any = Policy.escalation
        if notifications is not None and notifications.escalation:
            escalation = tuple(EscalationStep(level.after, n) for n, level in enumerate(notifications.escalation, 1))
        return Policy(
            open_after=self.open_after,
            resolve_after=self.resolve_after,
            flap_detection=self.flap_detection,
            flap_high=self.flap_high,
            flap_low=self.flap_low,
            reopen_within=self.reopen_within,
            close_after=self.close_after,
            escalation=escalation,
            nodata_intervals=self.nodata_intervals,
            nodata_minimum=self.nodata_minimum,
            down_checks=frozenset(self.down_checks),
            own_target_suppresses=self.own_target_suppresses,
            checks={key: CheckRules(**rules.model_dump()) for key, rules in self.checks.items()},
        )


def load_events(data: Any, file: str | None = None, lines: Any = None) -> EventSettings:
    """Validate the ``events:`` section; ConfigError with every problem, each with file, line and field."""
    if data is None:
        return EventSettings()
    problems: list[Problem]
    if not isinstance(data, dict):
        problems = [Problem(SECTION, f"expected a mapping (open_after, resolve_after, ...), got {type(data).__name__}")]
    else:
        try:
            return EventSettings.model_validate(data)
        except ValidationError as exc:
            problems = [
                Problem(SECTION + p.path, p.message) for p in problems_from_validation(exc, EventSettings)
            ]
    if file is not None and lines is not None:
        from collector.config.yamlfile import locate

        problems = locate(problems, file, lines)
    raise ConfigError(sorted(problems, key=lambda p: p.line or 0))

