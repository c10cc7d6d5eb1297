"""Events and maintenance windows as the API and the CLI show them, and the queries they share.

One JSON form for both (``patrol events list --format json`` prints what ``GET /api/v1/events``
returns), times in ISO 8601 UTC with ``Z``.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
from collections.abc import Sequence
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from collector.config.patterns import syntax_problem
from collector.events.maintenance import MaintenanceWindow, TargetMatcher
from collector.events.model import OPEN_STATES, Event, EventComment, HistoryEntry
from collector.notify.settings import parse_duration

MAX_LIMIT = 10_000


def iso(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def event_json(event: Event) -> dict[str, Any]:
    return {
        "id": event.id,
        "fingerprint": event.fingerprint,
        "target": event.target,
        "check": event.check,
        "item": event.item,
        "kind": event.kind,
        "severity": event.severity,
        "state": event.state,
        "summary": event.last_summary,
        "count": event.count,
        "first_seen": iso(event.first_seen),
        "last_seen": iso(event.last_seen),
        "opened_at": iso(event.opened_at),
        "acknowledged_at": iso(event.acknowledged_at),
        "acknowledged_by": event.acknowledged_by,
        "ack_expires_at": iso(event.ack_expires_at),
        "resolved_at": iso(event.resolved_at),
        "resolved_by": event.resolved_by,
        "closed_at": iso(event.closed_at),
        "flapping": event.flapping,
        "suppressed": event.suppressed,
        "in_maintenance": event.in_maintenance,
        "escalation_level": event.escalation_level,
        "next_escalation_at": iso(event.next_escalation_at),
        "time_to_acknowledge_seconds": _seconds(event.time_to_acknowledge),
        "time_to_resolve_seconds": _seconds(event.time_to_resolve),
    }


def _seconds(value: dt.timedelta | None) -> float | None:
    return None if value is None else round(value.total_seconds(), 3)


def history_json(entry: HistoryEntry) -> dict[str, Any]:
    return {
        "at": iso(entry.at),
        "kind": entry.kind,
        "from_state": entry.from_state,
        "to_state": entry.to_state,
        "actor": entry.actor,
        "comment": entry.comment,
        "detail": entry.detail,
    }


def comment_json(comment: EventComment) -> dict[str, Any]:
    return {"id": comment.id, "at": iso(comment.at), "author": comment.author, "text": comment.text}


def event_detail_json(event: Event, history: Sequence[HistoryEntry], comments: Sequence[EventComment]) -> dict:
    return {**event_json(event), "history": [history_json(h) for h in history],
            "comments": [comment_json(c) for c in comments]}


def window_json(window: MaintenanceWindow, now: dt.datetime | None = None) -> dict[str, Any]:
    now = now or dt.datetime.now(dt.UTC)
    return {
        "id": window.id,
        "name": window.name,
        "hosts": window.pattern,
        "check": window.check,
        "kind": window.kind,
        "starts_at": iso(window.starts_at),
        "ends_at": iso(window.ends_at),
        "cron": window.cron,
        "weekdays": list(window.weekdays),
        "start_time": window.start_time.strftime("%H:%M") if window.start_time else None,
        "duration_seconds": window.duration.total_seconds() if window.duration else None,
        "timezone": window.timezone,
        "active": window.active(now),
        "description": window.describe(),
        "created_by": window.created_by,
        "created_at": iso(window.created_at),
    }


# -- queries ----------------------------------------------------------------------------------------

def _upper_list(value: Any) -> Any:
    if isinstance(value, str):
        value = [v for v in value.split(",") if v.strip()]
    if isinstance(value, list | tuple):
        return [str(v).strip().upper() for v in value] or None  # "severity=" is no filter, not an empty one
    return value


def _host_pattern(value: str | None) -> str | None:
    problem = None if value is None else syntax_problem(value)
    if problem:
        raise ValueError(problem)
    return value


MAX_SPAN = dt.timedelta(days=366)  # longest acknowledgement or maintenance window: a year and a day


def _span(value: dt.timedelta | None) -> dt.timedelta | None:
    if value is not None and not dt.timedelta(0) < value <= MAX_SPAN:
        raise ValueError("expected a duration above zero and at most 366d")
    return value


def _duration(value: Any) -> Any:
    try:
        return parse_duration(value)
    except OverflowError:
        raise ValueError("expected a duration of at most 366d") from None


Span = Annotated[dt.timedelta | None, BeforeValidator(_duration), AfterValidator(_span)]
HostPattern = Annotated[str | None, AfterValidator(_host_pattern)]


class EventQuery(BaseModel):
    """Which events to list: every filter given must hold; newest first."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    state: Literal["open", "all", "firing", "acknowledged", "resolved", "closed"] = "open"
    severity: Annotated[tuple[Literal["WARNING", "CRITICAL", "UNKNOWN", "NODATA"], ...] | None,
                        BeforeValidator(_upper_list)] = None
    target: HostPattern = Field(default=None, max_length=1000, description="host pattern: web*, linux:&prod, ~regex")
    check: str | None = Field(default=None, max_length=100, description="check name or glob")
    since: AwareDatetime | None = Field(default=None, description="opened at or after")
    until: AwareDatetime | None = Field(default=None, description="opened before")
    limit: int = Field(default=100, ge=1, le=MAX_LIMIT)

    @model_validator(mode="after")
    def _range(self) -> EventQuery:
        if self.since is not None and self.until is not None and self.since >= self.until:
            raise ValueError("since must come before until")
        return self


