"""`patrol run playbooks/middleware-patrol.yaml` as a user runs it, against a real Tomcat 10 with Jolokia,
and a WebLogic address where nothing listens. The application servers have no SSH: a middleware
target must not be probed on port 22 first (collector.reach)."""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess

import pytest
from integration.tomcat import TomcatError, start_tomcat

from .conftest import PATROL, ROOT

pytestmark = pytest.mark.e2e


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def tomcat():
    try:
        server = start_tomcat(password=secrets.token_urlsafe(12), jolokia=True)
    except TomcatError as exc:
        pytest.fail(f"cannot start Tomcat for the tests: {exc}", pytrace=False)
    yield server
    server.stop()


def test_the_middleware_playbook_runs_against_a_real_tomcat(tomcat, tmp_path):
    nowhere = closed_port()
    (tmp_path / "pw").write_text(tomcat.password + "\n")
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text(f"""
all:
  vars: {{ansible_host: 127.0.0.1, ansible_port: {nowhere}}}  # no SSH anywhere
  children:
    tomcat:
      vars: {{patrol_category: middleware, tomcat_user: {tomcat.user}, tomcat_password: {{file: {tmp_path}/pw}}}}
      hosts:
        app01: {{tomcat_url: "{tomcat.url}"}}
    jolokia:
      vars: {{patrol_category: middleware, jolokia_user: {tomcat.user}, jolokia_password: {{file: {tmp_path}/pw}}}}
      hosts:
        app01: {{jolokia_url: "{tomcat.url}/jolokia"}}
    weblogic:
      vars: {{patrol_category: middleware, weblogic_user: monitor, weblogic_password: {{file: {tmp_path}/pw}},
              weblogic_timeout: 3}}
      hosts:
        wls-admin: {{weblogic_url: "http://127.0.0.1:{nowhere}"}}
""")
    env = {k: v for k, v in os.environ.items() if k not in ("PATROL_INVENTORY", "PATROL_DB")}
    proc = subprocess.run(
        [str(PATROL), "run", "playbooks/middleware-patrol.yaml", "--inventory", str(inventory),
         "--db", f"sqlite:///{tmp_path}/patrol.db", "--report-dir", str(tmp_path / "reports")],
        cwd=ROOT, capture_output=True, text=True, timeout=240, env=env,
    )  # fmt: skip
    report_file = next((tmp_path / "reports").glob("*.json"), None)
    assert report_file is not None, proc.stdout + proc.stderr
    report = json.loads(report_file.read_text())
    (section,) = [c for c in report["categories"] if c["category"] == "middleware"]
    results = {(r["target"] if "target" in r else t["name"], r["check"], r["item"]): r
               for t in section["targets"] for r in t["results"]}  # fmt: skip
    by_check = {}
    for (target, check, item), r in results.items():
        by_check.setdefault(check, []).append((target, item, r))
    (threads,) = by_check["tomcat_threads"]
    assert threads[1] == f"http-nio-127.0.0.1-{tomcat.port}" and threads[2]["status"] == "OK", threads
    assert any(item == "heap" and r["status"] == "OK" for _, item, r in by_check["tomcat_memory"])
    jolokia_items = {item for _, item, _ in by_check["jolokia"]}
    assert f"threads http-nio-127.0.0.1-{tomcat.port}" in jolokia_items and "heap" in jolokia_items
    for check in ("weblogic_threads", "weblogic_jdbc"):
        ((target, _, r),) = by_check[check]
        assert r["status"] == "CRITICAL" and not r["collected"] and "unreachable" in r["summary"], r
    assert proc.returncode == 2, proc.stdout + proc.stderr  # the worst status: CRITICAL
