"""Benchmark: results evaluated per second by the event engine, on the SQLite repository and in memory.

    .venv/bin/python bench/events.py [--targets 200] [--items 50] [--rounds 20] [--batch 500] [--postgres]

The workload is a fleet of ``--targets`` hosts with ``--items`` checked items each, every item reporting
once per round (one round = one minute of the injected clock), fed to ``EventEngine.observe`` in batches
of ``--batch`` results (an agent's batch, as the collector would hand it over after storing it). Each
item keeps one behaviour for the whole run (seeded, so every run is the same):
- 90 % steady OK (the fast path: no track, nothing written);
- 4 % failing (WARNING or CRITICAL every time: one open event updated per result);
- 3 % flapping (OK or CRITICAL at random: tracks, flap detection, events opening and resolving);
- 3 % episodes (OK, with a bad spell of 3 to 6 rounds now and then: events open, escalate, resolve).
Every round also calls ``tick()`` (escalations, expiries, windows) and a 1-in-200 item is covered by a
recurring maintenance window. The results are built before timing: they are what the store hands over.

Printed, in results per second, each into a fresh repository: observe only, and observe plus the ticks;
the SQLite figure against the issue's goal (20,000/s). SQLite is a file in a fresh temporary directory
with the store's pragmas (WAL, synchronous FULL: each call's commit is durable). ``--postgres`` also runs
against a private PostgreSQL 15 (fsync=off, as in the tests) started with tests/integration/pg.py.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from checks.result import Metric, Result  # noqa: E402
from checks.status import Status  # noqa: E402
from collector.events import EventEngine, MaintenanceWindow, MemoryRepository, Policy  # noqa: E402
from collector.events.repository import DatabaseRepository  # noqa: E402
from collector.store import Store  # noqa: E402

GOAL = 20_000
T0 = dt.datetime(2026, 11, 23, 8, 0, tzinfo=dt.UTC)
ROUND = dt.timedelta(minutes=1)


def behaviours(targets: int, items: int, seed: int = 7) -> list[tuple[str, str, str]]:
    rng = random.Random(seed)
    out = []
    for t in range(targets):
        for i in range(items):
            roll = rng.random()
            kind = "ok" if roll < 0.90 else "failing" if roll < 0.94 else "flapping" if roll < 0.97 else "episodes"
            out.append((f"host{t:04d}", f"/srv/vol{i:03d}", kind))
    return out


def workload(targets: int, items: int, rounds: int, batch: int, seed: int = 7) -> list[list[list[Result]]]:
    """Per round, the batches of results (every item once per round, batches of ``batch`` results)."""
    rng = random.Random(seed + 1)
    fleet = behaviours(targets, items, seed)
    spell = {key: 0 for key in range(len(fleet))}
    out = []
    for n in range(rounds):
        at = T0 + n * ROUND
        results = []
        for index, (target, item, kind) in enumerate(fleet):
            if kind == "ok":
                status = Status.OK
            elif kind == "failing":
                status = Status.CRITICAL if index % 2 else Status.WARNING
            elif kind == "flapping":
                status = Status.CRITICAL if rng.random() < 0.5 else Status.OK
            else:
                if spell[index] == 0 and rng.random() < 0.08:
                    spell[index] = rng.randint(3, 6)
                status = Status.CRITICAL if spell[index] else Status.OK
                spell[index] = max(spell[index] - 1, 0)
            used = 95.0 if status is Status.CRITICAL else 85.0 if status is Status.WARNING else 42.0
            results.append(Result(
                target=target, check="disk", item=item, status=status,
                summary=f"{used}% used, {100 - used:.1f} GiB free of 100.0 GiB (xfs)",
                metrics=[Metric(name="used", value=used, unit="%")],
                started_at=at + dt.timedelta(milliseconds=index % 1000), duration_seconds=0.004,
            ))
        out.append([results[i : i + batch] for i in range(0, len(results), batch)])
    return out


def run(repository, rounds: list[list[list[Result]]]) -> tuple[float, float, int, int]:
    """Seconds in observe, seconds in tick, results evaluated, notices produced."""
    clock = [T0]
    engine = EventEngine(repository, Policy(), clock=lambda: clock[0])
    repository.add_window(MaintenanceWindow.cron_window("nightly", "host*0", "0 2 * * *", dt.timedelta(hours=1)))
    observe = ticking = 0.0
    evaluated = notices = 0
    for n, batches in enumerate(rounds):
        for batch in batches:
            clock[0] = T0 + n * ROUND + dt.timedelta(seconds=30)
            started = time.perf_counter()
            notices += len(engine.observe(batch))
            observe += time.perf_counter() - started
            evaluated += len(batch)
        started = time.perf_counter()
        notices += len(engine.tick(T0 + (n + 1) * ROUND))
        ticking += time.perf_counter() - started
    return observe, ticking, evaluated, notices


def report(name: str, figures: tuple[float, float, int, int], goal: bool) -> None:
    observe, ticking, evaluated, notices = figures
    rate = evaluated / observe
    with_ticks = evaluated / (observe + ticking)
    ratio = f"  ({rate / GOAL:.2f} x the goal of {GOAL:,}/s)" if goal else ""
    print(f"{name:<11} {rate:>10,.0f} results/s observe{ratio}")
    print(f"{'':<11} {with_ticks:>10,.0f} results/s observe + tick   ({evaluated:,} results, {notices:,} notices)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--targets", type=int, default=200)
    parser.add_argument("--items", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()
    rounds = workload(args.targets, args.items, args.rounds, args.batch)
    total = sum(len(b) for r in rounds for b in r)
    print(f"{total:,} results: {args.targets} targets x {args.items} items x {args.rounds} rounds, "
          f"batches of {args.batch}")

    report("memory", run(MemoryRepository(), rounds), goal=False)
    with tempfile.TemporaryDirectory() as directory, Store.open(f"sqlite:///{directory}/events.db") as store:
        report("sqlite", run(DatabaseRepository.from_store(store), rounds), goal=True)
    if args.postgres:
        sys.path.insert(0, str(ROOT / "tests" / "integration"))
        from pg import start_postgres  # noqa: PLC0415

        server = start_postgres()
        try:
            with Store.open(server.create_database("bench_events")) as store:
                report("postgresql", run(DatabaseRepository.from_store(store), rounds), goal=True)
        finally:
            server.stop()


if __name__ == "__main__":
    main()
