"""Benchmark: agent batches through ``Store.ingest_batch`` against a raw ``executemany`` of the same rows.

    .venv/bin/python bench/ingest_store.py [--batches N] [--size 1000] [--postgres]

Every batch holds ``--size`` realistic results (host checks, 4 metrics each, thresholds, a playbook and
a scheduled time) from one of ``--agents`` agents: ``--items`` items per agent, so a batch of 1,000 is
4 firings of 250 items and latest_results is updated as in steady state (its rows exist and get
replaced). The results are built before timing: they are what the HTTP layer hands the store.

Figures printed, in results per second, each into a fresh database with the store's schema:
- store: ``Store.ingest_batch`` for every batch: claim the batch id, insert the results, update
  latest_results and the agent, commit (one transaction per batch, like the API);
- raw insert: a hand-written ``executemany`` INSERT of the same result rows with the driver itself
  (sqlite3 or psycopg), one transaction per batch, the rows built from the same results with the same
  JSON serializer; the issue's goal is store >= 1/4 of this (and >= 50,000 results/s into SQLite);
- raw, all statements: the raw insert plus the other statements the store runs (batch claim,
  latest_results and daily_results upserts, agent upsert), by hand: what the store's own Python costs
  on top.

SQLite files are in a fresh temporary directory, in WAL mode with the store's pragmas (synchronous is
SQLite's default, FULL: a commit is durable). ``--postgres`` also runs everything against a private
PostgreSQL 15 (fsync=off, as in the tests) started with tests/integration/pg.py.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pydantic_core  # noqa: E402

from checks.result import Metric, Result, ThresholdSpec  # noqa: E402
from checks.status import Status  # noqa: E402
from collector.store import Store  # noqa: E402
from collector.store.store import _daily_upsert  # noqa: E402

T0 = dt.datetime(2026, 11, 23, 8, 0, tzinfo=dt.UTC)
RESULT_COLUMNS = (
    "run_id", "target", "check", "item", "status", "summary", "metrics", "thresholds", "started_at",
    "duration_seconds", "collected", "created_at", "playbook", "scheduled_at", "batch_id",
)
LATEST_COLUMNS = ("target", "check", "item", "status", "summary", "collected", "started_at", "duration_seconds",
                  "metrics")

Work = list[tuple[str, str, list[Result]]]  # (batch id, agent, results)


# -- the workload ------------------------------------------------------------------------------------


def item_results(agent: str, items: int, firing: int) -> list[Result]:
    """One firing of an agent's checks: disks, network interfaces, cpu/memory-like figures."""
    at = T0 + dt.timedelta(minutes=firing)
    out = []
    for i in range(items):
        kind = i % 3
        if kind == 0:
            mount = f"/srv/vol{i:03d}"
            used = 40 + (i * 7 + firing) % 55
            status = Status.OK if used < 80 else Status.WARNING if used < 90 else Status.CRITICAL
            out.append(Result(
                target=agent, check="disk", item=mount, status=status,
                summary=f"{used}.0% used, {100 - used}.0 GiB free of 100.0 GiB (xfs), inodes 97.1% free",
                metrics=[
                    Metric(name="used", value=used + 0.25, unit="%"),
                    Metric(name="free", value=(100 - used) * 1073741824.0, unit="B"),
                    Metric(name="total", value=107374182400.0, unit="B"),
                    Metric(name="inodes_free", value=97.1, unit="%"),
                ],
                thresholds=[ThresholdSpec(metric="used", warning="80", critical="90"),
                            ThresholdSpec(metric="inodes_free", warning="20:", critical="10:")],
                started_at=at + dt.timedelta(milliseconds=i), duration_seconds=0.004,
                playbook="continuous", scheduled_at=at,
            ))
        elif kind == 1:
            nic = f"eth{i}"
            out.append(Result(
                target=agent, check="network_interfaces", item=nic, status=Status.OK,
                summary=f"{nic} up, rx 1.2 MB/s, tx 0.4 MB/s, 0 errors/s",
                metrics=[
                    Metric(name="errors", value=0.0, unit="/s", labels={"interface": nic}),
                    Metric(name="drops", value=0.013, unit="/s", labels={"interface": nic}),
                    Metric(name="rx", value=1234567.8 + firing, unit="B/s", labels={"interface": nic}),
                    Metric(name="tx", value=412345.6 + i, unit="B/s", labels={"interface": nic}),
                ],
                thresholds=[ThresholdSpec(metric="errors", warning="1", critical="10")],
                started_at=at + dt.timedelta(milliseconds=i), duration_seconds=1.002,
                playbook="continuous", scheduled_at=at,
            ))
        else:
            out.append(Result(
                target=agent, check="cpu", item=f"cpu{i}", status=Status.OK,
                summary="23.4% busy (user 15.1%, system 6.2%, iowait 2.1%)",
                metrics=[
                    Metric(name="busy", value=23.4, unit="%"),
                    Metric(name="user", value=15.1, unit="%"),
                    Metric(name="system", value=6.2, unit="%"),
                    Metric(name="iowait", value=2.1, unit="%"),
                ],
                thresholds=[ThresholdSpec(metric="busy", warning="80", critical="90")],
                started_at=at + dt.timedelta(milliseconds=i), duration_seconds=1.001,
                playbook="continuous", scheduled_at=at,
            ))
    return out


