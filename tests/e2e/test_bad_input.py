"""Bad input: each gets a clear message naming the file, line and field, and the right exit code."""
import socket

import pytest

pytestmark = pytest.mark.e2e

EX_CONFIG = 78

LOCAL_INVENTORY = """\
all:
  children:
    linux:
      hosts:
        here: {connection: local}
"""

PLAYBOOK = """\
name: t
tasks:
  - name: hosts
    hosts: {hosts}
    checks:
{checks}
"""


def playbook(write, checks="      - memory", hosts="linux"):
    return write("pb.yaml", PLAYBOOK.format(hosts=hosts, checks=checks))


def test_malformed_yaml_names_the_file_and_line(patrol, write):
    inv = write("inventory.yaml", LOCAL_INVENTORY)
    pb = write("pb.yaml", "name: t\ntasks:\n  - name: x\n    hosts: [linux\n")
    r = patrol("run", pb, "-i", inv)
    assert r.returncode == EX_CONFIG
    assert "pb.yaml:" in r.stderr and "Traceback" not in r.stderr
    assert not (pb.parent / "var").exists()  # nothing ran, no report written


def test_unknown_check_gets_a_suggestion(patrol, write):
    inv = write("inventory.yaml", LOCAL_INVENTORY)
    r = patrol("run", playbook(write, "      - memroy"), "-i", inv)
    assert r.returncode == EX_CONFIG
    assert "pb.yaml:6" in r.stderr and "unknown check 'memroy' (did you mean 'memory'?)" in r.stderr


def test_wrong_parameter_type_and_typo_are_reported_together(patrol, write):
    inv = write("inventory.yaml", LOCAL_INVENTORY)
    checks = "      - disk: {warning: lots, exclude: /boot}\n      - memory: {critcal: 90}"
    r = patrol("playbook", "validate", playbook(write, checks), "-i", inv)
    assert r.returncode == EX_CONFIG
    lines = [line for line in r.stderr.splitlines() if "pb.yaml:" in line]
    assert len(lines) == 3, r.stderr
    assert any("disk.warning" in line and "'lots'" in line for line in lines)
    assert any("disk.exclude" in line and "list" in line for line in lines)
    assert any("memory.critcal" in line and "did you mean 'critical'" in line for line in lines)


def test_unknown_host_pattern(patrol, write):
    inv = write("inventory.yaml", LOCAL_INVENTORY)
    r = patrol("run", playbook(write, hosts="linx"), "-i", inv)
    assert r.returncode == EX_CONFIG
    assert "pb.yaml:4" in r.stderr and "'linx' matches no host or group" in r.stderr
    assert "did you mean 'linux'" in r.stderr


def test_missing_secret_stops_the_patrol_before_anything_runs(patrol, write, tmp_path):
    inv = write("inventory.yaml", LOCAL_INVENTORY.replace(
        "{connection: local}", "{connection: local, postgres_password: {env: PATROL_TEST_NO_SUCH_VAR}}"
    ))
    r = patrol("run", playbook(write), "-i", inv, "--report-dir", tmp_path / "reports")
    assert r.returncode == EX_CONFIG
    assert "here" in r.stderr and "postgres_password" in r.stderr
    assert "environment variable PATROL_TEST_NO_SUCH_VAR is not set" in r.stderr
    assert not (tmp_path / "reports").exists() and not (tmp_path / "patrol.db").exists()


def test_unknown_limit_pattern_is_a_configuration_error_before_anything_is_stored(patrol, write, tmp_path):
    inv = write("inventory.yaml", LOCAL_INVENTORY)
    r = patrol("run", playbook(write), "-i", inv, "--limit", "lnux")
    assert r.returncode == EX_CONFIG and "'lnux' matches no host or group" in r.stderr
    assert "did you mean 'linux'" in r.stderr
    assert not (tmp_path / "patrol.db").exists()


def test_inline_secret_is_rejected_without_echoing_it(patrol, write):
    inv = write("inventory.yaml", LOCAL_INVENTORY.replace("{connection: local}", "{snmp_community: s3cr3t-string}"))
    r = patrol("inventory", "validate", "-i", inv)
    assert r.returncode == EX_CONFIG
    assert "snmp_community" in r.stderr and "inline" in r.stderr and "s3cr3t-string" not in r.stderr


def test_unreachable_target_is_critical_and_reported_as_a_failed_collection(patrol, write, tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # free a moment ago: nothing listens there
    inv = write("inventory.yaml", LOCAL_INVENTORY + f"        far: {{ansible_host: 127.0.0.1, ansible_port: {port}}}\n")
    r = patrol("run", playbook(write, "      - uptime: {warning: 1}"), "-i", inv, "--report-dir", tmp_path / "rep")
    assert r.returncode == 2, r.stdout + r.stderr
    assert "unreachable: 127.0.0.1:" in r.stdout
    [html] = (tmp_path / "rep").glob("*.html")
    text = html.read_text()
    assert "far" in text and "unreachable" in text


def test_unknown_check_and_bad_setting_for_patrol_check(patrol):
    r = patrol("check", "dsik")
    assert r.returncode == EX_CONFIG and "did you mean 'disk'" in r.stderr
    r = patrol("check", "disk", "--set", "warning=[1")
    assert r.returncode == EX_CONFIG and "not a valid YAML value" in r.stderr
    r = patrol("check", "disk", "--set", "mount_timeout=-3")
    assert r.returncode == EX_CONFIG and "--set.mount_timeout" in r.stderr


def test_usage_errors_are_not_confused_with_patrol_outcomes(patrol):
    r = patrol("run")
    assert r.returncode == 64 and "Missing argument" in r.stderr
