"""Benchmark: the event engine in the collector, end to end, against issue 4's goals.

    .venv/bin/python bench/event_latency.py [--backlog 200000] [--probes 60] [--load 4000]

1. **Evaluated per second** through the collector's own path: ``--backlog`` results (bench/events.py's
   fleet: 90 % steady OK, 4 % failing, 3 % flapping, 3 % bad spells) are stored first, as agents'
   batches; then the event service evaluates the backlog from the results feed (read from the store,
   engine, position moved in the same transaction). Goal: at least 20,000 results/s.
2. **Result to webhook latency** through a real ``patrol serve`` (SQLite, one HTTP worker): simulated
   agents push ``--load`` OK results a second in the background while probe agents push one CRITICAL
   result each (``open_after: 1`` for the probe check, so that result opens the event); the time from
   the start of the probe's push to the webhook receiver's receipt of its ``opened`` notice, which it
   verifies by HMAC signature. Twice: with grouping off (wait 0), and with the default grouping wait of
   1 s (grouped by target). Goal: p99 under 2 s.
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import json
import os
import statistics
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
from integration.notify_support import Receiver, signed_webhook  # noqa: E402

from bench.events import workload  # noqa: E402
from collector.events.service import EventService, build_engine  # noqa: E402
from collector.events.settings import EventSettings  # noqa: E402
from collector.store import Store  # noqa: E402

GOAL_RATE = 20_000
GOAL_P99 = 2.0
SECRET = "bench-hook-secret"


def evaluated_per_second(backlog: int) -> tuple[float, int]:
    items = 50
    rounds = max(1, backlog // (200 * items))
    batches = [b for r in workload(200, items, rounds, 1000) for b in r]
    with tempfile.TemporaryDirectory() as directory, Store.open(f"sqlite:///{directory}/p.db") as store:
        for n, batch in enumerate(batches):
            store.ingest_batch(f"b{n}", batch[0].target, batch)
        service = EventService(store, build_engine(store, EventSettings(), None))
        started = time.perf_counter()
        evaluated = service.evaluate()
        seconds = time.perf_counter() - started
        events = len(service.engine.repository.list_events(states=("firing",)))
    return evaluated / seconds, events


def result(target: str, item: str, status: str, check: str = "disk") -> dict:
    now = time.time()
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now % 1 * 1e6):06d}Z"
    return {"target": target, "check": check, "item": item, "status": status, "summary": f"{item} {status}",
            "metrics": [{"name": "used", "value": 42.0, "unit": "%"}], "started_at": stamp,
            "duration_seconds": 0.01, "collected": True}


def push(session: requests.Session, url: str, token: str, agent: str, results: list[dict]) -> None:
    body = {"schema": "patrol.batch/1", "batch_id": f"{agent}-{time.monotonic_ns()}", "agent": agent,
            "results": results}
    answer = session.post(url + "/api/v1/results", data=gzip.compress(json.dumps(body).encode()), timeout=30,
                          headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json",
                                   "Content-Encoding": "gzip"})
    answer.raise_for_status()


def chain_latency(root: Path, grouping: dict, probes: int, load: int) -> list[float]:
    hook = Receiver(respond=signed_webhook(SECRET))
    collector = Collector(root, settings={
        "events": {"checks": {"probe": {"open_after": 1}}},
        "notifications": {
            "grouping": grouping,
            "channels": [{"name": "hook", "type": "webhook", "url": hook.url, "secret": {"env": "BENCH_SECRET"}}],
            "routes": [{"match": {"change": "opened"}, "channels": ["hook"]}],
        },
    })
    root.mkdir()
    collector.write_files()
    loaders = [f"load{i:02d}" for i in range(8)]
    probers = [f"probe{i:03d}" for i in range(probes)]
    inventory = "all:\n  hosts:\n" + "".join(f"    {n}: {{patrol_agent: true}}\n" for n in loaders + probers)
    (root / "inventory.yaml").write_text(inventory)
    with Store.open(collector.db) as store:
        tokens = {name: store.create_token("agent", name)[1] for name in loaders + probers}
    os.environ["BENCH_SECRET"] = SECRET  # inherited by patrol serve: the channel's secret is a reference
    collector.start()
    stop = threading.Event()
    sent: dict[str, float] = {}

    def background() -> None:
        session = requests.Session()
        per_push = 500
        for n in itertools.count():
            if stop.is_set():
                return
            started = time.monotonic()
            agent = loaders[n % len(loaders)]
            push(session, collector.url, tokens[agent], agent,
                 [result(agent, f"/vol{i:03d}", "OK") for i in range(per_push)])
            stop.wait(max(0.0, per_push / load - (time.monotonic() - started)))

    loader = threading.Thread(target=background, daemon=True)
    try:
        loader.start()
        time.sleep(2)  # the load is flowing
        session = requests.Session()
        for agent in probers:
            sent[agent] = time.monotonic()
            push(session, collector.url, tokens[agent], agent, [result(agent, "/", "CRITICAL", check="probe")])
            time.sleep(0.25)
        hook.wait_for(1, timeout=60)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            seen = {n["target"] for r in hook.requests for n in json.loads(r.body)["notices"]}
            if seen >= set(probers):
                break
            time.sleep(0.1)
        latencies = []
        for request in hook.requests:
            for notice in json.loads(request.body)["notices"]:
                if notice["target"] in sent:
                    latencies.append(request.at - sent.pop(notice["target"]))
        if sent:
            raise SystemExit(f"{len(sent)} probes never reached the webhook; collector log:\n{collector.log()[-3000:]}")
        return latencies
    finally:
        stop.set()
        loader.join(10)
        collector.kill()
        hook.stop()


def describe(latencies: list[float]) -> str:
    latencies = sorted(latencies)
    p = statistics.quantiles(latencies, n=100, method="inclusive")
    ratio = p[98] / GOAL_P99
    return (f"p50 {p[49] * 1000:7.0f} ms   p95 {p[94] * 1000:7.0f} ms   p99 {p[98] * 1000:7.0f} ms   "
            f"max {latencies[-1] * 1000:7.0f} ms   (p99 {ratio:.2f} x the 2 s goal)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backlog", type=int, default=200_000)
    parser.add_argument("--probes", type=int, default=60)
    parser.add_argument("--load", type=int, default=4000, help="background OK results pushed per second")
    args = parser.parse_args()

    rate, firing = evaluated_per_second(args.backlog)
    print(f"evaluated from the results feed: {rate:>9,.0f} results/s  ({rate / GOAL_RATE:.2f} x the goal of "
          f"{GOAL_RATE:,}/s; {firing} events firing after the backlog)")
    with tempfile.TemporaryDirectory() as directory:
        off = chain_latency(Path(directory) / "off", {"wait": 0, "window": 0}, args.probes, args.load)
        print(f"result -> webhook, grouping off:          {describe(off)}")
        grouped = chain_latency(Path(directory) / "grouped", {"wait": "1s", "window": "10s", "by": ["target"]},
                                args.probes, args.load)
        print(f"result -> webhook, grouping wait 1 s:     {describe(grouped)}")
    print(f"({args.probes} probes, one every 0.25 s, while {args.load:,} OK results/s are pushed in the background)")


if __name__ == "__main__":
    main()
