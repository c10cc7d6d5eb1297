"""Load test: thousands of simulated agents pushing to `patrol serve` replicas on one PostgreSQL.

    .venv/bin/python bench/load_agents.py [--agents 5000] [--minutes 3] [--replicas 2] [--interval 60]
                                          [--workers 1] [--kill-replica-at SECONDS] [--keepalive] [--seed 1]

Starts a private PostgreSQL 15 and ``--replicas`` real `patrol serve` processes on it (bench/replicas.py),
gives every simulated agent its own agent token, then runs the agents for ``--minutes``. Each agent
fires once per ``--interval`` seconds at a random phase of its own and pushes one ``patrol.batch/1``
of 20-40 results (cpu, load, memory, swap, uptime, processes, disks, network interfaces, systemd units;
1-4 metrics each), gzip-encoded, with the headers, timeouts (connect 10 s, read 30 s) and retry rules
of patrol-agent (agent/client.py, agent/service.py). Each agent sticks to one replica, as behind a
load balancer with several backends; after a connection error, a timeout or a 5xx (or 408/429...)
it waits with the agent's own backoff (agent/backoff.py: full jitter, 1 s base, 60 s cap) and tries the
next replica with the SAME batch_id, and stays there. By default every push opens a new connection,
as a real agent's does (uvicorn closes idle connections after 5 s, the agents push every 60 s).

The generator is one asyncio process with a lean HTTP/1.1 client (bench/push_client.py; ``--client
httpx`` for httpx, which costs about five times the CPU per push): its own CPU use and how late agents fired (event-loop
lag) are printed, so a saturated generator shows. The machine has 2 cores, shared by PostgreSQL,
the replicas and the generator: the figures are this machine's, not a capacity of the collector.

Printed at the end: pushes, results, errors by kind and replica, duplicates (a retried batch the
collector already held), push latency p50/p95/p99/max per replica and overall, CPU of PostgreSQL,
each replica and the generator, and the end-to-end count: the results sent against the results
stored, counted in PostgreSQL itself (``SELECT batch_id, count(*) FROM results GROUP BY batch_id``),
so "nothing lost, nothing stored twice" is counted, not assumed. ``--kill-replica-at S`` kills -9
one replica S seconds into the run; its agents fail over, and the count says what (if anything)
that was acknowledged got lost (expected: nothing).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import gzip
import json
import math
import random
import secrets
import statistics
import sys
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from agent import __version__ as AGENT_VERSION  # noqa: E402
from agent.backoff import Backoff  # noqa: E402
from bench.push_client import CLIENTS, PushConnectionError, PushTimeout  # noqa: E402
from bench.replicas import CpuMeter, PgActivity, ReplicaSet  # noqa: E402

CONNECT_TIMEOUT, READ_TIMEOUT = 10.0, 30.0  # agent/client.py
MAX_BACKOFF = 60.0  # the agent's max_backoff default
# agent/service.py RETRY_4XX: kept and retried (plus every 5xx and any transport failure).
RETRY_4XX = frozenset({401, 403, 404, 405, 407, 408, 409, 421, 425, 429})


# -- what an agent sends ------------------------------------------------------------------------------


@dataclass
class AgentShape:
    """One simulated host: how many of each item its checks report (20-40 results a firing)."""

    name: str
    disks: int
    nics: int
    processes: int
    units: int
    seed: int

    @property
    def results(self) -> int:
        return 5 + self.disks + self.nics + self.processes + self.units


def agent_shapes(count: int, rng: random.Random) -> list[AgentShape]:
    shapes = []
    for n in range(count):
        total = rng.randint(20, 40)
        disks, nics, processes = rng.randint(3, 10), rng.randint(2, 6), rng.randint(2, 4)
        units = max(0, total - 5 - disks - nics - processes)
        shapes.append(AgentShape(f"sim{n:05d}", disks, nics, processes, units, rng.randrange(1 << 30)))
    return shapes


def _stamp(at: float) -> str:
    return dt.datetime.fromtimestamp(at, dt.UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _m(name: str, value: float, unit: str = "", **labels: str) -> dict:
    return {"name": name, "value": round(value, 3), "unit": unit, "labels": labels}


def firing_results(shape: AgentShape, firing: int, now: float, scheduled: float) -> list[dict]:
    """One firing's ``patrol.result/1`` records, as the host checks produce them (figures vary by firing)."""
    rng = random.Random(shape.seed * 7919 + firing)
    started, scheduled_at, target = _stamp(now), _stamp(scheduled), shape.name
    common = {"schema": "patrol.result/1", "target": target, "started_at": started, "collected": True,
              "playbook": "continuous", "scheduled_at": scheduled_at}

    def result(check: str, item: str, status: str, summary: str, metrics: list[dict], thresholds=(),
               duration: float = 0.002) -> dict:
        return {**common, "check": check, "item": item, "status": status, "summary": summary, "metrics": metrics,
                "thresholds": [dict(zip(("metric", "warning", "critical"), t, strict=True)) for t in thresholds],
                "duration_seconds": duration}

    busy = rng.uniform(2, 60)
    out = [
        result("cpu", "", "OK", f"{busy:.1f}% busy",
               [_m("busy", busy, "%"), _m("user", busy * 0.7, "%"), _m("system", busy * 0.25, "%"),
                _m("iowait", busy * 0.05, "%")], [("busy", "80", "90")], 1.001),
        result("load", "", "OK", "load 0.52 0.61 0.66 on 8 CPUs",
               [_m("load1", busy / 50), _m("load5", busy / 55), _m("load15", busy / 60),
                _m("load1_per_cpu", busy / 400)], [("load5_per_cpu", "1", "2")]),
        result("memory", "", "OK", "61.2% used, 6.1 GiB available of 15.6 GiB",
               [_m("used", rng.uniform(30, 75), "%"), _m("available", 6.1 * 2**30, "B"),
                _m("total", 15.6 * 2**30, "B")], [("used", "85", "95")]),
        result("swap", "", "OK", "0.0% used of 2.0 GiB", [_m("used", 0.0, "%"), _m("total", 2.0 * 2**30, "B")],
               [("used", "50", "80")]),
        result("uptime", "", "OK", "up 41 days", [_m("uptime", 3542400.0 + now % 1e6, "s")]),
    ]
    for i in range(shape.disks):
        mount = "/" if i == 0 else f"/srv/data{i:02d}"
        used = (37 + 11 * i + shape.seed % 29) % 88 + rng.uniform(0, 1)
        status = "OK" if used < 80 else "WARNING"
        out.append(result("disk", mount, status, f"{used:.1f}% used, {100 - used:.1f} GiB free of 100.0 GiB (xfs)",
                          [_m("used", used, "%"), _m("free", (100 - used) * 2**30, "B"),
                           _m("total", 100.0 * 2**30, "B"), _m("inodes_free", 97.1, "%")],
                          [("used", "80", "90"), ("inodes_free", "20:", "10:")], 0.004))
    for i in range(shape.nics):
        nic = f"eth{i}"
        out.append(result("network_interfaces", nic, "OK", f"{nic} up, rx 1.2 MB/s, tx 0.4 MB/s, 0 errors/s",
                          [_m("errors", 0.0, "/s", interface=nic), _m("drops", 0.0, "/s", interface=nic),
                           _m("rx", rng.uniform(1e5, 5e6), "B/s", interface=nic),
                           _m("tx", rng.uniform(1e5, 2e6), "B/s", interface=nic)], [("errors", "1", "10")], 1.002))
    for i, process in enumerate(("sshd", "cron", "rsyslogd", "chronyd")[: shape.processes]):
        out.append(result("processes", process, "OK", f"{process}: {i + 1} running", [_m("count", i + 1.0)],
                          [("count", "1:", "1:")]))
    for i in range(shape.units):
        unit = f"app{i:02d}.service"
        out.append(result("systemd_unit", unit, "OK", f"{unit} active (running)", [_m("restarts", 0.0)]))
    return out


