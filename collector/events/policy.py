"""The event engine's rules and their defaults, with per-check overrides.

    policy = Policy(
        open_after=2, resolve_after=2,
        escalation=[(timedelta(minutes=10), 1), (timedelta(minutes=30), 2)],
        checks={"uptime": CheckRules(open_after=1), "network_*": CheckRules(flap_detection=False)},
    )

Every knob is checked when the policy is built: a ``ValueError`` names the field and what was expected.
docs/events.md explains each rule.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

# Icinga 2's flap detection: the last 20 results, the newest weighted most, percent thresholds.
FLAP_WINDOW = 20
DEFAULT_FLAP_HIGH = 30.0
DEFAULT_FLAP_LOW = 25.0
DEFAULT_ESCALATION_DELAY = dt.timedelta(minutes=10)  # the duty engineer acknowledges within 10 minutes


class EscalationStep(NamedTuple):
    """Notify escalation ``level`` when an event stays unacknowledged ``after`` its first notice."""

    after: dt.timedelta
    level: int


@dataclass(frozen=True)
class CheckRules:
    """Overrides for the checks whose name matches the key they are given under (exact or a glob).

    ``None`` keeps the policy's value.
    """

    open_after: int | None = None
    resolve_after: int | None = None
    flap_detection: bool | None = None
    flap_high: float | None = None
    flap_low: float | None = None


@dataclass(frozen=True)
class Rules:
    """The noise-control rules in force for one check: the policy's values with its overrides applied."""

    open_after: int
    resolve_after: int
    flap_detection: bool
    flap_high: float
    flap_low: float


@dataclass(frozen=True)
class Policy:
    """How results become events.

    - ``open_after``: consecutive non-OK results that open an event (2: one bad sample is noise).
    - ``resolve_after``: consecutive OK results that resolve it (2).
    - ``flap_detection``, ``flap_high``, ``flap_low``: Icinga's weighted share of state changes over the
      last 20 results, in percent; above ``flap_high`` an event is flapping, at or below ``flap_low``
      it stops (30 / 25, Icinga 2's defaults).
    - ``reopen_within``: a resolved event that fires again within this time is reopened instead of a new
      event being opened (10 minutes).
    - ``close_after``: a resolved event is closed (final, never reopened) after this time (24 hours).
    - ``escalation``: (after, level) steps, counted from the event's first notice; acknowledging stops
      them (level 1 after 10 minutes).
    - ``nodata_intervals``, ``nodata_minimum``: a source is silent when it has not reported for
      ``max(nodata_intervals x its interval, nodata_minimum)`` (3 intervals, at least 60 s).
    - ``down_checks``: checks whose CRITICAL result means the whole target is down (besides silence and
      any CRITICAL result that could not be collected: "unreachable"); a down target's dependants are
      suppressed.
    - ``own_target_suppresses``: a target that is down also suppresses its own other events, as a down
      host suppresses its services in Icinga: its first down event speaks for it, and the rest (the "did
      not report" UNKNOWNs of a silent agent, the other checks of an unreachable host) are suppressed.
    - ``checks``: ``CheckRules`` by check name or glob; the first matching key in order wins.
    """

    open_after: int = 2
    resolve_after: int = 2
    flap_detection: bool = True
    flap_high: float = DEFAULT_FLAP_HIGH
    flap_low: float = DEFAULT_FLAP_LOW
    reopen_within: dt.timedelta = dt.timedelta(minutes=10)
    close_after: dt.timedelta = dt.timedelta(hours=24)
    escalation: tuple[EscalationStep, ...] = (EscalationStep(DEFAULT_ESCALATION_DELAY, 1),)
    nodata_intervals: float = 3.0
    nodata_minimum: dt.timedelta = dt.timedelta(seconds=60)
    down_checks: frozenset[str] = frozenset()
    own_target_suppresses: bool = True
    checks: Mapping[str, CheckRules] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "escalation", _escalation(self.escalation))
        object.__setattr__(self, "down_checks", frozenset(self.down_checks))
        object.__setattr__(self, "checks", dict(self.checks))
        _check_rules("policy", self.open_after, self.resolve_after, self.flap_high, self.flap_low)
        for name, value in (("reopen_within", self.reopen_within), ("close_after", self.close_after)):
            if not isinstance(value, dt.timedelta) or value < dt.timedelta(0):
                raise ValueError(f"policy.{name}: expected a duration of zero or more, got {value!r}")
        if self.reopen_within > self.close_after:
            raise ValueError(
                "policy.reopen_within must not be longer than policy.close_after (closed events never reopen)"
            )
        if not self.nodata_intervals > 0:
            raise ValueError(f"policy.nodata_intervals: expected a number above 0, got {self.nodata_intervals!r}")
        if self.nodata_minimum < dt.timedelta(0):
            raise ValueError(f"policy.nodata_minimum: expected a duration of zero or more, got {self.nodata_minimum!r}")
        for key, rules in self.checks.items():
            if not isinstance(rules, CheckRules):
                raise ValueError(f"policy.checks[{key!r}]: expected CheckRules, got {type(rules).__name__}")
            merged = self._merge(rules)
            _check_rules(f"policy.checks[{key!r}]", merged.open_after, merged.resolve_after, merged.flap_high,
                         merged.flap_low)

    def rules(self, check: str) -> Rules:
        """The rules for ``check``: the first ``checks`` key equal to it or matching it as a glob, else the policy's."""
        for key, overrides in self.checks.items():
            if key == check or fnmatch.fnmatchcase(check, key):
                return self._merge(overrides)
        return self._merge(CheckRules())

    def _merge(self, overrides: CheckRules) -> Rules:
        def pick(name: str):  # noqa: ANN202 - one of the fields above
            value = getattr(overrides, name)
            return getattr(self, name) if value is None else value

        return Rules(
            open_after=pick("open_after"),
            resolve_after=pick("resolve_after"),
            flap_detection=pick("flap_detection"),
            flap_high=pick("flap_high"),
            flap_low=pick("flap_low"),
        )

    def nodata_limit(self, interval: dt.timedelta) -> dt.timedelta:
        """How long a source reporting every ``interval`` may stay silent before it raises a NODATA event."""
        return max(interval * self.nodata_intervals, self.nodata_minimum)


