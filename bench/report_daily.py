"""Benchmark: the daily report of a large site, against issue 7's goals.

    .venv/bin/python bench/report_daily.py [--targets 1000] [--checks 20] [--days 30]

A store (SQLite, a fresh temporary file) holds ``--days`` days of history for ``--targets`` hosts with
``--checks`` items each (one result per item per day: disk file systems with growing usage, so the
capacity section has work). A bad morning, on purpose: on the last day about 30 % of the items are over
their WARNING or CRITICAL threshold (6,097 findings and as many events at the defaults), so the report's
longest tables are as long as they get. Then ``patrol report daily``'s builder runs for the last day:
timed once for HTML, once for PDF (the same report printed by WeasyPrint). Goals: HTML under 5 s, PDF
under 60 s on this machine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from checks.result import Metric, Result  # noqa: E402
from checks.status import Status  # noqa: E402
from collector.events.service import build_engine  # noqa: E402
from collector.events.settings import EventSettings  # noqa: E402
from collector.report.period import day_bounds, write_period_report  # noqa: E402
from collector.store import Store  # noqa: E402

GOALS = {"html": 5.0, "pdf": 60.0}
DAY = dt.timedelta(days=1)


def fill(store: Store, targets: int, checks: int, days: int, end: dt.datetime) -> int:
    rng = random.Random(7)
    stored = 0
    for day in range(days):
        at = end - (days - day) * DAY + dt.timedelta(hours=8)
        batch = []
        for t in range(targets):
            for c in range(checks):
                used = min(99.0, 40 + (t * 7 + c * 3) % 40 + day * 0.4 * ((t + c) % 3))
                if day == days - 1 and rng.random() < 0.03:
                    used = rng.choice((85.0, 95.0))
                status = Status.CRITICAL if used >= 90 else Status.WARNING if used >= 80 else Status.OK
                batch.append(Result(
                    target=f"host{t:04d}", check="disk", item=f"/srv/vol{c:02d}", status=status,
                    summary=f"/srv/vol{c:02d}: {used:.1f}% used", started_at=at + dt.timedelta(seconds=c),
                    duration_seconds=0.01,
                    metrics=[Metric(name="used", value=used, unit="%"), Metric(name="free", value=1e10, unit="B")],
                ))
        for i in range(0, len(batch), 5000):
            store.ingest_batch(f"d{day}-{i}", "bench", batch[i:i + 5000])
        stored += len(batch)
        if day >= days - 2:  # the last two days feed the event engine: events and KPIs to report
            build_engine(store, EventSettings(open_after=1), None).observe(
                [r for r in batch if r.status is not Status.OK]
            )
    return stored


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--targets", type=int, default=1000)
    parser.add_argument("--checks", type=int, default=20)
    parser.add_argument("--days", type=int, default=30)
    args = parser.parse_args()
    day = dt.date(2026, 11, 22)
    start, end = day_bounds(day, "UTC")
    with tempfile.TemporaryDirectory() as directory, Store.open(f"sqlite:///{directory}/p.db") as store:
        began = time.perf_counter()
        stored = fill(store, args.targets, args.checks, args.days, end)
        print(f"store: {stored:,} results ({args.targets} targets x {args.checks} items x {args.days} days) "
              f"in {time.perf_counter() - began:.1f} s")
        for fmt in ("html", "pdf"):
            options = SimpleNamespace(formats=(fmt,), language="en", knowledge=(), title=None, organisation="Bench",
                                      inspector=None, reviewer=None, timezone="UTC")
            began = time.perf_counter()
            paths, status, count = write_period_report(store, start, end, "daily", options, Path(directory) / fmt)
            seconds = time.perf_counter() - began
            size = paths[fmt].stat().st_size / 1e6
            print(f"daily report {fmt:<4} {seconds:7.2f} s  ({size:.1f} MB, {count:,} results, worst {status.value}; "
                  f"{seconds / GOALS[fmt]:.2f} x the {GOALS[fmt]:g} s goal)")


if __name__ == "__main__":
    main()