def batch_body(shape: AgentShape, batch_id: str, results: list[dict]) -> bytes:
    """The body patrol-agent sends: the batch's JSON (compact, as agent/spool.py builds it), gzip level 6."""
    body = {"schema": "patrol.batch/1", "batch_id": batch_id, "agent": shape.name, "results": results}
    return gzip.compress(json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode(), compresslevel=6)


# -- the run -------------------------------------------------------------------------------------------


@dataclass
class Tally:
    """Everything the generator saw, and what the database holds."""

    replicas: int
    sent: dict[str, int] = field(default_factory=dict)  # batch id -> results, every batch made
    acked: dict[str, bool] = field(default_factory=dict)  # batch id -> acknowledged as a duplicate
    rejected: dict[str, str] = field(default_factory=dict)  # batch id -> the 4xx that refused it
    latencies: list[list[float]] = field(default_factory=list)  # per replica: seconds of each 200
    errors: Counter = field(default_factory=Counter)  # (kind, replica) -> attempts
    fire_lag: list[float] = field(default_factory=list)  # seconds each firing started late
    recent: deque = field(default_factory=lambda: deque(maxlen=20000))  # (monotonic, latency) of recent 200s
    failovers: int = 0
    killed: str | None = None
    generator_cpu: float = 0.0
    wall: float = 0.0
    cpu: dict[str, list[float]] = field(default_factory=dict)  # name -> CPU % per second
    sessions: str = ""  # PostgreSQL sessions by state, on average over the run
    stored: dict[str, int] = field(default_factory=dict)  # batch id -> rows in results (from PostgreSQL)
    stored_rows: int = 0
    claimed: int = 0  # rows of ingest_batches

    def __post_init__(self) -> None:
        self.latencies = [[] for _ in range(self.replicas)]

    # -- the count --------------------------------------------------------------------------------

    @property
    def results_sent(self) -> int:
        return sum(self.sent.values())

    @property
    def results_acked(self) -> int:
        return sum(self.sent[b] for b in self.acked)

    @property
    def lost(self) -> dict[str, int]:
        """Acknowledged batches not stored in full: batch id -> results missing."""
        return {b: self.sent[b] - self.stored.get(b, 0) for b in self.acked if self.stored.get(b, 0) < self.sent[b]}

    @property
    def stored_twice(self) -> dict[str, int]:
        """Batches with more rows than were sent: batch id -> extra rows."""
        return {b: n - self.sent.get(b, 0) for b, n in self.stored.items() if n > self.sent.get(b, 0)}

    @property
    def unknown(self) -> dict[str, int]:
        return {b: n for b, n in self.stored.items() if b not in self.sent}

    @property
    def unacked(self) -> list[str]:
        return [b for b in self.sent if b not in self.acked and b not in self.rejected]

    @property
    def duplicates(self) -> int:
        return sum(self.acked.values())


