"""Benchmark: ingest throughput and push latency of 1 and of 2 `patrol serve` replicas on one PostgreSQL.

    .venv/bin/python bench/scale_out.py [--replicas 1,2] [--workers 1] [--batches 6000] [--agents 2000]
                                        [--concurrency 32] [--client raw|httpx]

The same prepared workload runs against each configuration, each time on a fresh PostgreSQL 15
(fsync=off) with a fresh database (bench/replicas.py): ``--batches`` patrol.batch/1 bodies of 20-40
realistic results each, from ``--agents`` simulated agents (bench/load_agents.py's records, gzip-encoded
as patrol-agent sends them, built before timing), pushed by ``--concurrency`` pushers at once with kept
connections. Each agent's batches go to one replica (agent number modulo replicas), as behind a load
balancer. A warm-up of 2 batches per agent (its token's first use) is pushed first and not timed.

Printed, one row per configuration: results/s and pushes/s over the timed part, push latency p50 and
p99, and the ratio of results/s to the 1-replica row (the reference: one replica, one worker, same
workload, same machine); then the CPU each part used. Every run is counted in PostgreSQL afterwards
(rows of ``results`` per batch id): a run that lost or doubled anything fails the benchmark.

This machine has 2 cores, shared by PostgreSQL, every replica (and its workers) and the load generator:
a second replica can only use what the first leaves idle, so the ratio here says how much of the
machine one replica leaves unused, not what a second host would add. Figures are reported as measured.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from agent import __version__ as AGENT_VERSION  # noqa: E402
from bench.load_agents import CONNECT_TIMEOUT, READ_TIMEOUT, _quantile, agent_shapes, batch_body, firing_results  # noqa: E402
from bench.push_client import CLIENTS  # noqa: E402
from bench.replicas import CpuMeter, PgActivity, ReplicaSet  # noqa: E402

Prepared = list[tuple[int, str, int, bytes]]  # (agent index, batch id, results, gzip body)


def prepare(agents: int, batches: int, seed: int, warmup_per_agent: int = 2) -> tuple[list, Prepared, Prepared]:
    rng = random.Random(seed)
    shapes = agent_shapes(agents, rng)
    now = time.time()

    def batch(n: int, firing: int, tag: str) -> tuple[int, str, int, bytes]:
        shape = shapes[n]
        results = firing_results(shape, firing, now + firing, now)
        batch_id = f"{shape.name}-{firing:012d}-{tag}"
        return n, batch_id, len(results), batch_body(shape, batch_id, results)

    warmup = [batch(n, f, "warm") for f in range(warmup_per_agent) for n in range(agents)]
    timed = [batch(b % agents, warmup_per_agent + b // agents, "bench") for b in range(batches)]
    return shapes, warmup, timed


@dataclass
class Outcome:
    replicas: int
    workers: int
    seconds: float = 0.0
    results: int = 0
    pushes: int = 0
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    cpu: dict[str, float] = field(default_factory=dict)  # name -> % of one core over the timed part
    sessions: str = ""  # PostgreSQL sessions by state, on average

    @property
    def results_per_second(self) -> float:
        return self.results / self.seconds

    @property
    def pushes_per_second(self) -> float:
        return self.pushes / self.seconds


async def push_all(urls: list[str], tokens: list[str], prepared: Prepared, concurrency: int, client: str,
                   outcome: Outcome | None) -> None:
    clients = [CLIENTS[client](url, connect_timeout=CONNECT_TIMEOUT, read_timeout=READ_TIMEOUT, keepalive=True)
               for url in urls]
    queue = iter(prepared)

    async def pusher() -> None:
        for n, batch_id, count, body in queue:
            headers = {"User-Agent": f"patrol-agent/{AGENT_VERSION}", "Content-Type": "application/json",
                       "Accept": "application/json", "Content-Encoding": "gzip", "Authorization": f"Bearer {tokens[n]}"}
            started = time.perf_counter()
            try:
                answer = await clients[n % len(clients)].post("/api/v1/results", body, headers)
            except Exception as exc:  # noqa: BLE001 - any failure is reported, the run goes on
                if outcome is not None:
                    outcome.errors.append(f"{batch_id}: {type(exc).__name__} {exc}")
                continue
            seconds = time.perf_counter() - started
            data = json.loads(answer.body) if answer.status == 200 else {}
            if answer.status != 200 or data.get("duplicate") or data.get("stored") != count:
                if outcome is not None:
                    outcome.errors.append(f"{batch_id}: {answer.status} {answer.body[:200]!r}")
                continue
            if outcome is not None:
                outcome.latencies.append(seconds)
                outcome.results += count
                outcome.pushes += 1

    try:
        await asyncio.gather(*(pusher() for _ in range(concurrency)))
    finally:
        for c in clients:
            await c.close()


def measure(replicas: int, workers: int, shapes, warmup: Prepared, timed: Prepared, concurrency: int,
            client: str) -> Outcome:
    outcome = Outcome(replicas, workers)
    with ReplicaSet(replicas, workers=workers) as fleet:
        by_name = fleet.agent_tokens(s.name for s in shapes)
        tokens = [by_name[s.name] for s in shapes]
        asyncio.run(push_all(fleet.urls, tokens, warmup, concurrency, client, None))
        meters = {"PostgreSQL": CpuMeter(fleet.postgres_process())}
        meters.update({f"replica {n}": CpuMeter(fleet.replica_process(n)) for n in range(replicas)})
        meters["generator"] = CpuMeter(psutil.Process(), tree=False)
        before = {name: meter.total() for name, meter in meters.items()}
        started = time.perf_counter()
        with PgActivity(fleet) as activity:
            asyncio.run(push_all(fleet.urls, tokens, timed, concurrency, client, outcome))
        outcome.seconds = time.perf_counter() - started
        outcome.sessions = activity.summary()
        outcome.cpu = {name: 100 * (meter.total() - before[name]) / outcome.seconds for name, meter in meters.items()}
        stored = dict(fleet.query("SELECT batch_id, count(*) FROM results GROUP BY batch_id"))
        wrong = [(b, c, stored.get(b, 0)) for _, b, c, _ in warmup + timed if stored.get(b, 0) != c]
        extra = set(stored) - {b for _, b, _, _ in warmup + timed}
        if wrong or extra:
            outcome.errors.append(f"count in PostgreSQL: {len(wrong)} batches not stored exactly once "
                                  f"(e.g. {wrong[:3]}), {len(extra)} unknown batch ids")
        if outcome.errors:
            for n in range(replicas):
                print(f"--- replica {n} log ---\n{fleet.log(n)}", file=sys.stderr)
    return outcome


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--replicas", default="1,2", help="replica counts to measure, in order (first: reference)")
    parser.add_argument("--workers", default="1", help="uvicorn workers per replica (serve's `workers`), e.g. 1,2")
    parser.add_argument("--batches", type=int, default=6000)
    parser.add_argument("--agents", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=32, help="pushes in flight at once")
    parser.add_argument("--client", choices=("raw", "httpx"), default="raw")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    configs = [(int(r), int(w)) for w in args.workers.split(",") for r in args.replicas.split(",")]
    shapes, warmup, timed = prepare(args.agents, args.batches, args.seed)
    count = sum(c for _, _, c, _ in timed)
    print(f"{args.batches:,} batches ({count:,} results, {count / args.batches:.1f} per batch, gzip "
          f"{statistics.fmean(len(b) for *_, b in timed) / 1024:.1f} KiB) from {args.agents:,} agents, "
          f"{args.concurrency} pushes in flight, kept connections; PostgreSQL 15 fsync=off, fresh database per row")
    print(f"this machine: {psutil.cpu_count()} cores shared by PostgreSQL, the replicas and the load generator; "
          f"load average before: {' '.join(f'{x:.2f}' for x in psutil.getloadavg())}")
    outcomes = []
    for replicas, workers in configs:
        outcome = measure(replicas, workers, shapes, warmup, timed, args.concurrency, args.client)
        outcomes.append(outcome)
        if outcome.errors:
            print(f"{replicas} replica(s) x {workers} worker(s): {len(outcome.errors)} failures:", *outcome.errors[:10],
                  sep="\n  ")
            raise SystemExit(1)
        print(f"  ... {replicas} replica(s) x {workers} worker(s): {outcome.seconds:.1f} s", flush=True)
    reference = outcomes[0].results_per_second
    print(f"{'replicas':>8} {'workers':>7} {'results/s':>10} {'pushes/s':>9} {'p50':>8} {'p99':>8} "
          f"{'ratio to first':>15}   CPU % of one core (PostgreSQL, replicas, generator)")
    for o in outcomes:
        ordered = sorted(o.latencies)
        cpu = ", ".join(f"{v:.0f}" for v in o.cpu.values())
        print(f"{o.replicas:>8} {o.workers:>7} {o.results_per_second:>10,.0f} {o.pushes_per_second:>9,.0f} "
              f"{_quantile(ordered, 0.5) * 1000:>5.0f} ms {_quantile(ordered, 0.99) * 1000:>5.0f} ms "
              f"{o.results_per_second / reference:>15.2f}   {cpu}")
    print("PostgreSQL sessions of the store, on average (sampled every 0.25 s; idle ones left out):")
    for o in outcomes:
        print(f"  {o.replicas} x {o.workers}: {o.sessions}")
    print(f"reference: the first row ({outcomes[0].replicas} replica x {outcomes[0].workers} worker); every stored "
          f"batch counted in PostgreSQL, exactly once; load average after: "
          f"{' '.join(f'{x:.2f}' for x in psutil.getloadavg())}")


if __name__ == "__main__":
    main()
