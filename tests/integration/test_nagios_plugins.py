"""nagios with Debian's monitoring-plugins (check_dummy, check_tcp, check_disk, check_load) and small
scripts for what those cannot show: every unit of measure, a hang, an unexpected exit code, secrets."""

from __future__ import annotations

import shutil
import socket
import time
from pathlib import Path

import pytest

from checks.registry import default_registry
from checks.target import Target
from collector.planner import Assignment
from collector.runner import Runner

PLUGINS = Path("/usr/lib/nagios/plugins")
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module", autouse=True)
def plugins_installed():
    if not (PLUGINS / "check_dummy").exists():
        pytest.fail("monitoring-plugins-basic is not installed: run scripts/test-deps as root", pytrace=False)


def run(params, target_vars=None, target="app1"):
    check = default_registry().get("nagios")
    [result] = Runner().run([Assignment("test", Target(target, target_vars or {}), check, check.validate(params))])
    return result


def script(directory: Path, name: str, body: str) -> Path:
    path = directory / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return path


@pytest.mark.parametrize(("code", "status"), [(0, "OK"), (1, "WARNING"), (2, "CRITICAL"), (3, "UNKNOWN")])
def test_check_dummy_exit_codes_map_to_states(code, status):
    r = run({"plugin": "check_dummy", "args": [str(code), "dummy says hi"]})
    assert r.status.value == status and "dummy says hi" in r.summary
    assert r.metric("exit_code").value == code and r.item == f"check_dummy {code} dummy says hi"


def test_any_other_exit_code_is_unknown_and_named(tmp_path):
    plugin = script(tmp_path, "check_odd", "echo 'ODD - something'\nexit 5\n")
    r = run({"plugin": str(plugin)})
    assert r.status.value == "UNKNOWN" and r.summary == "exit 5: ODD - something"


def test_check_tcp_perfdata_in_seconds_and_host_placeholder():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        r = run({"plugin": "check_tcp", "args": ["-H", "{host}", "-p", str(port)]}, {"ansible_host": "127.0.0.1"})
    assert r.status.value == "OK", r.summary
    t = r.metric("time")
    assert t.unit == "s" and 0 <= t.value < 5


def test_check_tcp_refused_is_critical():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    r = run({"plugin": "check_tcp", "args": ["-H", "127.0.0.1", "-p", str(port)]})
    assert r.status.value == "CRITICAL" and "refused" in r.summary.lower()


def test_check_disk_perfdata_is_bytes_matching_the_file_system():
    r = run({"plugin": "check_disk", "args": ["-w", "20%", "-c", "10%", "-p", "/"]})
    assert r.status.value in ("OK", "WARNING", "CRITICAL"), r.summary
    used = r.metric("root")
    assert used.unit == "B" and used.labels["label"] == "/"
    usage = shutil.disk_usage("/")
    assert abs(used.value - usage.used) < 0.05 * usage.total  # the same disk, read a moment apart


def test_check_load_perfdata_unitless():
    r = run({"plugin": "check_load", "args": ["-w", "1000,1000,1000", "-c", "2000,2000,2000"]})
    assert r.status.value == "OK"
    assert {m.name for m in r.metrics} >= {"load1", "load5", "load15"}
    assert r.metric("load1").unit == "" and r.metric("load1").value >= 0


def test_units_of_measure_become_base_units(tmp_path):
    perf = "a=2KB b=3MB c=1.5GB d=1TB e=250ms f=40us g=2s h=55% i=123c j=7 k=U l=9zz"
    plugin = script(tmp_path, "check_units", f"echo 'UNITS OK | {perf}'\n")
    r = run({"plugin": plugin.name, "plugin_dir": str(tmp_path)})  # a relative name, found in plugin_dir
    values = {m.name: (m.value, m.unit) for m in r.metrics}
    assert values["a"] == (2048, "B") and values["b"] == (3 * 1024**2, "B")
    assert values["c"] == (1.5 * 1024**3, "B") and values["d"] == (1024**4, "B")
    assert values["e"] == pytest.approx((0.25, "s")) and values["f"] == pytest.approx((40e-6, "s"))
    assert values["g"] == (2, "s") and values["h"] == (55, "%") and values["i"] == (123, "") and values["j"] == (7, "")
    assert "k" not in values  # "U": the plugin could not determine it
    assert values["l"] == (9, "") and r.metric("l").labels["uom"] == "zz"
    assert r.status.value == "OK" and r.summary == "UNITS OK"