class LoadRun:
    """Simulated agents pushing to ``urls``; ``tokens`` maps each agent name to its token."""

    def __init__(self, urls: list[str], tokens: dict[str, str], shapes: list[AgentShape], *, seconds: float,
                 interval: float, drain: float = 120.0, keepalive: bool = False, seed: int = 1,
                 kill: tuple[float, callable] | None = None, progress: bool = True,
                 cpu_meters: dict[str, CpuMeter] | None = None, client: str = "raw") -> None:
        self.urls, self.tokens, self.shapes = urls, tokens, shapes
        self.seconds, self.interval, self.drain = seconds, interval, drain
        self.keepalive, self.kill, self.progress = keepalive, kill, progress
        self.client_class = CLIENTS[client]
        self.rng = random.Random(seed)
        self.cpu_meters = cpu_meters or {}
        self.tally = Tally(len(urls))
        self.in_flight = 0
        self.done = False

    async def run(self) -> Tally:
        me = psutil.Process()
        cpu0, wall0 = _cpu(me), time.monotonic()
        async with contextlib.AsyncExitStack() as stack:
            self.clients = [self.client_class(url, connect_timeout=CONNECT_TIMEOUT, read_timeout=READ_TIMEOUT,
                                              keepalive=self.keepalive) for url in self.urls]
            for client in self.clients:
                stack.push_async_callback(client.close)
            loop = asyncio.get_running_loop()
            self.start = loop.time()
            self.end = self.start + self.seconds
            self.give_up = self.end + self.drain
            helpers = [asyncio.create_task(self._sample_cpu())]
            if self.progress:
                helpers.append(asyncio.create_task(self._show_progress()))
            if self.kill:
                helpers.append(asyncio.create_task(self._kill_later(*self.kill)))
            agents = []
            for n, shape in enumerate(self.shapes):
                home = n % len(self.urls)  # a load balancer's even spread; the agent sticks to it
                agents.append(asyncio.create_task(self._agent(shape, home, self.rng.uniform(0, self.interval))))
            await asyncio.gather(*agents)
            self.done = True
            for task in helpers:
                task.cancel()
            await asyncio.gather(*helpers, return_exceptions=True)
        self.tally.wall = time.monotonic() - wall0
        self.tally.generator_cpu = _cpu(me) - cpu0
        if self.progress:
            print(file=sys.stderr)
        return self.tally

    async def _agent(self, shape: AgentShape, replica: int, phase: float) -> None:
        loop = asyncio.get_running_loop()
        token = self.tokens[shape.name]
        backoff = Backoff(base=1.0, cap=MAX_BACKOFF)
        firing = 0
        sequence = 0
        while True:
            planned = self.start + phase + firing * self.interval
            if planned >= self.end:
                return
            firing += 1
            await asyncio.sleep(planned - loop.time())
            now = time.time()
            self.tally.fire_lag.append(max(0.0, loop.time() - planned))
            sequence += 1
            batch_id = f"{shape.name}-{sequence:012d}-{secrets.token_hex(3)}"  # the agent's segment naming
            results = firing_results(shape, firing, now, math.floor(now / self.interval) * self.interval)
            body = batch_body(shape, batch_id, results)
            self.tally.sent[batch_id] = len(results)
            replica = await self._deliver(batch_id, body, token, replica, backoff)

    async def _deliver(self, batch_id: str, body: bytes, token: str, replica: int, backoff: Backoff) -> int:
        """Push until acknowledged or refused (or the drain time is over); returns the replica the agent
        is on now (the next one after each failure)."""
        loop = asyncio.get_running_loop()
        headers = {"User-Agent": f"patrol-agent/{AGENT_VERSION}", "Content-Type": "application/json",
                   "Accept": "application/json", "Content-Encoding": "gzip", "Authorization": f"Bearer {token}"}
        tally = self.tally
        self.in_flight += 1
        try:
            while loop.time() < self.give_up:
                retry_after = 0.0
                started = time.perf_counter()
                try:
                    answer = await self.clients[replica].post("/api/v1/results", body, headers)
                    seconds = time.perf_counter() - started
                except PushTimeout:
                    kind = "timeout"
                except PushConnectionError as exc:
                    kind = f"connection: {exc}"
                else:
                    status = answer.status
                    if status == 200:
                        tally.latencies[replica].append(seconds)
                        tally.recent.append((loop.time(), seconds))
                        tally.acked[batch_id] = json.loads(answer.body).get("duplicate") is True
                        backoff.reset()
                        return replica
                    if not (status in RETRY_4XX or status >= 500 or status < 200 or 300 <= status < 400):
                        tally.errors[(f"refused {status}", replica)] += 1
                        tally.rejected[batch_id] = f"{status} {answer.body[:200].decode(errors='replace')}"
                        return replica
                    kind = f"HTTP {status}"
                    with contextlib.suppress(ValueError):
                        retry_after = max(0.0, float(answer.headers.get("retry-after", "")))
                tally.errors[(kind, replica)] += 1
                replica = (replica + 1) % len(self.urls)  # the load balancer tries another backend
                tally.failovers += 1
                await asyncio.sleep(min(backoff.next_delay(at_least=retry_after), max(0.0, self.give_up - loop.time())))
            return replica
        finally:
            self.in_flight -= 1

    async def _kill_later(self, at: float, kill) -> None:
        await asyncio.sleep(at)
        loop = asyncio.get_running_loop()
        before = len(self.tally.acked)
        await loop.run_in_executor(None, kill)
        self.tally.killed = (f"replica 0 killed (SIGKILL) at {loop.time() - self.start:.1f} s, after "
                             f"{before:,} acknowledged pushes")

    async def _sample_cpu(self) -> None:
        loop = asyncio.get_running_loop()
        previous = {name: meter.total() for name, meter in self.cpu_meters.items()}
        at = time.monotonic()
        while True:
            await asyncio.sleep(1.0)
            if loop.time() > self.end:  # the load phase only: the drain is mostly idle
                continue
            totals = await loop.run_in_executor(None, lambda: {n: m.total() for n, m in self.cpu_meters.items()})
            now = time.monotonic()
            for name, total in totals.items():
                self.tally.cpu.setdefault(name, []).append(100 * (total - previous[name]) / (now - at))
            previous, at = totals, now

    async def _show_progress(self) -> None:
        loop = asyncio.get_running_loop()
        tty = sys.stderr.isatty()
        last_line = 0.0
        while True:
            await asyncio.sleep(1.0)
            now = loop.time()
            recent = sorted(s for t, s in self.tally.recent if t > now - 10)
            p99 = f"{_quantile(recent, 0.99) * 1000:6.0f} ms" if recent else "     - ms"
            errors = sum(self.tally.errors.values())
            phase = f"{now - self.start:5.0f} s" if now < self.end else "drain  "
            line = (f"  {phase}  pushes {len(self.tally.acked):>8,}  results {self.tally.results_acked:>10,}  "
                    f"errors {errors:>5,}  duplicates {self.tally.duplicates:>3}  p99 (10 s) {p99}  "
                    f"in flight {self.in_flight:>4}")
            if tty:
                print("\r" + line, end="", file=sys.stderr, flush=True)
            elif now - last_line >= 10:
                print(line, file=sys.stderr, flush=True)
                last_line = now


