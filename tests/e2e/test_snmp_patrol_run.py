"""`patrol run` on network devices polled by SNMP, as a user runs it: a healthy switch (snmpsim), a
device whose community is wrong, and one where nothing answers; the report holds all three."""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from integration.snmp_support import SnmpServerError, free_udp_port, start_snmpsim, switch_records

from checks.status import Status

from .conftest import PATROL

pytestmark = pytest.mark.e2e

PLAYBOOK = """\
name: network patrol
tasks:
  - name: switches
    hosts: network
    checks:
      - snmp_system: {warning: null}
      - snmp_interfaces: {interval: 1, include: ['Gi1/0/4*']}
      - snmp_device
"""


@pytest.fixture(scope="module")
def sim():
    try:
        server = start_snmpsim({"e2e-switch": switch_records()})
    except SnmpServerError as exc:
        pytest.fail(f"cannot start snmpsim: {exc}", pytrace=False)
    yield server
    server.stop()


def test_patrol_run_polls_snmp_devices(sim, tmp_path):
    (tmp_path / "inventory.yaml").write_text(f"""\
all:
  children:
    network:
      vars: {{connection: snmp, ansible_host: 127.0.0.1, snmp_community: {{env: E2E_COMMUNITY}},
             snmp_timeout: 1, snmp_retries: 0, patrol_category: network}}
      hosts:
        core-sw1: {{snmp_port: {sim.port}}}
        edge-sw2: {{snmp_port: {sim.port}, snmp_community: {{env: E2E_WRONG}}}}
        dead-sw3: {{snmp_port: {free_udp_port()}}}
""")
    (tmp_path / "network.yaml").write_text(PLAYBOOK)
    env = {k: v for k, v in os.environ.items() if k not in ("PATROL_INVENTORY", "PATROL_DB")}
    env.update(E2E_COMMUNITY="e2e-switch", E2E_WRONG="not-e2e-switch")
    proc = subprocess.run(
        [str(PATROL), "run", "network.yaml", "-i", "inventory.yaml", "--db", f"sqlite:///{tmp_path}/p.db",
         "--report-dir", "reports"], cwd=tmp_path, capture_output=True, text=True, timeout=240, env=env,
    )  # fmt: skip
    report = json.loads(next((tmp_path / "reports").glob("*.json")).read_text())
    results = {}
    for category in report["categories"]:
        for t in category["targets"]:
            for r in t["results"]:
                results[(t["name"], r["check"], r["item"])] = r
    assert proc.returncode == Status.CRITICAL.code, proc.stdout + proc.stderr
    ok = {key: r for key, r in results.items() if key[0] == "core-sw1"}
    assert ok[("core-sw1", "snmp_system", "")]["status"] == "OK"
    interfaces = {key[2]: r for key, r in ok.items() if key[1] == "snmp_interfaces"}
    assert sorted(interfaces) == sorted(["Gi1/0/4"] + [f"Gi1/0/{i}" for i in range(40, 49)])
    assert {interfaces[f"Gi1/0/{i}"]["status"] for i in range(41, 45)} == {"CRITICAL"}  # admin up, oper down
    assert ok[("core-sw1", "snmp_device", "cpu")]["status"] == "OK"
    wrong = [r for key, r in results.items() if key[0] == "edge-sw2"]
    dead = [r for key, r in results.items() if key[0] == "dead-sw3"]
    assert wrong and all(r["status"] == "UNKNOWN" and "community" in r["summary"] for r in wrong)
    assert dead and all(r["status"] == "CRITICAL" and "no SNMP answer" in r["summary"] for r in dead)
    assert "not-e2e-switch" not in json.dumps(report) and "e2e-switch" not in json.dumps(report)