def _check_rules(where: str, open_after: object, resolve_after: object, high: object, low: object) -> None:
    for name, value in (("open_after", open_after), ("resolve_after", resolve_after)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{where}.{name}: expected a whole number of results, 1 or more, got {value!r}")
    for name, value in (("flap_high", high), ("flap_low", low)):
        if not isinstance(value, int | float) or not 0 <= value <= 100:
            raise ValueError(f"{where}.{name}: expected a percentage from 0 to 100, got {value!r}")
    if low > high:  # type: ignore[operator]
        raise ValueError(f"{where}: flap_low ({low}) must not be above flap_high ({high})")


def _escalation(steps: Iterable[object]) -> tuple[EscalationStep, ...]:
    out: list[EscalationStep] = []
    for index, step in enumerate(steps):
        try:
            after, level = step  # type: ignore[misc]
        except (TypeError, ValueError):
            raise ValueError(f"policy.escalation[{index}]: expected (after, level), got {step!r}") from None
        if not isinstance(after, dt.timedelta) or after <= dt.timedelta(0):
            raise ValueError(f"policy.escalation[{index}]: 'after' must be a duration above zero, got {after!r}")
        if not isinstance(level, int) or isinstance(level, bool) or level < 1:
            raise ValueError(f"policy.escalation[{index}]: 'level' must be a whole number from 1, got {level!r}")
        if out and not (after > out[-1].after and level > out[-1].level):
            raise ValueError(
                f"policy.escalation[{index}]: steps must come later and at a higher level than the one before"
            )
        out.append(EscalationStep(after, level))
    return tuple(out)
