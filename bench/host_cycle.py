"""Benchmark: one full host-check cycle on this machine, and the process's peak memory.

    .venv/bin/python bench/host_cycle.py [--rounds N]

Figures printed:
- cold cycle: all eight host checks as ``patrol run`` does them (no earlier samples, so cpu and
  network_interfaces each wait their sampling interval, in parallel);
- warm cycle: the same checks as a long-running agent runs them (the previous samples are held,
  nothing waits): the real cost of a cycle;
- reference: a shell-script patrol collecting the same figures (/proc/stat, /proc/loadavg,
  /proc/meminfo, df -P, df -Pi, ps, /proc/uptime, /proc/net/dev) with no thresholds at all, which is
  what many sites run today; the ratio is Patrol's warm cycle over it;
- peak RSS of this process (Patrol). No reference figure: a forked child's peak RSS counts the
  parent's image it was forked from, so it would not measure the shell script.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from checks.rates import RateTracker  # noqa: E402
from checks.registry import default_registry  # noqa: E402
from checks.target import LOCALHOST  # noqa: E402
from collector.planner import Assignment  # noqa: E402
from collector.runner import Runner  # noqa: E402

HOST_CHECKS = ["cpu", "load", "memory", "swap", "disk", "processes", "uptime", "network_interfaces"]
REFERENCE = (
    "cat /proc/stat /proc/loadavg /proc/meminfo /proc/uptime /proc/net/dev >/dev/null; "
    "df -P >/dev/null; df -Pi >/dev/null; ps -e -o stat= >/dev/null"
)


def assignments() -> list[Assignment]:
    registry = default_registry()
    out = []
    for name in HOST_CHECKS:
        check = registry.get(name)
        out.append(Assignment("bench", LOCALHOST, check, check.validate({})))
    return out


def cycle(runner: Runner) -> float:
    start = time.perf_counter()
    results = runner.run(assignments())
    elapsed = time.perf_counter() - start
    failed = [r for r in results if not r.collected]
    if failed:
        raise SystemExit(f"bench: a check failed to collect: {failed[0].check}: {failed[0].summary}")
    return elapsed


def reference_cycle() -> float:
    start = time.perf_counter()
    subprocess.run(["sh", "-c", REFERENCE], check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()

    cold = [cycle(Runner()) for _ in range(2)]
    warm_runner = Runner(rates=RateTracker())
    cycle(warm_runner)  # the agent's first cycle; later ones hold the previous samples
    warm = [cycle(warm_runner) for _ in range(args.rounds)]
    reference = [reference_cycle() for _ in range(args.rounds)]

    patrol_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    warm_median, ref_median = statistics.median(warm), statistics.median(reference)

    def p95(values: list[float]) -> float:
        return sorted(values)[max(0, int(len(values) * 0.95) - 1)]

    print(f"host-check cycle on this machine ({len(HOST_CHECKS)} checks, {args.rounds} rounds)")
    print(f"  cold cycle (one-shot patrol, sampling intervals included): {statistics.median(cold) * 1000:8.1f} ms")
    print(f"  warm cycle (agent steady state), median:                   {warm_median * 1000:8.1f} ms")
    print(f"  warm cycle, p95:                                           {p95(warm) * 1000:8.1f} ms")
    print(f"  reference shell-script collection, median:                 {ref_median * 1000:8.1f} ms")
    print(f"  ratio Patrol warm / reference:                             {warm_median / ref_median:8.2f}x")
    print(f"  peak RSS, Patrol process:                                  {patrol_rss:8.1f} MiB")


if __name__ == "__main__":
    main()
