"""Benchmark: render ``/metrics`` for a large site, against the goal of 100,000 series in under 1 s.

    .venv/bin/python bench/metrics_render.py [--hosts 2500] [--rounds 5]

The site: 2,500 hosts, each with 10 newest results (cpu, load, 4 file systems, 4 network
interfaces), i.e. 25,000 ``Result`` objects with 4 figures each = 100,000 figure series, plus 3
status series per result (status, collected, last run) and 3 per agent. The results are built
once (as the store would hand them over); each round is one scrape: ``render(registry)``, which
reads the source, builds the families and writes the text. Printed: the median and best round in
ms, the series count, the time per 100,000 series and its ratio to the 1 s goal (below 1 meets
it), and for comparison prometheus_client's generic ``generate_latest`` over the same registry.
Last, the same results stored in a real SQLite store and scraped through it: the time a
Prometheus scrape of ``patrol serve`` actually takes, reading ``latest_results`` included.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from prometheus_client.exposition import generate_latest  # noqa: E402

from checks.result import Metric, Result  # noqa: E402
from checks.status import Status  # noqa: E402
from collector.metrics import build_registry, render  # noqa: E402
from collector.store import Store  # noqa: E402

GOAL_SERIES = 100_000
GOAL_SECONDS = 1.0
MOUNTS = ("/", "/var", "/home", "/srv/data")
NICS = ("eth0", "eth1", "bond0", "ens192")


@dataclass(frozen=True)
class Agent:
    name: str
    first_seen: dt.datetime | None
    last_seen: dt.datetime | None
    expected_interval_seconds: float | None
    results_received: int


class Site:
    """A source as the store would be: the newest results and the agents, prebuilt."""

    def __init__(self, hosts: int, seed: int = 7) -> None:
        rnd = random.Random(seed)
        now = dt.datetime.now(dt.UTC)
        self.results: list[Result] = []
        self.agent_records: list[Agent] = []
        for h in range(hosts):
            host = f"{rnd.choice(('web', 'db', 'app', 'cache'))}{h:05d}.dc{h % 3 + 1}.example.net"
            started = now - dt.timedelta(seconds=rnd.uniform(0, 60))

            def result(check: str, item: str, metrics: list[Metric], host=host, started=started) -> Result:
                status = rnd.choices(list(Status), weights=(90, 6, 3, 1))[0]
                return Result(
                    target=host, check=check, item=item, status=status, summary=f"{check} {item}".strip(),
                    metrics=metrics, started_at=started, duration_seconds=rnd.uniform(0.001, 0.2),
                    collected=status is not Status.UNKNOWN,
                )  # fmt: skip

            busy = rnd.uniform(1, 95)
            self.results.append(
                result("cpu", "", [
                    Metric(name="utilisation", value=round(busy, 1), unit="%"),
                    Metric(name="user", value=round(busy * 0.7, 1), unit="%"),
                    Metric(name="system", value=round(busy * 0.25, 1), unit="%"),
                    Metric(name="iowait", value=round(rnd.uniform(0, 5), 1), unit="%"),
                ])
            )  # fmt: skip
            cpus = rnd.choice((2, 4, 8, 16, 32))
            self.results.append(
                result("load", "", [
                    Metric(name="load1", value=round(rnd.uniform(0, 2), 2)),
                    Metric(name="load5", value=round(rnd.uniform(0, 1.5), 2)),
                    Metric(name="load15", value=round(rnd.uniform(0, 1), 2)),
                    Metric(name="cpus", value=cpus),
                ])
            )  # fmt: skip
            for mount in MOUNTS:
                total = rnd.choice((20, 50, 100, 500, 2000)) * 2**30
                used = rnd.uniform(5, 97)
                self.results.append(
                    result("disk", mount, [
                        Metric(name="used", value=round(used, 1), unit="%"),
                        Metric(name="free", value=int(total * (100 - used) / 100), unit="B"),
                        Metric(name="total", value=total, unit="B"),
                        Metric(name="inodes_free", value=round(rnd.uniform(50, 99.9), 1), unit="%"),
                    ])
                )  # fmt: skip
            for nic in NICS:
                self.results.append(
                    result("network_interfaces", nic, [
                        Metric(name="rx", value=round(rnd.uniform(0, 1.2e8), 1), unit="B/s"),
                        Metric(name="tx", value=round(rnd.uniform(0, 1.2e8), 1), unit="B/s"),
                        Metric(name="errors", value=round(rnd.choice((0, 0, 0, rnd.uniform(0, 3))), 2), unit="/s"),
                        Metric(name="utilisation", value=round(rnd.uniform(0, 80), 1), unit="%"),
                    ])
                )  # fmt: skip
            self.agent_records.append(
                Agent(host, now - dt.timedelta(days=30), started, 60.0, rnd.randint(10_000, 2_000_000))
            )

    def latest_results(self) -> list[Result]:
        return self.results

    def agents(self) -> list[Agent]:
        return self.agent_records


def series_count(body: bytes) -> int:
    return sum(1 for line in body.splitlines() if line and not line.startswith(b"#"))


def timed(fn, rounds: int) -> tuple[list[float], bytes]:
    times, body = [], b""
    for _ in range(rounds):
        start = time.perf_counter()
        body = fn()
        times.append(time.perf_counter() - start)
    return times, body


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=2500, help="hosts; 10 results of 4 figures each per host")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    start = time.perf_counter()
    site = Site(args.hosts)
    built = time.perf_counter() - start
    figures = sum(len(r.metrics) for r in site.results)
    print(f"site: {args.hosts} hosts, {len(site.results)} results, {figures} figures (built in {built:.1f} s)")

    registry, _ingest = build_registry(site, descriptions=lambda check: None)
    render(registry)  # warm the name caches, as every scrape after the first finds them
    times, body = timed(lambda: render(registry), args.rounds)
    series = series_count(body)
    median, best = statistics.median(times), min(times)
    per_goal = median * GOAL_SERIES / series
    print(f"render(registry): median {median * 1000:.0f} ms, best {best * 1000:.0f} ms, {series} series, "
          f"{len(body) / 2**20:.1f} MiB")  # fmt: skip
    print(f"per {GOAL_SERIES:,} series: {per_goal * 1000:.0f} ms = {per_goal / GOAL_SECONDS:.2f} of the "
          f"{GOAL_SECONDS:g} s goal; whole scrape {median / GOAL_SECONDS:.2f} of it")  # fmt: skip

    generic, generic_body = timed(lambda: generate_latest(registry), max(1, min(args.rounds, 2)))
    print(f"generic generate_latest (for comparison): median {statistics.median(generic) * 1000:.0f} ms, "
          f"{series_count(generic_body)} series")  # fmt: skip

    with tempfile.TemporaryDirectory(prefix="patrol-bench-") as tmp, Store.open(f"sqlite:///{tmp}/m.db") as store:
        store.add_results(None, site.results)
        stored_registry, _ = build_registry(store, descriptions=lambda check: None)
        render(stored_registry)
        reads, _ = timed(store.latest_results, max(1, min(args.rounds, 3)))
        scrapes, stored_body = timed(lambda: render(stored_registry), max(1, min(args.rounds, 3)))
    scrape = statistics.median(scrapes)
    per_goal = scrape * GOAL_SERIES / series_count(stored_body)
    print(f"through a SQLite store: latest_results() median {statistics.median(reads) * 1000:.0f} ms, whole scrape "
          f"{scrape * 1000:.0f} ms = {per_goal * 1000:.0f} ms per {GOAL_SERIES:,} series "
          f"({per_goal / GOAL_SECONDS:.2f} of the goal)")  # fmt: skip


if __name__ == "__main__":
    main()
