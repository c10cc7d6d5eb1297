"""The parts of a report that come from the store's history rather than from the reported results:
events and KPIs, capacity forecasts, when each problem began, and the daily health trend.

One function for both reports (a patrol run's and a period's), so they read the same way.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Collection
from typing import Any, TypedDict

from collector.events.repository import DatabaseRepository
from collector.report.capacity import CapacityRow, capacity_for_report
from collector.report.events import EventsSection, events_for_report, problem_since
from collector.report.model import DayStatus, Key

TREND_DAYS = 14  # the trend chart's days at least; a longer period report shows its whole period
TREND_DAYS_MAX = 92


class StoreSections(TypedDict):
    events: EventsSection
    capacity: list[CapacityRow]
    since: dict[Key, dt.datetime]
    trend: list[DayStatus]


def store_sections(store: Any, start: dt.datetime, end: dt.datetime, targets: Collection[str] | None,
                   population: Collection[str] = ()) -> StoreSections:
    """``build_report``'s history arguments for [start, end) and ``targets`` (None: every target;
    ``population`` then names those the report covers, for the availability figure)."""
    repository = DatabaseRepository.from_store(store)
    wanted = set(targets) if targets is not None else None
    return StoreSections(
        events=events_for_report(repository, start, end, wanted, population),
        capacity=capacity_for_report(store, end, wanted),
        since=problem_since(repository),
        trend=trend_for_report(store, start, end, wanted),
    )


def trend_for_report(store: Any, start: dt.datetime, end: dt.datetime, targets: set[str] | None) -> list[DayStatus]:
    if targets is not None and not targets:
        return []
    days = min(TREND_DAYS_MAX, max(TREND_DAYS, math.ceil((end - start) / dt.timedelta(days=1))))
    counts = store.daily_status_counts(end - dt.timedelta(days=days), end, targets)
    return [DayStatus.from_counts(day, by_status) for day, by_status in counts.items()]