def query_events(repository: Any, query: EventQuery, inventory: Any = None) -> list[Event]:
    states = None if query.state == "all" else OPEN_STATES if query.state == "open" else (query.state,)
    narrowed = query.target is not None or query.check is not None
    events = repository.list_events(
        states=states, severities=query.severity, opened_from=query.since, opened_to=query.until,
        limit=None if narrowed else query.limit,
    )
    if not narrowed:
        return events
    matcher = TargetMatcher(inventory)
    out = []
    for event in events:
        if query.check is not None and not fnmatch.fnmatchcase(event.check, query.check):
            continue
        if query.target is not None and not matcher.matches(query.target, event.target):
            continue
        out.append(event)
        if len(out) >= query.limit:
            break
    return out


# -- changes ----------------------------------------------------------------------------------------

def _comment_text(value: str | None) -> str | None:
    return value if value is None or value.strip() else None


class Acknowledgement(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    comment: Annotated[str | None, AfterValidator(_comment_text)] = Field(default=None, max_length=2000)
    expires_at: AwareDatetime | None = Field(default=None, description="the event fires again then")
    expires_in: Span = Field(default=None, description="or: a duration such as 2h (at most 366d)")

    @model_validator(mode="after")
    def _one_expiry(self) -> Acknowledgement:
        if self.expires_at is not None and self.expires_in is not None:
            raise ValueError("give expires_at or expires_in, not both")
        return self

    def expiry(self, now: dt.datetime) -> dt.datetime | None:
        return now + self.expires_in if self.expires_in is not None else self.expires_at


class Resolution(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    comment: Annotated[str | None, AfterValidator(_comment_text)] = Field(default=None, max_length=2000)


class CommentIn(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    text: str = Field(min_length=1, max_length=2000)


class WindowSpec(BaseModel):
    """A maintenance window to create (API body; the CLI's options build the same)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    hosts: Annotated[str, AfterValidator(_host_pattern)] = Field(
        min_length=1, max_length=1000, description="host pattern, as a playbook task's hosts"
    )
    check: str | None = Field(default=None, max_length=100, description="check name or glob; none: every check")
    kind: Literal["once", "cron", "weekly"] = "once"
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None
    cron: str | None = Field(default=None, max_length=200)
    weekdays: tuple[str, ...] = ()
    start_time: dt.time | None = None
    duration: Span = None
    timezone: str = "UTC"

    @model_validator(mode="after")
    def _fields_of_its_kind(self) -> WindowSpec:
        # A field of another kind is a mistake to report, not a value to store and never use.
        foreign = {"once": ("cron", "weekdays", "start_time"), "cron": ("weekdays", "start_time"),
                   "weekly": ("cron",)}[self.kind]
        given = [name for name in foreign if getattr(self, name)]
        if given:
            raise ValueError(f"a {self.kind} window takes no {', '.join(given)}")
        return self

    def window(self, created_by: str, now: dt.datetime) -> MaintenanceWindow:
        """The window; ``ValueError`` saying what is wrong (a cron window without cron, say)."""
        starts_at, ends_at = self.starts_at, self.ends_at
        if self.kind == "once":
            starts_at = starts_at or now  # a one-off window without a start begins now
            if ends_at is None and self.duration is not None:
                ends_at = starts_at + self.duration
        return MaintenanceWindow(
            name=self.name, pattern=self.hosts, kind=self.kind, check=self.check, starts_at=starts_at,
            ends_at=ends_at, cron=self.cron, weekdays=self.weekdays, start_time=self.start_time,
            duration=None if self.kind == "once" else self.duration, timezone=self.timezone,
            created_by=created_by, created_at=now,
        )