def workload(batches: int, size: int, agents: int, items: int) -> Work:
    firings = max(1, size // items)
    out = []
    for b in range(batches):
        agent = f"host{b % agents:04d}"
        first_firing = (b // agents) * firings
        results = [r for f in range(firings) for r in item_results(agent, items, first_firing + f)][:size]
        out.append((f"{agent}-{b:012d}-bench", agent, results))
    return out


# -- the store -----------------------------------------------------------------------------------------


def run_store(url: str, warmup: Work, work: Work) -> float:
    store = Store.open(url)
    try:
        for batch_id, agent, results in warmup:
            store.ingest_batch(batch_id, agent, results)
        start = time.perf_counter()
        for batch_id, agent, results in work:
            outcome = store.ingest_batch(batch_id, agent, results)
            assert outcome.stored == len(results) and not outcome.duplicate
        elapsed = time.perf_counter() - start
        assert len(store.latest_results()) > 0
    finally:
        store.close()
    return elapsed


# -- raw drivers ---------------------------------------------------------------------------------------


def _json(value: object) -> str:
    return pydantic_core.to_json(value).decode()


def sqlite_rows(results: list[Result], batch_id: str, now: str) -> list[tuple]:
    def when(value: dt.datetime | None) -> str | None:
        return None if value is None else value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(" ", "microseconds")

    return [
        (None, r.target, r.check, r.item, r.status.value, r.summary, _json(r.metrics), _json(r.thresholds),
         when(r.started_at), r.duration_seconds, int(r.collected), now, r.playbook, when(r.scheduled_at), batch_id)
        for r in results
    ]


def postgres_rows(results: list[Result], batch_id: str, now: dt.datetime) -> list[tuple]:
    return [
        (None, r.target, r.check, r.item, r.status.value, r.summary, _json(r.metrics), _json(r.thresholds),
         r.started_at, r.duration_seconds, r.collected, now, r.playbook, r.scheduled_at, batch_id)
        for r in results
    ]


def _quoted(columns: tuple[str, ...]) -> str:
    return ", ".join(f'"{c}"' for c in columns)


def raw_statements(placeholder: str, postgres: bool) -> dict[str, str]:
    p = placeholder
    values = ", ".join([p] * len(RESULT_COLUMNS))
    latest = _quoted(LATEST_COLUMNS)
    updated = [c for c in LATEST_COLUMNS if c not in ("target", "check", "item")] + ["result_id"]
    daily = str(_daily_upsert(sqlite=not postgres))
    if postgres:
        source = (f"SELECT DISTINCT ON (target, \"check\", item) {latest}, id FROM results WHERE id BETWEEN "
                  f"{placeholder} AND {placeholder} ORDER BY target, \"check\", item, started_at DESC, id DESC")
    else:
        source = (f"SELECT {latest}, id FROM results WHERE id BETWEEN {placeholder} AND {placeholder} "
                  "ORDER BY target, \"check\", item, started_at, id")
    return {
        "insert": f"INSERT INTO results ({_quoted(RESULT_COLUMNS)}) VALUES ({values})",
        "insert_with_id": f"INSERT INTO results (id, {_quoted(RESULT_COLUMNS)}) VALUES ({p}, {values})",
        "reserve": f"SELECT nextval(pg_get_serial_sequence('results', 'id')) FROM generate_series(1, {p})",
        "claim": f"INSERT INTO ingest_batches (batch_id, agent, received_at, result_count) VALUES ({p}, {p}, {p}, {p}) "
        "ON CONFLICT (batch_id) DO NOTHING",
        "latest": f"INSERT INTO latest_results ({latest}, result_id) {source} "
        "ON CONFLICT (target, \"check\", item) DO UPDATE SET "
        + ", ".join(f'"{c}" = excluded."{c}"' for c in updated)
        + " WHERE latest_results.started_at <= excluded.started_at",
        # The daily rollup's upsert is the store's own SQL text (no SQLAlchemy at run time either way);
        # psycopg's placeholders make a literal % a %%.
        "daily": (daily.replace("%", "%%") if postgres else daily).replace(":first", p).replace(":last", p),
        "agent": "INSERT INTO agents (name, first_seen, last_seen, results_received) "
        f"VALUES ({p}, {p}, {p}, {p}) ON CONFLICT (name) DO UPDATE SET last_seen = excluded.last_seen, "
        "results_received = agents.results_received + excluded.results_received",
    }


def run_raw_sqlite(path: Path, warmup: Work, work: Work, full: bool) -> float:
    Store.open(f"sqlite:///{path}").close()  # the store's schema, migrated
    sql = raw_statements("?", postgres=False)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA foreign_keys=ON")
    try:
        start = 0.0
        for n, (batch_id, agent, results) in enumerate(warmup + work):
            if n == len(warmup):
                start = time.perf_counter()
            now = dt.datetime.now(dt.UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
            conn.execute("BEGIN")
            if full:
                conn.execute(sql["claim"], (batch_id, agent, now, len(results)))
            conn.executemany(sql["insert"], sqlite_rows(results, batch_id, now))
            if full:
                (last,) = conn.execute("SELECT max(id) FROM results").fetchone()
                conn.execute(sql["latest"], (last - len(results) + 1, last))
                conn.execute(sql["daily"], (last - len(results) + 1, last))
                conn.execute(sql["agent"], (agent, now, now, len(results)))
            conn.execute("COMMIT")
        return time.perf_counter() - start
    finally:
        conn.close()


def run_raw_postgres(dsn: str, url: str, warmup: Work, work: Work, full: bool) -> float:
    import psycopg

    Store.open(url).close()
    sql = raw_statements("%s", postgres=True)
    with psycopg.connect(dsn) as conn:
        start = 0.0
        for n, (batch_id, agent, results) in enumerate(warmup + work):
            if n == len(warmup):
                start = time.perf_counter()
            now = dt.datetime.now(dt.UTC)
            with conn.cursor() as cur:
                if full:  # as the store does it: ids reserved from the sequence, then one executemany
                    cur.execute(sql["claim"], (batch_id, agent, now, len(results)))
                    cur.execute(sql["reserve"], (len(results),))
                    ids = [row[0] for row in cur.fetchall()]
                    rows = postgres_rows(results, batch_id, now)
                    rows = [(row_id, *row) for row_id, row in zip(ids, rows, strict=True)]
                    cur.executemany(sql["insert_with_id"], rows)
                    cur.execute(sql["latest"], (min(ids), max(ids)))
                    cur.execute(sql["daily"], (min(ids), max(ids)))
                    cur.execute(sql["agent"], (agent, now, now, len(results)))
                else:
                    cur.executemany(sql["insert"], postgres_rows(results, batch_id, now))
            conn.commit()
        return time.perf_counter() - start


# -- report --------------------------------------------------------------------------------------------


def rate(count: int, seconds: float) -> str:
    return f"{count / seconds:>10,.0f} results/s  ({seconds:6.2f} s)"


def measure(name: str, count: int, repeat: int, runs: list[tuple[str, Callable[[int], float]]]) -> None:
    """Run every contender ``repeat`` times, interleaved, each into a fresh database; print the medians."""
    print(f"{name} (median of {repeat}):")
    times: dict[str, list[float]] = {label: [] for label, _ in runs}
    for attempt in range(repeat):
        for label, run in runs:
            times[label].append(run(attempt))
    seconds = {label: statistics.median(values) for label, values in times.items()}
    for label, _ in runs:
        print(f"  {label:<22} {rate(count, seconds[label])}")
    print(f"  store / raw insert     {seconds['raw insert'] / seconds['store']:10.2f}")
    print(f"  store / raw, all stmts {seconds['raw, all statements'] / seconds['store']:10.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batches", type=int, default=50)
    parser.add_argument("--size", type=int, default=1000, help="results per batch")
    parser.add_argument("--agents", type=int, default=20)
    parser.add_argument("--items", type=int, default=250, help="items per agent and firing")
    parser.add_argument("--warmup", type=int, default=3, help="batches stored before timing starts")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each contender (the median counts)")
    parser.add_argument("--postgres", action="store_true", help="also measure a private PostgreSQL 15")
    args = parser.parse_args()

    everything = workload(args.warmup + args.batches, args.size, args.agents, args.items)
    warmup, work = everything[: args.warmup], everything[args.warmup :]
    count = sum(len(results) for _, _, results in work)
    print(f"{args.batches} batches of {args.size} results (4 metrics each), {args.agents} agents, "
          f"{args.items} items per agent and firing: {count:,} results timed, after {args.warmup} warm-up batches")

    with tempfile.TemporaryDirectory(prefix="patrol-bench-") as tmp:
        directory = Path(tmp)
        measure("SQLite", count, args.repeat, [
            ("store", lambda n: run_store(f"sqlite:///{directory}/store-{n}.db", warmup, work)),
            ("raw insert", lambda n: run_raw_sqlite(directory / f"raw-{n}.db", warmup, work, full=False)),
            ("raw, all statements",
             lambda n: run_raw_sqlite(directory / f"raw-all-{n}.db", warmup, work, full=True)),
        ])

    if args.postgres:
        from tests.integration.pg import start_postgres

        server = start_postgres()
        try:
            measure("PostgreSQL 15 (fsync=off)", count, args.repeat, [
                ("store", lambda n: run_store(server.create_database("store"), warmup, work)),
                ("raw insert",
                 lambda n: run_raw_postgres(server.dsn("raw"), server.create_database("raw"), warmup, work, False)),
                ("raw, all statements",
                 lambda n: run_raw_postgres(server.dsn("all"), server.create_database("all"), warmup, work, True)),
            ])
        finally:
            server.stop()


if __name__ == "__main__":
    main()
