"""Reports over a period of the store (``patrol report daily`` and ``patrol report period``).

The period's findings are the newest result of every (target, check, item) that ran in it, whatever
produced it (agents, scheduled patrols, ``patrol run``); they are marked new, persisting or resolved
against the newest results of the period of the same length before it. The events section covers the
period itself.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from checks.status import Status
from collector.patrol import target_infos, targets_of
from collector.report.gcpause import gc_paused
from collector.report.history import store_sections
from collector.report.knowledge import KnowledgeBase
from collector.report.model import Report, build_report, zone
from collector.report.render import render
from collector.store.store import RunRecord, Store


def day_bounds(day: dt.date, timezone: str) -> tuple[dt.datetime, dt.datetime]:
    """Midnight to midnight of ``day`` in ``timezone``, as UTC (23 or 25 hours across a DST change)."""
    tz = zone(timezone)
    start = dt.datetime.combine(day, dt.time(0), tz)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tz)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


def write_period_report(
    store: Store, start: dt.datetime, end: dt.datetime, name: str, options: Any, out_dir: Path,
    inventory: Any = None,
) -> tuple[dict[str, Path], Status, int]:
    """Write the report of [start, end); returns (format -> path, worst status, results in the period)."""
    model, status, count = build_period_report(store, start, end, name, options, inventory)
    return render_period_report(model, name, options, out_dir), status, count


@gc_paused()
def build_period_report(
    store: Store, start: dt.datetime, end: dt.datetime, name: str, options: Any, inventory: Any = None,
) -> tuple[Report, Status, int]:
    """The report of [start, end), its worst status and the number of results in the period."""
    results = store.results_in_period(start, end)
    previous = store.results_in_period(start - (end - start), start)
    targets = targets_of((r.target for r in results), inventory)
    infos = target_infos(targets)
    status = Status.worst(r.status for r in results) if results else Status.OK
    run = RunRecord(
        id=None,  # type: ignore[arg-type] - a period, not a run: the report shows no run number
        playbook=name, playbook_path="", description=f"{start:%Y-%m-%d %H:%M} – {end:%Y-%m-%d %H:%M} UTC",
        source="period", started_at=start, finished_at=end, status=status, target_count=len(targets),
        check_count=len({(r.target, r.check) for r in results}), limit=None, inspector=None,
    )
    knowledge = KnowledgeBase.load(list(options.knowledge))
    # Every target of the store: the events and trend of a target that reported nothing in the period
    # (silent all day) belong in the report all the more.
    history = store_sections(store, start, end, None, population={t.name for t in targets})
    return build_report(run, results, previous or None, infos, knowledge, options, **history), status, len(results)


def render_period_report(model: Report, name: str, options: Any, out_dir: Path) -> dict[str, Path]:
    stamp = model.cover.started_at.astimezone(zone(model.cover.timezone)).strftime("%Y%m%d")
    return render(model, list(options.formats), out_dir, f"{name}-{stamp}")