def _cpu(process: psutil.Process) -> float:
    times = process.cpu_times()
    return times.user + times.system


def _quantile(ordered: list[float], q: float) -> float:
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def count_stored(fleet: ReplicaSet, tally: Tally) -> None:
    """What PostgreSQL holds, read directly: rows of ``results`` per batch id, and the claimed batch ids."""
    tally.stored = {b: int(n) for b, n in fleet.query(
        "SELECT batch_id, count(*) FROM results WHERE batch_id IS NOT NULL GROUP BY batch_id")}
    tally.stored_rows = fleet.count("SELECT count(*) FROM results")
    tally.claimed = fleet.count("SELECT count(*) FROM ingest_batches")


def run_load(fleet: ReplicaSet, agents: int, seconds: float, interval: float, *, seed: int = 1,
             kill_at: float | None = None, keepalive: bool = False, drain: float = 120.0,
             progress: bool = True, client: str = "raw") -> Tally:
    """Tokens for ``agents`` simulated agents, the load for ``seconds``, then the count in PostgreSQL."""
    rng = random.Random(seed)
    shapes = agent_shapes(agents, rng)
    _self_check(shapes[0])
    tokens = fleet.agent_tokens(s.name for s in shapes)
    meters = {"PostgreSQL": CpuMeter(fleet.postgres_process())}
    for n in range(len(fleet.urls)):
        meters[f"replica {n}"] = CpuMeter(fleet.replica_process(n))
    meters["generator"] = CpuMeter(psutil.Process(), tree=False)  # the replicas are its children: not them
    kill = (kill_at, lambda: fleet.kill(0)) if kill_at is not None else None
    run = LoadRun(fleet.urls, tokens, shapes, seconds=seconds, interval=interval, drain=drain, keepalive=keepalive,
                  seed=seed, kill=kill, progress=progress, cpu_meters=meters, client=client)
    with PgActivity(fleet) as activity:
        tally = asyncio.run(run.run())
    tally.sessions = activity.summary()
    count_stored(fleet, tally)
    return tally


