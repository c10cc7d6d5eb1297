"""Benchmark: one agentless poll cycle of 100 SSH targets with the eight host checks.

    .venv/bin/python bench/ssh_poll.py [--targets 100] [--servers 4] [--workers 64] [--rounds 3]

Runs as root on Debian with openssh-server (scripts/test-deps): it starts ``--servers`` private sshd
instances on 127.0.0.1 (generated keys, the unprivileged ``patrol-ssh`` account, as the integration
tests do) and an inventory of ``--targets`` hosts spread over them, every one a separate target with
its own SSH connection, host-key check and login. Figures printed:
- cold cycle: ``patrol run`` as a one-shot (no earlier samples: cpu and network_interfaces each wait
  their 2 s sampling interval);
- warm cycles: the scheduled service's steady state (the runner holds the previous samples, so a
  target costs one connection and one command); goal: under 10 s per cycle;
- reference: the same figures read by OpenSSH client processes, one ``ssh host 'cat /proc/...; df
  -P; ...'`` per target, 16 and ``--workers`` at a time, no thresholds at all: what a shell-script
  patrol over SSH costs. The ratio is Patrol's warm cycle over the faster of the two.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from checks.rates import RateTracker  # noqa: E402
from checks.registry import default_registry  # noqa: E402
from checks.target import Target  # noqa: E402
from collector.planner import Assignment  # noqa: E402
from collector.runner import Runner  # noqa: E402
from tests.integration.sshd import ensure_account, start_sshd  # noqa: E402

HOST_CHECKS = ["cpu", "load", "memory", "swap", "disk", "processes", "uptime", "network_interfaces"]
GOAL_SECONDS = 10.0
REFERENCE = (
    "cat /proc/stat /proc/loadavg /proc/meminfo /proc/uptime /proc/net/dev /proc/sys/kernel/pid_max "
    "/proc/self/mounts >/dev/null; df -P -a -k >/dev/null; df -P -a -i >/dev/null; "
    "cat /proc/[0-9]*/stat >/dev/null 2>&1; true"
)


def assignments(targets: list[Target]) -> list[Assignment]:
    registry = default_registry()
    checks = [(registry.get(name), registry.get(name).validate({})) for name in HOST_CHECKS]
    return [Assignment("bench", t, check, params) for t in targets for check, params in checks]


def cycle(runner: Runner, work: list[Assignment]) -> float:
    start = time.perf_counter()
    results = runner.run(work)
    elapsed = time.perf_counter() - start
    failed = [r for r in results if not r.collected]
    if failed:
        raise SystemExit(f"bench: {len(failed)} results not collected, e.g. {failed[0].target} "
                         f"{failed[0].check}: {failed[0].summary}")  # fmt: skip
    return elapsed


def reference_cycle(servers, account, known_hosts: Path, targets: int, workers: int) -> float:
    def one(i: int) -> None:
        server = servers[i % len(servers)]
        subprocess.run(
            ["ssh", "-q", "-i", str(account.client_key), "-p", str(server.port), "-o", "BatchMode=yes",
             "-o", f"UserKnownHostsFile={known_hosts}", "-o", "StrictHostKeyChecking=yes",
             f"{account.user}@127.0.0.1", REFERENCE],
            check=True, stdin=subprocess.DEVNULL,
        )  # fmt: skip

    start = time.perf_counter()
    with cf.ThreadPoolExecutor(workers) as pool:
        list(pool.map(one, range(targets)))
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--targets", type=int, default=100)
    parser.add_argument("--servers", type=int, default=4, help="sshd instances the targets are spread over")
    parser.add_argument("--workers", type=int, default=64, help="runner threads (patrol run --workers)")
    parser.add_argument("--rounds", type=int, default=3, help="warm cycles and reference rounds")
    args = parser.parse_args()

    work_dir = Path(tempfile.mkdtemp(prefix="patrol-ssh-bench-"))
    account = ensure_account(work_dir)
    servers = [start_sshd(account) for _ in range(args.servers)]
    try:
        known_hosts = work_dir / "known_hosts"
        known_hosts.write_text("".join(s.known_hosts_line() for s in servers))
        targets = [
            Target(f"ssh{i:03d}", servers[i % len(servers)].target_vars(known_hosts)) for i in range(args.targets)
        ]
        work = assignments(targets)
        cold = cycle(Runner(max_workers=args.workers), work)
        service = Runner(max_workers=args.workers, rates=RateTracker())
        cycle(service, work)  # the service's first cycle; later ones hold the previous samples
        warm = [cycle(service, work) for _ in range(args.rounds)]
        # The reference gets its best parallelism: many more ssh processes than cores only thrash.
        reference = {
            parallel: statistics.median(
                reference_cycle(servers, account, known_hosts, args.targets, parallel) for _ in range(args.rounds)
            )
            for parallel in sorted({16, args.workers})
        }
    finally:
        for server in servers:
            server.stop()

    warm_median = statistics.median(warm)
    ref_parallel, ref_median = min(reference.items(), key=lambda kv: kv[1])
    print(f"agentless SSH poll: {args.targets} targets on {args.servers} sshd, {len(HOST_CHECKS)} host checks each "
          f"({len(work)} checks), {args.workers} workers")  # fmt: skip
    print(f"  cold cycle (one-shot, 2 s sampling intervals included): {cold:8.2f} s")
    print(f"  warm cycle (scheduled service), median of {args.rounds}:       {warm_median:8.2f} s"
          f"   (all: {', '.join(f'{w:.2f}' for w in warm)})")  # fmt: skip
    print(f"  goal: under {GOAL_SECONDS:g} s per cycle; warm / goal:             {warm_median / GOAL_SECONDS:8.2f}x")
    for parallel, seconds in reference.items():
        print(f"  reference, OpenSSH client processes, {parallel:3d} at a time:      {seconds:8.2f} s")
    print(f"  ratio Patrol warm / best reference ({ref_parallel} at a time):       {warm_median / ref_median:8.2f}x")


if __name__ == "__main__":
    main()
