"""Benchmark: push throughput through the collector (`patrol serve`) from many concurrent simulated
agents, into SQLite and into PostgreSQL, side by side with a raw ``executemany`` of the same rows.

    .venv/bin/python bench/ingest.py [--batches 60] [--size 1000] [--agents 20] [--concurrency 16] [--postgres]

Each simulated agent has its own token and pushes gzip-compressed ``patrol.batch/1`` bodies (1,000
realistic results with 4 metrics each, prepared before timing) over its own HTTP connection, the way
``patrol-agent`` does; the collector validates, stores each batch exactly once and answers after the
commit. Printed: results/s through HTTP, results/s of a raw driver ``executemany`` of the same result
rows into the same schema on the same machine (bench/ingest_store.py), and their ratio. Goals of the
collector issue: >= 50,000 results/s into SQLite on this 2-core machine and >= 1/4 of the raw rate.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import gzip
import json
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from integration.collector_support import Collector  # noqa: E402

from bench.ingest_store import run_raw_postgres, run_raw_sqlite, workload  # noqa: E402
from collector.store import Store  # noqa: E402


def bodies(work) -> list[tuple[str, bytes]]:
    out = []
    for batch_id, agent, results in work:
        body = {
            "schema": "patrol.batch/1",
            "batch_id": batch_id,
            "agent": agent,
            "results": [r.to_json_dict() for r in results],
        }
        out.append((agent, gzip.compress(json.dumps(body).encode(), compresslevel=6)))
    return out


def push_all(url: str, tokens: dict[str, str], prepared: list[tuple[str, bytes]], concurrency: int) -> float:
    local = threading.local()

    def push(item: tuple[str, bytes]) -> None:
        agent, body = item
        session = getattr(local, "session", None) or requests.Session()
        local.session = session
        r = session.post(
            url + "/api/v1/results",
            data=body,
            timeout=120,
            headers={
                "Content-Type": "application/json",
                "Content-Encoding": "gzip",
                "Authorization": f"Bearer {tokens[agent]}",
            },
        )
        if r.status_code != 200 or r.json()["duplicate"]:
            raise SystemExit(f"bench: push refused: {r.status_code} {r.text[:300]}")

    start = time.perf_counter()
    with cf.ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(push, prepared))
    return time.perf_counter() - start


def through_http(root: Path, db_url: str, work, warmup, concurrency: int, workers: int) -> float:
    root.mkdir()
    collector = Collector(root, settings={"db": db_url, "workers": workers})
    collector.write_files()
    with Store.open(db_url) as store:  # tokens straight into the store: 20 CLI runs would take 20 s
        tokens = {agent: store.create_token("agent", agent)[1] for agent in {a for _, a, _ in warmup + work}}
    collector.start()
    try:
        push_all(collector.url, tokens, bodies(warmup), concurrency)
        prepared = bodies(work)
        return push_all(collector.url, tokens, prepared, concurrency)
    except SystemExit:
        print(collector.log()[-3000:], file=sys.stderr)
        raise
    finally:
        collector.kill(15)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batches", type=int, default=60)
    parser.add_argument("--size", type=int, default=1000)
    parser.add_argument("--agents", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=16, help="agents pushing at the same time")
    parser.add_argument("--workers", type=int, default=2, help="patrol serve HTTP worker processes")
    parser.add_argument("--postgres", action="store_true", help="also measure a private PostgreSQL 15")
    args = parser.parse_args()
    everything = workload(3 + args.batches, args.size, args.agents, 250)
    warmup, work = everything[:3], everything[3:]
    count = sum(len(r) for _, _, r in work)
    print(
        f"{args.batches} batches of {args.size} results (4 metrics each) from {args.agents} agents, "
        f"{args.concurrency} pushing at once, {args.workers} collector worker(s): {count:,} results timed"
    )
    rows = []
    with tempfile.TemporaryDirectory(prefix="patrol-bench-") as tmp:
        directory = Path(tmp)
        http = through_http(
            directory / "c1", f"sqlite:///{directory}/http.db", work, warmup, args.concurrency, args.workers
        )
        raw = run_raw_sqlite(directory / "raw.db", warmup, work, full=False)
        rows.append(("SQLite", count / http, count / raw))
        if args.postgres:
            from integration.pg import start_postgres

            server = start_postgres()
            try:
                http = through_http(
                    directory / "c2", server.create_database("http"), work, warmup, args.concurrency, args.workers
                )
                raw = run_raw_postgres(server.dsn("raw"), server.create_database("raw"), warmup, work, False)
                rows.append(("PostgreSQL 15", count / http, count / raw))
            finally:
                server.stop()
    print(f"  {'':16}{'via patrol serve':>20}{'raw executemany':>20}{'ratio':>8}")
    for name, http_rate, raw_rate in rows:
        print(f"  {name:16}{http_rate:>14,.0f} res/s{raw_rate:>14,.0f} res/s{http_rate / raw_rate:8.2f}")
    print("  goals: >= 50,000 res/s into SQLite; ratio >= 0.25")


if __name__ == "__main__":
    main()