def _self_check(shape: AgentShape) -> None:
    """The simulated records are valid ``patrol.result/1`` (the collector would refuse them with 422)."""
    from checks.result import Result

    now = time.time()
    for record in firing_results(shape, 1, now, now):
        Result.model_validate(record)


# -- the report ----------------------------------------------------------------------------------------


def report(tally: Tally, fleet_urls: list[str], seconds: float) -> list[str]:
    lines = []
    pushes = len(tally.acked)
    offered = len(tally.sent)
    lines.append(f"offered: {offered:,} batches ({offered / seconds:,.1f}/s, what the agents' schedules made); "
                 f"acknowledged {pushes:,}: {pushes / offered if offered else 0:.3f} x the offered load")
    lines.append(f"pushes acknowledged {pushes:,} ({pushes / seconds:,.1f}/s over the {seconds:.0f} s load phase), "
                 f"results acknowledged {tally.results_acked:,} ({tally.results_acked / seconds:,.0f}/s); "
                 f"duplicates (batch already held) {tally.duplicates}; fail-overs {tally.failovers}")
    if tally.killed:
        lines.append(tally.killed)
    if tally.errors:
        lines.append("errors (attempts, by kind and replica):")
        for (kind, replica), n in sorted(tally.errors.items()):
            lines.append(f"  {kind:42} replica {replica}: {n:,}")
    else:
        lines.append("errors: none")
    lines.append(f"push latency (200 answers)   {'pushes':>8} {'p50':>8} {'p95':>8} {'p99':>8} {'max':>8}")
    every: list[float] = []
    for n, (url, latencies) in enumerate(zip(fleet_urls, tally.latencies, strict=True)):
        every += latencies
        lines.append(_latency_row(f"replica {n} ({url.rsplit(':', 1)[1]})", latencies))
    lines.append(_latency_row("all", every))
    lag = sorted(tally.fire_lag)
    lines.append(f"generator: {tally.generator_cpu:.1f} CPU s in {tally.wall:.0f} s "
                 f"({100 * tally.generator_cpu / tally.wall:.0f}% of one core, drain included); firing lag p99 "
                 f"{_quantile(lag, 0.99) * 1000:.0f} ms, max {lag[-1] * 1000 if lag else 0:.0f} ms")
    lines.append("CPU during the load phase (% of one core, 2 cores in all): mean / peak of 5 s")
    for name, series in tally.cpu.items():
        peak = max((statistics.fmean(series[i:i + 5]) for i in range(max(1, len(series) - 4))), default=0.0)
        mean = statistics.fmean(series) if series else 0.0
        lines.append(f"  {name:12} {mean:6.0f} % / {peak:4.0f} %")
    lines.append(f"PostgreSQL sessions of the store, on average (idle ones left out): {tally.sessions}")
    lost, twice, unknown, unacked = tally.lost, tally.stored_twice, tally.unknown, tally.unacked
    lines.append("end to end, counted in PostgreSQL:")
    lines.append(f"  results sent {tally.results_sent:,} in {len(tally.sent):,} batches; acknowledged "
                 f"{tally.results_acked:,}; stored {tally.stored_rows:,} rows in {len(tally.stored):,} batches "
                 f"({tally.claimed:,} batch ids claimed)")
    lines.append(f"  acknowledged but not stored: {sum(lost.values())} results in {len(lost)} batches; stored "
                 f"twice: {sum(twice.values())} results in {len(twice)} batches; rows of unknown batches: "
                 f"{sum(unknown.values())}")
    unacked_stored = sum(1 for b in unacked if tally.stored.get(b))
    lines.append(f"  never acknowledged (still in the agents' spools at the end): {len(unacked)} batches, "
                 f"{unacked_stored} of them stored; refused (4xx): {len(tally.rejected)}")
    exact = not lost and not twice and not unknown and all(tally.stored.get(b) == n for b, n in tally.sent.items())
    lines.append("  every sent result stored exactly once" if exact else "  NOT every sent result stored exactly once")
    return lines


