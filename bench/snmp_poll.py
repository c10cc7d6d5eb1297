"""Benchmark: one poll cycle of many simulated 48-port switches with snmp_interfaces, side by side with
Debian's prometheus-snmp-exporter and with snmpbulkwalk processes walking the same devices, in one run.

    .venv/bin/python bench/snmp_poll.py [--devices 500] [--simulators 2] [--concurrency 16]

Every device is a recording served by snmpsim (its community selects it), spread over
``--simulators`` snmpsim processes on their own ports, so the simulator is not the only bottleneck.
Each contender polls the same 16 ifTable/ifXTable columns of every device once per cycle:
- Patrol: the runner (thread pool, ``--concurrency`` workers) running snmp_interfaces on every device,
  as `patrol run` or the scheduled poller would. Cycle 1 of a fresh process has no previous counters,
  so it takes two samples ``--interval`` apart; cycle 2 is the steady state of a scheduled poller
  (the previous sample is held) and is the figure compared.
- snmp_exporter 0.21 (Debian): one module per device (its auth is per module), scraped
  ``--concurrency`` at a time as Prometheus would, timed from the first request to the last answer.
- snmpbulkwalk: one process per device and column root (ifTable, ifXTable), ``--concurrency`` at a time.
Goal (issue 5): Patrol at least as fast as snmp_exporter, and under 30 s for 500 devices.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from integration.snmp_support import (  # noqa: E402
    ensure_debian_packages,
    free_udp_port,
    stop,
    switch_records,
    wait_for_answer,
)

from checks.rates import RateTracker  # noqa: E402
from checks.registry import default_registry  # noqa: E402
from checks.snmp.interfaces import COLUMNS  # noqa: E402
from checks.status import Status  # noqa: E402
from checks.target import Target  # noqa: E402
from collector.planner import Assignment  # noqa: E402
from collector.runner import Runner  # noqa: E402

NAMES = {
    "1.3.6.1.2.1.2.2.1.2": ("ifDescr", "DisplayString"), "1.3.6.1.2.1.2.2.1.3": ("ifType", "gauge"),
    "1.3.6.1.2.1.2.2.1.5": ("ifSpeed", "gauge"), "1.3.6.1.2.1.2.2.1.7": ("ifAdminStatus", "gauge"),
    "1.3.6.1.2.1.2.2.1.8": ("ifOperStatus", "gauge"), "1.3.6.1.2.1.2.2.1.10": ("ifInOctets", "counter"),
    "1.3.6.1.2.1.2.2.1.13": ("ifInDiscards", "counter"), "1.3.6.1.2.1.2.2.1.14": ("ifInErrors", "counter"),
    "1.3.6.1.2.1.2.2.1.16": ("ifOutOctets", "counter"), "1.3.6.1.2.1.2.2.1.19": ("ifOutDiscards", "counter"),
    "1.3.6.1.2.1.2.2.1.20": ("ifOutErrors", "counter"), "1.3.6.1.2.1.31.1.1.1.1": ("ifName", "DisplayString"),
    "1.3.6.1.2.1.31.1.1.1.6": ("ifHCInOctets", "counter"), "1.3.6.1.2.1.31.1.1.1.10": ("ifHCOutOctets", "counter"),
    "1.3.6.1.2.1.31.1.1.1.15": ("ifHighSpeed", "gauge"), "1.3.6.1.2.1.31.1.1.1.18": ("ifAlias", "DisplayString"),
}  # fmt: skip


HZ = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / HZ


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def community(i: int) -> str:
    return f"sw{i:04d}"


def start_simulators(data: Path, cache: Path, count: int, log_dir: Path) -> list[tuple[int, subprocess.Popen]]:
    responder = Path(sys.executable).with_name("snmpsim-command-responder")
    sims = []
    for n in range(count):
        port = free_udp_port()
        log = open(log_dir / f"snmpsim-{n}.log", "wb")  # noqa: SIM115 - kept open for the process's life
        proc = subprocess.Popen(
            [str(responder), f"--data-dir={data}", f"--cache-dir={cache}", f"--agent-udpv4-endpoint=127.0.0.1:{port}",
             "--log-level=error", "--logging-method=null"],
            env={**os.environ, "SNMPSIM_ALLOW_ROOT": "true"}, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        # The first one indexes the recordings; the others reuse its index (cache) once it is built.
        wait_for_answer(port, community(0), timeout=600, log=log_dir / f"snmpsim-{n}.log")
        sims.append((port, proc))
    return sims


def patrol_cycles(devices: list[tuple[str, int]], concurrency: int, interval: float) -> list[tuple[float, dict]]:
    check = default_registry().get("snmp_interfaces")
    params = check.validate({"interval": interval})
    targets = [
        Target(f"sw{i:04d}", {"ansible_host": "127.0.0.1", "snmp_port": port, "snmp_version": "2c",
                              "snmp_community": {"env": f"BENCH_COMMUNITY_{i}"}, "snmp_timeout": 10,
                              "snmp_retries": 1})
        for i, (name, port) in enumerate(devices)
    ]  # fmt: skip
    for i, (name, _) in enumerate(devices):
        os.environ[f"BENCH_COMMUNITY_{i}"] = name
    runner = Runner(max_workers=concurrency, rates=RateTracker())
    out = []
    for _ in range(2):
        started, cpu = time.monotonic(), time.process_time()
        results = runner.run([Assignment("bench", t, check, params) for t in targets])
        elapsed = time.monotonic() - started
        client_cpu = time.process_time() - cpu
        statuses: dict = {}
        for r in results:
            statuses[r.status.value] = statuses.get(r.status.value, 0) + 1
        failed = {r.target for r in results if not r.collected}
        statuses["devices_failed"] = len(failed)
        statuses["results"] = len(results)
        statuses["rates"] = sum(1 for r in results if r.metric("rx") is not None)
        statuses["client_cpu_s"] = round(client_cpu, 2)
        out.append((elapsed, statuses))
    return out


def exporter_config(devices: list[tuple[str, int]], path: Path) -> None:
    metrics = "".join(
        f"  - {{name: {name}, oid: {oid}, type: {kind}, indexes: [{{labelname: ifIndex, type: gauge}}]}}\n"
        for oid, (name, kind) in NAMES.items()
    )
    walk = ", ".join(NAMES)
    lines = []
    for i, (name, _) in enumerate(devices):
        if i == 0:
            tail = f"  walk: &walk [{walk}]\n  metrics: &metrics\n{metrics}"
        else:
            tail = "  walk: *walk\n  metrics: *metrics\n"  # YAML aliases: every module walks the same columns
        lines.append(f"{name}:\n  version: 2\n  max_repetitions: 25\n  retries: 1\n  timeout: 10s\n"
                     f"  auth: {{community: {name}}}\n{tail}")
    path.write_text("".join(lines))


def exporter_cycle(devices: list[tuple[str, int]], concurrency: int, directory: Path) -> tuple[float, dict]:
    config = directory / "snmp.yml"
    exporter_config(devices, config)
    port = free_udp_port()  # a free TCP port in practice on loopback; retried below if taken
    proc = subprocess.Popen(
        ["prometheus-snmp-exporter", f"--config.file={config}", f"--web.listen-address=127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL, stderr=open(directory / "exporter.log", "wb"),  # noqa: SIM115
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(base + "/", timeout=1)
                break
            except requests.ConnectionError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    log = (directory / "exporter.log").read_text()
                    raise SystemExit(f"snmp_exporter did not start: {log}") from None
                time.sleep(0.1)
        session = requests.Session()
        session.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=concurrency))

        def scrape(device: tuple[str, int]) -> tuple[bool, int]:
            name, sim_port = device
            r = session.get(f"{base}/snmp", params={"target": f"127.0.0.1:{sim_port}", "module": name}, timeout=60)
            return r.status_code == 200 and "ifHCInOctets{" in r.text, r.text.count("\nifOperStatus{")

        started, cpu = time.monotonic(), cpu_seconds(proc.pid)
        with cf.ThreadPoolExecutor(concurrency) as pool:
            answers = list(pool.map(scrape, devices))
        elapsed = time.monotonic() - started
        client_cpu = round(cpu_seconds(proc.pid) - cpu, 2)
        return elapsed, {"ok": sum(1 for ok, _ in answers if ok), "interfaces": sum(n for _, n in answers),
                         "client_cpu_s": client_cpu}  # fmt: skip
    finally:
        stop(proc)


def bulkwalk_cycle(devices: list[tuple[str, int]], concurrency: int) -> tuple[float, dict]:
    def walk(job: tuple[str, int, str]) -> int:
        name, port, root = job
        r = subprocess.run(["snmpbulkwalk", "-v2c", "-c", name, "-m", "", "-On", "-Cr25", "-t", "10", "-r", "1",
                            f"127.0.0.1:{port}", root], capture_output=True, text=True)  # fmt: skip
        return r.stdout.count("\n") if r.returncode == 0 else -1

    jobs = [(name, port, root) for name, port in devices for root in ("1.3.6.1.2.1.2.2.1", "1.3.6.1.2.1.31.1.1.1")]
    started, cpu = time.monotonic(), children_cpu()
    with cf.ThreadPoolExecutor(concurrency) as pool:
        lines = list(pool.map(walk, jobs))
    elapsed = time.monotonic() - started
    failed = sum(1 for n in lines if n < 0)
    return elapsed, {"walks": len(jobs), "failed": failed, "varbinds": sum(max(0, n) for n in lines),
                     "client_cpu_s": round(children_cpu() - cpu, 2)}  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--devices", type=int, default=500)
    parser.add_argument("--simulators", type=int, default=2, help="snmpsim processes serving the devices")
    parser.add_argument("--concurrency", type=int, default=16, help="devices in flight for every contender")
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between cycle 1's two samples")
    parser.add_argument("--skip-bulkwalk", action="store_true", help="leave out the snmpbulkwalk processes")
    args = parser.parse_args()
    ensure_debian_packages()
    if not shutil.which("prometheus-snmp-exporter"):
        raise SystemExit("prometheus-snmp-exporter is missing: apt-get install prometheus-snmp-exporter")

    directory = Path(tempfile.mkdtemp(prefix="patrol-snmp-bench-"))
    sims: list[tuple[int, subprocess.Popen]] = []
    try:
        data = directory / "data"
        data.mkdir()
        records = "\n".join(switch_records(ports=48, step=0)) + "\n"
        for i in range(args.devices):
            (data / f"{community(i)}.snmprec").write_text(records)
        print(f"{args.devices} simulated 48-port switches, {len(COLUMNS)} columns each, "
              f"{args.simulators} snmpsim process(es), concurrency {args.concurrency}", flush=True)  # fmt: skip
        t0 = time.monotonic()
        sims = start_simulators(data, directory / "cache", args.simulators, directory)
        print(f"snmpsim ready in {time.monotonic() - t0:.1f} s (indexing the recordings)", flush=True)
        devices = [(community(i), sims[i % len(sims)][0]) for i in range(args.devices)]

        def simulators_cpu() -> float:
            return sum(cpu_seconds(proc.pid) for _, proc in sims)

        mark = simulators_cpu()
        (c1, s1), (c2, s2) = patrol_cycles(devices, args.concurrency, args.interval)
        patrol_sim = simulators_cpu() - mark  # both cycles: cycle 1 polls each device twice
        print(f"patrol   cycle 1 (two samples {args.interval:g} s apart): {c1:7.2f} s  {s1}", flush=True)
        print(f"patrol   cycle 2 (steady state):                 {c2:7.2f} s  {s2}", flush=True)
        print(f"         snmpsim CPU over both patrol cycles (three polls per device): {patrol_sim:.2f} s", flush=True)
        mark = simulators_cpu()
        e, es = exporter_cycle(devices, args.concurrency, directory)
        es["simulators_cpu_s"] = round(simulators_cpu() - mark, 2)
        print(f"snmp_exporter 0.21 (one scrape per device):      {e:7.2f} s  {es}", flush=True)
        b = None
        if not args.skip_bulkwalk:
            mark = simulators_cpu()
            b, bs = bulkwalk_cycle(devices, args.concurrency)
            bs["simulators_cpu_s"] = round(simulators_cpu() - mark, 2)
            print(f"snmpbulkwalk processes (ifTable + ifXTable):     {b:7.2f} s  {bs}", flush=True)
        print()
        print(f"{'contender':<34}{'seconds':>9}{'vs patrol':>11}{'client CPU s':>14}")
        print(f"{'patrol snmp_interfaces (cycle 2)':<34}{c2:>9.2f}{1.0:>10.2f}x{s2['client_cpu_s']:>14.2f}")
        print(f"{'prometheus-snmp-exporter':<34}{e:>9.2f}{e / c2:>10.2f}x{es['client_cpu_s']:>14.2f}")
        if b is not None:
            print(f"{'snmpbulkwalk processes':<34}{b:>9.2f}{b / c2:>10.2f}x{bs['client_cpu_s']:>14.2f}")
        ok = c2 <= e and c2 < 30 and s2["devices_failed"] == 0 and s2.get(Status.UNKNOWN.value, 0) == 0
        print(f"goal (patrol <= snmp_exporter and < 30 s, every device collected): {'met' if ok else 'NOT met'}")
        return 0 if ok else 1
    finally:
        for _, proc in sims:
            stop(proc)
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