def test_a_hanging_plugin_is_killed_with_its_children_and_unknown_at_the_timeout(tmp_path):
    pidfile = tmp_path / "child.pid"
    plugin = script(tmp_path, "check_hang", f"sleep 300 &\necho $! > {pidfile}\nwait\n")
    start = time.monotonic()
    r = run({"plugin": str(plugin), "timeout": 2})
    elapsed = time.monotonic() - start
    assert r.status.value == "UNKNOWN" and not r.collected
    assert "did not finish within" in r.summary and "killed" in r.summary and r.item.startswith(str(plugin))
    assert elapsed < 15  # 2 s timeout; generous for a loaded machine, far below the plugin's 300 s
    child = int(pidfile.read_text())
    deadline = time.monotonic() + 5
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(child), "the plugin's child outlived the timeout"


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_a_missing_plugin_is_unknown_naming_the_path():
    r = run({"plugin": "check_does_not_exist"})
    assert r.status.value == "UNKNOWN" and "/usr/lib/nagios/plugins/check_does_not_exist does not exist" in r.summary


def test_a_plugin_that_is_not_executable_is_unknown(tmp_path):
    plugin = tmp_path / "check_plain"
    plugin.write_text("echo hi\n")
    r = run({"plugin": str(plugin)})
    assert r.status.value == "UNKNOWN" and "not executable" in r.summary


def test_secret_arguments_reach_the_plugin_and_never_the_output(tmp_path, monkeypatch):
    monkeypatch.setenv("PATROL_TEST_PLUGIN_SECRET", "hunter2-plugin")
    plugin = script(tmp_path, "check_echo", 'echo "ECHO OK - got $*"\n')
    r = run(
        {"plugin": str(plugin), "args": ["-p", {"secret": "db_password"}]},
        {"db_password": {"env": "PATROL_TEST_PLUGIN_SECRET"}},
    )
    assert r.status.value == "OK" and r.summary == "ECHO OK - got -p ***", r.summary
    assert "hunter2" not in r.item and r.item.endswith("-p ***")
    missing = run({"plugin": str(plugin), "args": [{"secret": "db_password"}]})
    assert missing.status.value == "UNKNOWN" and "'db_password'" in missing.summary


def test_patrol_itself_as_a_plugin_round_trips_its_perfdata():
    # collector/nagios.py writes the plugin format; checks/plugin_output.py reads it: they must agree.
    patrol = ROOT / ".venv" / "bin" / "patrol"
    r = run({"plugin": str(patrol), "args": ["check", "uptime", "--format", "nagios"], "timeout": 60})
    assert r.status.value in ("OK", "WARNING"), r.summary
    assert r.summary.startswith("UPTIME ")
    uptime = r.metric("uptime")
    assert uptime.unit == "s" and abs(uptime.value - (time.time() - _boot_time())) < 120


def _boot_time() -> float:
    for line in Path("/proc/stat").read_text().splitlines():
        if line.startswith("btime "):
            return float(line.split()[1])
    raise AssertionError("no btime in /proc/stat")


def test_plugins_get_a_small_environment_not_the_collectors(tmp_path, monkeypatch):
    monkeypatch.setenv("PATROL_TEST_COLLECTOR_SECRET", "must-not-leak")  # where {env: ...} secrets live
    body = 'echo "ENV OK - mode=$PATROL_PLUGIN_MODE leak=$PATROL_TEST_COLLECTOR_SECRET lc=$LC_ALL"\n'
    plugin = script(tmp_path, "check_env", body)
    r = run({"plugin": str(plugin), "env": {"PATROL_PLUGIN_MODE": "strict"}})
    assert r.summary == "ENV OK - mode=strict leak= lc=C"
