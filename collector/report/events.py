"""The report's "Events and service KPIs" section: what the event engine recorded for the report's
targets over a period — events by severity, MTTA, MTTR, acknowledged within 10 minutes, the events
still open, and the most recurring problems (candidates for problem management).

Built from the event repository (``collector.events``); the KPI rules are ``collector.events.kpi``'s.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Collection, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict

from collector.events.kpi import event_kpis
from collector.events.model import OPEN_STATES, Event

RECURRING_LIMIT = 10
OPEN_LIMIT = 50
SEVERITY_ORDER = ("CRITICAL", "WARNING", "UNKNOWN", "NODATA")


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class OpenEvent(_Model):
    id: int
    target: str
    check: str
    item: str
    severity: str
    state: str
    summary: str
    opened_at: dt.datetime
    acknowledged_by: str | None
    in_maintenance: bool
    suppressed: bool


class RecurringEvent(_Model):
    target: str
    check: str
    item: str
    events: int  # events of this fingerprint opened in the period
    worst_severity: str


class Availability(_Model):
    """A target's share of the period not covered by a "down" event (unreachable, silent, a down check
    CRITICAL): from the event's first bad result to its resolution, overlaps counted once."""

    target: str
    percent: float
    down_seconds: float
    outages: int  # down events overlapping the period


class EventsSection(_Model):
    start: dt.datetime
    end: dt.datetime
    opened: int
    by_severity: dict[str, int]
    notified: int
    acknowledged: int
    mtta_seconds: float | None
    mttr_seconds: float | None
    acknowledged_within_target_percent: float | None
    ack_target_minutes: float
    resolution_rate_percent: float | None
    open_now: list[OpenEvent]
    open_total: int
    recurring: list[RecurringEvent]
    availability: list[Availability] = []  # targets below 100 %, the lowest first
    availability_targets: int = 0  # targets the figure covers (the rest of them were up all the period)


def events_section(period_events: Sequence[Event], open_events: Sequence[Event], start: dt.datetime,
                   end: dt.datetime, targets: Collection[str] | None = None,
                   population: Collection[str] = ()) -> EventsSection:
    """The section for ``targets`` (None: every target): ``period_events`` overlapping [start, end)
    (opened in it, or opened before and not resolved before ``start``), ``open_events`` open now.
    The counts and KPIs take the events opened in the period; availability takes every overlapping one.
    ``population``: with ``targets`` None, the targets the report covers besides those with events (the
    availability figure counts them)."""
    def wanted(event: Event) -> bool:
        return targets is None or event.target in targets

    overlapping = [e for e in period_events if wanted(e)]
    period = [e for e in overlapping if start <= e.opened_at < end]
    still_open = sorted(
        (e for e in open_events if wanted(e) and e.state in OPEN_STATES),
        key=lambda e: (SEVERITY_ORDER.index(e.severity) if e.severity in SEVERITY_ORDER else 9, e.opened_at),
    )
    kpis = event_kpis(period, start, end)
    per_fingerprint = Counter((e.target, e.check, e.item) for e in period)
    worst: dict[tuple[str, str, str], str] = {}
    for e in period:
        key = (e.target, e.check, e.item)
        if key not in worst or _rank(e.severity) < _rank(worst[key]):
            worst[key] = e.severity
    recurring = [
        RecurringEvent(target=t, check=c, item=i, events=n, worst_severity=worst[(t, c, i)])
        for (t, c, i), n in sorted(per_fingerprint.items(), key=lambda kv: (-kv[1], kv[0]))
        if n > 1
    ][:RECURRING_LIMIT]
    return EventsSection(
        start=start,
        end=end,
        opened=kpis.events,
        by_severity={s: kpis.by_severity[s] for s in SEVERITY_ORDER if s in kpis.by_severity},
        notified=kpis.notified,
        acknowledged=kpis.acknowledged,
        mtta_seconds=_seconds(kpis.mtta),
        mttr_seconds=_seconds(kpis.mttr),
        acknowledged_within_target_percent=kpis.acknowledged_within_target_percent,
        ack_target_minutes=kpis.ack_target.total_seconds() / 60,
        resolution_rate_percent=kpis.resolution_rate_percent,
        open_now=[_open(e) for e in still_open[:OPEN_LIMIT]],
        open_total=len(still_open),
        recurring=recurring,
        availability=availability(overlapping, start, end),
        availability_targets=len(set(targets) if targets is not None
                                 else {e.target for e in overlapping} | set(population)),
    )


def availability(events: Sequence[Event], start: dt.datetime, end: dt.datetime) -> list[Availability]:
    """Targets with downtime in [start, end), the lowest availability first."""
    spans: dict[str, list[tuple[dt.datetime, dt.datetime]]] = {}
    for e in events:
        if e.down_from is None:
            continue
        begin, finish = max(e.down_from, start), min(e.down_to or e.resolved_at or end, end)
        if finish > begin:
            spans.setdefault(e.target, []).append((begin, finish))
    period = (end - start).total_seconds()
    rows = []
    for target, intervals in spans.items():
        down = 0.0
        reach = start
        for begin, finish in sorted(intervals):  # merged: overlapping outages count once
            begin = max(begin, reach)
            if finish > begin:
                down += (finish - begin).total_seconds()
                reach = finish
        rows.append(Availability(target=target, percent=100.0 * (1 - down / period), down_seconds=down,
                                 outages=len(intervals)))
    return sorted(rows, key=lambda r: (r.percent, r.target))


def problem_since(repository: Any) -> dict[tuple[str, str, str], dt.datetime]:
    """When each item's current non-OK streak began, from the event engine's noise-control state
    (kept for every item that is not at rest) and, for an item without one, its open event."""
    since = {(e.target, e.check, e.item): e.first_seen for e in repository.list_events(states=OPEN_STATES)}
    for track in repository.tracks():
        if track.bad_streak and track.streak_started_at is not None:
            since[(track.target, track.check, track.item)] = track.streak_started_at
    return since


def events_for_report(repository: Any, start: dt.datetime, end: dt.datetime,
                      targets: Collection[str] | None = None, population: Collection[str] = ()) -> EventsSection:
    """Read the events overlapping the period and the open ones from ``repository`` and build the section."""
    period = repository.list_events(opened_to=end, active_from=start)
    still_open = repository.list_events(states=OPEN_STATES)
    return events_section(period, still_open, start, end, targets, population)


def _rank(severity: str) -> int:
    return SEVERITY_ORDER.index(severity) if severity in SEVERITY_ORDER else len(SEVERITY_ORDER)


def _seconds(value: dt.timedelta | None) -> float | None:
    return None if value is None else value.total_seconds()


def _open(e: Event) -> OpenEvent:
    return OpenEvent(
        id=e.id, target=e.target, check=e.check, item=e.item, severity=e.severity, state=e.state,  # type: ignore[arg-type]
        summary=e.last_summary, opened_at=e.opened_at, acknowledged_by=e.acknowledged_by,
        in_maintenance=e.in_maintenance, suppressed=e.suppressed,
    )