def _latency_row(name: str, latencies: list[float]) -> str:
    ordered = sorted(latencies)
    if not ordered:
        return f"  {name:27} {0:>8}"
    ms = [_quantile(ordered, q) * 1000 for q in (0.5, 0.95, 0.99)] + [ordered[-1] * 1000]
    return f"  {name:27} {len(ordered):>8,}" + "".join(f" {v:>5.0f} ms" for v in ms)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agents", type=int, default=5000)
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--interval", type=float, default=60.0, help="seconds between an agent's pushes")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn workers per replica (serve's `workers`)")
    parser.add_argument("--kill-replica-at", type=float, metavar="SECONDS", help="kill -9 replica 0 then")
    parser.add_argument("--keepalive", action="store_true", help="reuse connections (default: one per push)")
    parser.add_argument("--drain", type=float, default=120.0, help="seconds to finish deliveries after the run")
    parser.add_argument("--client", choices=("raw", "httpx"), default="raw",
                        help="the generator's HTTP client (bench/push_client.py: raw costs a fifth of httpx's CPU)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    seconds = args.minutes * 60
    print(f"{args.agents:,} simulated agents, one batch of 20-40 results every {args.interval:g} s each, for "
          f"{seconds:.0f} s, against {args.replicas} patrol serve replica(s) x {args.workers} worker(s) on one "
          f"PostgreSQL 15 (fsync=off); {psutil.cpu_count()} cores shared by PostgreSQL, the replicas and this "
          f"generator; load average before: {' '.join(f'{x:.2f}' for x in psutil.getloadavg())}", flush=True)
    with ReplicaSet(args.replicas, workers=args.workers) as fleet:
        tally = run_load(fleet, args.agents, seconds, args.interval, seed=args.seed,
                         kill_at=args.kill_replica_at, keepalive=args.keepalive, drain=args.drain,
                         client=args.client)
        for line in report(tally, fleet.urls, seconds):
            print(line)
        print(f"load average after: {' '.join(f'{x:.2f}' for x in psutil.getloadavg())}")
        if tally.lost or tally.stored_twice or tally.unknown:
            raise SystemExit(1)


if __name__ == "__main__":
    main()
