"""Thresholds: Nagios ranges, and the warning/critical pair every check's primary figure has.

Nagios range syntax (https://nagios-plugins.org/doc/guidelines.html#THRESHOLDFORMAT):

    10      alert if x < 0 or x > 10
    10:     alert if x < 10
    ~:10    alert if x > 10
    10:20   alert if x < 10 or x > 20
    @10:20  alert if 10 <= x <= 20

A playbook may write a threshold either as such a range (a string) or as a plain number. A plain
number is read with the direction of the figure it applies to: for a figure where higher is worse
(disk used %) ``80`` means "alert above 80" (the Nagios range ``80``); where lower is worse (swap free %)
``50`` means "alert below 50" (the Nagios range ``50:``).
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema

from checks.status import Status
from checks.units import format_value


class Direction(str, enum.Enum):
    ABOVE = "above"  # higher is worse
    BELOW = "below"  # lower is worse


@dataclass(frozen=True)
class Range:
    """A parsed Nagios range. ``text`` keeps the canonical Nagios form for display and perfdata."""

    start: float
    end: float
    inside: bool = False  # the '@' form: alert when inside rather than outside

    @classmethod
    def parse(cls, value: Any, direction: Direction = Direction.ABOVE) -> Range:
        if isinstance(value, Range):
            return value
        if isinstance(value, bool):
            raise ValueError("expected a number or a Nagios range such as '80', '10:', '~:10', '10:20', '@10:20'")
        if isinstance(value, (int, float)):
            if not math.isfinite(value):
                raise ValueError("a threshold must be a finite number")
            if direction is Direction.BELOW:
                return cls(float(value), math.inf)
            return cls(0.0 if value >= 0 else -math.inf, float(value))
        if not isinstance(value, str):
            raise ValueError("expected a number or a Nagios range such as '80', '10:', '~:10', '10:20', '@10:20'")
        text = value.strip()
        if not text:
            raise ValueError("a threshold may not be empty")
        inside = text.startswith("@")
        if inside:
            text = text[1:]
        if ":" in text:
            low, _, high = text.partition(":")
            start = -math.inf if low == "~" else _number(low or "0", value)
            end = math.inf if high == "" else _number(high, value)
        else:
            start, end = 0.0, _number(text, value)
        if start > end:
            raise ValueError(f"range {value!r} has its start above its end")
        return cls(start, end, inside)

    def alerts(self, value: float) -> bool:
        """True when ``value`` is in the alerting part of the range."""
        within = self.start <= value <= self.end
        return within if self.inside else not within

    @property
    def text(self) -> str:
        start = "~" if self.start == -math.inf else _fmt(self.start)
        end = "" if self.end == math.inf else _fmt(self.end)
        if self.start == 0 and self.end != math.inf:
            body = end
        else:
            body = f"{start}:{end}"
        return ("@" if self.inside else "") + body

    def describe(self, unit: str = "") -> str:
        """Human form of the alert condition: '> 80', '< 10.0 GiB', 'outside 10..20', 'within 10..20'."""

        def fmt(bound: float) -> str:
            return format_value(bound, unit) if unit in ("B", "B/s") else _fmt(bound)

        if self.inside:
            return f"within {fmt(self.start)}..{fmt(self.end)}"
        if self.end == math.inf:
            return f"< {fmt(self.start)}"
        if self.start in (0, -math.inf):
            return f"> {fmt(self.end)}"
        return f"outside {fmt(self.start)}..{fmt(self.end)}"

    def __str__(self) -> str:  # pragma: no cover - convenience
        return self.text


def _number(text: str, original: Any) -> float:
    try:
        number = float(text)
    except ValueError:
        raise ValueError(
            f"{original!r} is not a number or a Nagios range (expected e.g. '80', '10:', '~:10', '10:20', '@10:20')"
        ) from None
    if not math.isfinite(number):
        raise ValueError(f"{original!r}: range bounds must be finite numbers")
    return number


def _fmt(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else repr(float(number))


def _annotated(direction: Direction):
    return Annotated[
        Range,
        BeforeValidator(lambda v: Range.parse(v, direction)),
        PlainSerializer(lambda r: r.text, return_type=str),
        WithJsonSchema(
            {
                "anyOf": [{"type": "number"}, {"type": "string"}],
                "description": f"a number (alert when the figure is {direction.value} it) or a Nagios range",
            }
        ),
    ]


# Parameter types for check schemas: the direction is that of the figure the threshold applies to.
UpperLimit = _annotated(Direction.ABOVE)
LowerLimit = _annotated(Direction.BELOW)


@dataclass(frozen=True)
class Levels:
    """A warning/critical pair applied to one figure."""

    warning: Range | None = None
    critical: Range | None = None

    def evaluate(self, value: float) -> Status:
        if self.critical is not None and self.critical.alerts(value):
            return Status.CRITICAL
        if self.warning is not None and self.warning.alerts(value):
            return Status.WARNING
        return Status.OK

    def breached(self, value: float) -> Range | None:
        """The range that the value breaches (critical before warning), for messages."""
        status = self.evaluate(value)
        return {Status.CRITICAL: self.critical, Status.WARNING: self.warning}.get(status)

    @property
    def active(self) -> bool:
        return self.warning is not None or self.critical is not None
