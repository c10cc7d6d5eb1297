"""Service KPIs over the events of a period: MTTA, MTTR, acknowledged within the target (10 minutes).

    events = repository.list_events(opened_from=start, opened_to=end)
    kpis = event_kpis(events, start, end)

The population is the events opened in [start, end). Counts by severity take them all; the duty KPIs
take the events receivers were told about (``first_notified_at`` set): an event held all its life by
maintenance, a down parent or flapping asked nobody to act.

- time to acknowledge: first notice -> first acknowledgement (an event held at first starts its clock
  when it is first told); MTTA is its mean over the acknowledged events;
- time to resolve: opening -> resolution (the last one, for a reopened event); MTTR over resolved ones;
- acknowledged within the target: of the told events whose case is decided, the share acknowledged in
  time. Decided: acknowledged (in time or late), or neither acknowledged nor resolved by the deadline.
  An event that resolved before its deadline without an acknowledgement needed none and is left out,
  and so is one still open, unacknowledged, whose deadline has not passed at ``now`` (default: ``end``).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from collector.events.model import Event

ACK_TARGET = dt.timedelta(minutes=10)


@dataclass(frozen=True)
class EventKpis:
    start: dt.datetime
    end: dt.datetime
    ack_target: dt.timedelta
    events: int  # opened in the period
    by_severity: dict[str, int]
    notified: int  # of those, told to receivers
    acknowledged: int
    acknowledged_in_time: int
    ack_decided: int
    acknowledged_within_target_percent: float | None  # None: no decided event
    mtta: dt.timedelta | None
    resolved: int
    mttr: dt.timedelta | None
    resolution_rate_percent: float | None


def event_kpis(
    events: Iterable[Event],
    start: dt.datetime,
    end: dt.datetime,
    now: dt.datetime | None = None,
    ack_target: dt.timedelta = ACK_TARGET,
) -> EventKpis:
    now = end if now is None else now
    population = [e for e in events if start <= e.opened_at < end]
    told = [e for e in population if e.first_notified_at is not None]
    to_ack = [e.time_to_acknowledge for e in told if e.time_to_acknowledge is not None]
    to_resolve = [e.time_to_resolve for e in told if e.time_to_resolve is not None]
    in_time = decided = 0
    for event in told:
        deadline = event.first_notified_at + ack_target  # type: ignore[operator]
        if event.first_acknowledged_at is not None:
            decided += 1
            in_time += event.first_acknowledged_at <= deadline
        elif event.resolved_at is not None and event.resolved_at <= deadline:
            continue
        elif now >= deadline:
            decided += 1
    return EventKpis(
        start=start,
        end=end,
        ack_target=ack_target,
        events=len(population),
        by_severity=dict(sorted(Counter(e.severity for e in population).items())),
        notified=len(told),
        acknowledged=len(to_ack),
        acknowledged_in_time=in_time,
        ack_decided=decided,
        acknowledged_within_target_percent=100.0 * in_time / decided if decided else None,
        mtta=_mean(to_ack),
        resolved=len(to_resolve),
        mttr=_mean(to_resolve),
        resolution_rate_percent=100.0 * len(to_resolve) / len(told) if told else None,
    )


def _mean(values: list[dt.timedelta]) -> dt.timedelta | None:
    return sum(values, dt.timedelta(0)) / len(values) if values else None
