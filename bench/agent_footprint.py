"""Benchmark: the agent's steady-state memory and CPU per check cycle, side by side with
prometheus-node-exporter (Debian package) on the same machine, in one run.

    .venv/bin/python bench/agent_footprint.py [--seconds 60]

It starts a private collector (`patrol serve`, SQLite in a temp dir) with a playbook running the
eight host checks on this host every 2 s, a `patrol-agent` for it, and node_exporter scraped every
2 s. After a warm-up it measures, over the same window:
- RSS of each process (steady state: the last reading, and the peak seen);
- CPU time (user + system) per agent check cycle and per node_exporter scrape.
Goals (issue 3): agent RSS within 1.5x node_exporter's; agent CPU per cycle no more than
node_exporter's per scrape.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from integration.collector_support import Collector, free_port  # noqa: E402

EVERY = 2
PLAYBOOK = f"""\
name: agent-bench
schedule: "@every {EVERY}s"
report: {{formats: []}}
tasks:
  - name: host checks
    hosts: web01
    checks: [cpu, load, memory, swap, disk, processes, uptime, network_interfaces]
"""
HZ = os.sysconf("SC_CLK_TCK")


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / HZ  # utime + stime


def ensure_node_exporter() -> str:
    binary = shutil.which("prometheus-node-exporter")
    if binary:
        return binary
    if os.geteuid() != 0:
        raise SystemExit("bench: install prometheus-node-exporter (apt-get install prometheus-node-exporter)")
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "prometheus-node-exporter"],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return shutil.which("prometheus-node-exporter")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=60, help="measuring window after a 20 s warm-up")
    args = parser.parse_args()
    node_exporter = ensure_node_exporter()
    root = Path(tempfile.mkdtemp(prefix="patrol-bench-"))
    collector = Collector(root)
    collector.write_files({"agent-bench": PLAYBOOK})
    token = collector.create_token("agent", "web01")
    (root / "token").write_text(token + "\n")
    collector.start()
    ne_port = free_port()
    ne = subprocess.Popen(
        [node_exporter, f"--web.listen-address=127.0.0.1:{ne_port}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    agent = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("patrol-agent")),
            "--collector",
            collector.url,
            "--name",
            "web01",
            "--token-file",
            str(root / "token"),
            "--spool",
            str(root / "spool"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=open(root / "agent.log", "wb"),  # noqa: SIM115
    )
    try:

        def scrape() -> None:
            requests.get(f"http://127.0.0.1:{ne_port}/metrics", timeout=10).raise_for_status()

        ready_by = time.monotonic() + 30
        while True:  # node_exporter takes a moment to listen
            try:
                scrape()
                break
            except requests.ConnectionError:
                if time.monotonic() > ready_by or ne.poll() is not None:
                    raise
                time.sleep(0.2)
        warmup_end = time.monotonic() + 20
        while time.monotonic() < warmup_end:  # node_exporter scraped as Prometheus would, every 2 s
            scrape()
            time.sleep(EVERY)
        agent_cpu0, ne_cpu0 = cpu_seconds(agent.pid), cpu_seconds(ne.pid)
        scrapes, peak_agent, peak_ne = 0, 0, 0
        start = time.monotonic()
        while time.monotonic() - start < args.seconds:
            scrape()
            scrapes += 1
            peak_agent, peak_ne = max(peak_agent, rss_kib(agent.pid)), max(peak_ne, rss_kib(ne.pid))
            time.sleep(EVERY)
        elapsed = time.monotonic() - start
        cycles = elapsed / EVERY
        agent_cpu = (cpu_seconds(agent.pid) - agent_cpu0) / cycles
        ne_cpu = (cpu_seconds(ne.pid) - ne_cpu0) / scrapes
        agent_rss, ne_rss = rss_kib(agent.pid), rss_kib(ne.pid)
    finally:
        for proc in (agent, ne):
            proc.terminate()
            proc.wait(timeout=20)
        collector.kill(15)
    print(
        f"agent footprint over {elapsed:.0f} s (8 host checks every {EVERY} s) vs node_exporter scraped every {EVERY} s"
    )
    print(f"  {'':28}{'patrol-agent':>14}{'node_exporter':>15}{'ratio':>9}  goal")
    print(
        f"  {'RSS, steady (MiB)':28}{agent_rss / 1024:14.1f}{ne_rss / 1024:15.1f}{agent_rss / ne_rss:9.2f}  <= 1.5"
    )
    print(f"  {'RSS, peak (MiB)':28}{peak_agent / 1024:14.1f}{peak_ne / 1024:15.1f}{peak_agent / peak_ne:9.2f}")
    print(
        f"  {'CPU per cycle/scrape (ms)':28}{agent_cpu * 1000:14.1f}{ne_cpu * 1000:15.1f}"
        f"{agent_cpu / ne_cpu if ne_cpu else float('inf'):9.2f}  <= 1.0"
    )
    shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
