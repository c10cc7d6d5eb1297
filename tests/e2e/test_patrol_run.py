"""The real `patrol run` on this machine, with the bundled inventory and playbook; the report is
checked against psutil's own figures, read independently in the test."""
import json
import os
import platform
import socket
import time

import psutil
import pytest

from checks.result import Result
from checks.status import Status
from collector.store.store import Store

from .conftest import ROOT

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def patrol_run(tmp_path_factory):
    import subprocess

    from .conftest import PATROL

    out = tmp_path_factory.mktemp("run")
    db = f"sqlite:///{out}/patrol.db"
    proc = subprocess.run(
        [str(PATROL), "run", "playbooks/daily-patrol.yaml", "--db", db, "--report-dir", str(out / "reports")],
        cwd=ROOT, capture_output=True, text=True, timeout=240,
        env={k: v for k, v in os.environ.items() if k not in ("PATROL_INVENTORY", "PATROL_DB")},
    )
    reports = {p.suffix: p for p in (out / "reports").iterdir()}
    report = json.loads(reports[".json"].read_text())
    results = {(r["check"], r["item"]): r for c in report["categories"] for t in c["targets"] for r in t["results"]}
    return proc, db, reports, report, results


def metric(result, name):
    return next(m["value"] for m in result["metrics"] if m["name"] == name)


def test_exit_code_is_the_worst_status_and_every_format_is_written(patrol_run):
    proc, _, reports, report, results = patrol_run
    assert set(reports) == {".html", ".json", ".md"}, proc.stderr
    worst = Status(report["overview"]["worst_status"])
    assert proc.returncode == worst.code, proc.stdout + proc.stderr
    assert worst is Status.worst(Status(r["status"]) for r in results.values())
    assert {check for check, _ in results} == {
        "cpu", "load", "memory", "swap", "disk", "processes", "uptime", "network_interfaces", "facts",
    }
    assert all(r["collected"] for r in results.values()), [r for r in results.values() if not r["collected"]]
    html = reports[".html"].read_text()
    assert "<svg" in html and f">{report['health']['score']}<" in html
    for check, item in results:
        assert check in html and item in html
    assert "Health score" in reports[".md"].read_text()


def test_disk_items_and_figures_match_psutil(patrol_run):
    *_, results = patrol_run
    disks = {item: r for (check, item), r in results.items() if check == "disk"}
    expected = {p.mountpoint for p in psutil.disk_partitions(all=False)}
    assert set(disks) == expected
    for mountpoint, r in disks.items():
        usage = psutil.disk_usage(mountpoint)
        assert metric(r, "total") == usage.total
        assert metric(r, "used") == pytest.approx(usage.percent, abs=1.0)  # files change while the test runs


def test_memory_load_processes_uptime_match_psutil(patrol_run):
    *_, results = patrol_run
    vm = psutil.virtual_memory()
    memory = results[("memory", "")]
    assert metric(memory, "total") == vm.total
    assert metric(memory, "used") == pytest.approx(100 * (vm.total - vm.available) / vm.total, abs=5)
    assert metric(results[("load", "")], "cpus") == psutil.cpu_count()
    processes = results[("processes", "")]
    assert metric(processes, "total") == pytest.approx(len(psutil.pids()), rel=0.3)
    uptime = metric(results[("uptime", "")], "uptime")
    assert uptime == pytest.approx(time.time() - psutil.boot_time(), abs=300)
    swap = psutil.swap_memory()
    assert metric(results[("swap", "")], "total") == swap.total
    nics = {item for check, item in results if check == "network_interfaces"}
    assert nics and nics <= set(psutil.net_if_stats()) and "lo" not in nics


def test_the_assets_section_holds_this_machine_facts(patrol_run):
    *_, report, results = patrol_run
    facts = results[("facts", "")]
    assert facts["status"] == "OK" and facts["collected"]
    [asset] = report["assets"]["assets"]
    assert asset["target"] == "localhost" and asset["hostname"] == socket.gethostname()
    assert asset["os"] == platform.freedesktop_os_release()["PRETTY_NAME"]
    assert asset["kernel"] == f"{platform.release()} {platform.machine()}"
    assert asset["cpus"] == psutil.cpu_count() and asset["memory_bytes"] == psutil.virtual_memory().total


def test_the_store_holds_what_the_report_shows(patrol_run):
    _, db, _, report, results = patrol_run
    store = Store.open(db)
    try:
        [run] = store.latest_runs()
        stored = store.run_results(run.id)
    finally:
        store.close()
    assert run.playbook == "daily-patrol" and run.status is not None
    assert len(stored) == report["overview"]["results_total"] == len(results)
    assert {(r.check, r.item) for r in stored} == set(results)


def test_patrol_check_nagios_output_matches_psutil(patrol):
    r = patrol("check", "disk", "--format", "nagios", "--set", "warning=99", "--set", "critical=99.5")
    first = r.stdout.splitlines()[0]
    status = first.split()[1]
    assert r.returncode == Status(status).code
    perf = dict(p.split("=", 1) for p in first.split(" | ", 1)[1].split())
    used = float(perf["/_used"].split("%")[0])
    assert used == pytest.approx(psutil.disk_usage("/").percent, abs=1.0)
    assert perf["/_used"].endswith("%;99;99.5;0;100")


def test_patrol_check_json_is_the_versioned_result_record(patrol):
    r = patrol("check", "memory", "--format", "json")
    records = [Result.from_json_dict(d) for d in json.loads(r.stdout)]
    assert records[0].schema_ == "patrol.result/1" and records[0].check == "memory"
    assert r.returncode == records[0].status.code


def test_patrol_agent_without_settings_says_what_is_missing():
    import subprocess

    from .conftest import PATROL

    r = subprocess.run([str(PATROL.with_name("patrol-agent"))], capture_output=True, text=True, timeout=60)
    assert r.returncode == 78, r.stderr
    assert "--collector" in r.stderr and "--token-file" in r.stderr
