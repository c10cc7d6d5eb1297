"""The Grafana dashboards of dashboards/: importable JSON over the collector's real ``patrol_`` families, and every
query in them returns data from a real Prometheus (Debian package) scraping a real ``patrol serve``.

The store is filled the way a site fills it: checks run for real on this machine (host, links against local
servers, backup files, a backup log and a borg repository made here) and the Oracle checks run through the real
executor over the recorded result sets of tests/fixtures/oracle/, all pushed by agents over the API. Figures of
servers that do not run here (PostgreSQL, MySQL, Tomcat, Jolokia, WebLogic, SNMP devices, restic, pgBackRest)
are pushed as result records built with the check library's types, as tests/integration/test_metrics_prometheus.py
builds them, with the names and units the checks emit. Two rounds of the Oracle checks open events; two agents
have a plan (one of them never pushes, so it is silent); one batch is refused and one is a duplicate, so every
ingest outcome exists.
"""

from __future__ import annotations

import concurrent.futures as cf
import datetime as dt
import json
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from checks.base import CheckContext, metric
from checks.registry import default_registry
from checks.result import UNITS, Result
from checks.sql.pool import SqlPool
from checks.sql.replay import ReplayConnection
from checks.status import Status
from checks.target import Target
from collector.metrics.names import OWN_NAMES, family_name

from .backup_support import require, run_check
from .collector_support import PLAYBOOK, Collector, batch, self_signed_certificate
from .prometheus import PrometheusError, start_prometheus
from .test_links_http import serve

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
DASHBOARDS = sorted((ROOT / "dashboards").glob("*.json"))
ORACLE_FIXTURES = ROOT / "tests" / "fixtures" / "oracle"
GIB = 2**30

# Grafana's built-in variables, as a panel over the last few minutes would expand them.
BUILTINS = {"__rate_interval": "1m", "__interval": "15s", "__interval_ms": "15000", "__range": "1m",
            "__range_s": "60", "__range_ms": "60000"}  # fmt: skip
VARIABLE = re.compile(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)|\[\[(\w+)\]\]")
LABEL_VALUES = re.compile(r"^\s*label_values\(\s*(?:(.+?)\s*,\s*)?(\w+)\s*\)\s*$")
PROMQL_WORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless",
                "offset", "inf", "nan"}  # fmt: skip


# -- reading the dashboards -------------------------------------------------------------------------


def load(path: Path) -> dict:
    return json.loads(path.read_text())


def panels(dashboard: dict) -> Iterator[dict]:
    for panel in dashboard["panels"]:
        yield panel
        yield from panel.get("panels", [])  # a collapsed row holds its panels


def queries(dashboard: dict) -> Iterator[tuple[str, str]]:
    """(panel title, expr) of every target of every panel."""
    for panel in panels(dashboard):
        for target in panel.get("targets", []):
            if target.get("expr"):
                yield panel["title"], target["expr"]


def variable_query(variable: dict) -> str:
    query = variable.get("query", "")
    return query.get("query", "") if isinstance(query, dict) else query


def query_variables(dashboard: dict) -> list[dict]:
    return [v for v in dashboard["templating"]["list"] if v["type"] == "query"]


def substitute(expr: str, values: dict[str, str]) -> str:
    def one(match: re.Match) -> str:
        name = next(g for g in match.groups() if g)
        if name not in values:
            raise AssertionError(f"{expr!r} uses ${name}, which the dashboard does not define")
        return values[name]

    return VARIABLE.sub(one, expr)


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression selects (not functions, keywords, labels or durations)."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    text = re.sub(r"\{[^}]*\}", " ", text)
    text = re.sub(r"\[[^\]]*\]", " ", text)
    text = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    names = set()
    for match in re.finditer(r"(?<![\w.])([a-zA-Z_:][\w:]*)\s*(\()?", text):
        if not match.group(2) and match.group(1) not in PROMQL_WORDS:
            names.add(match.group(1))
    return names


def every_expr(dashboard: dict) -> Iterator[tuple[str, str]]:
    """(where, PromQL) of every panel query and every label_values() selector, variables left in."""
    for title, expr in queries(dashboard):
        yield f"panel {title!r}", expr
    for variable in query_variables(dashboard):
        match = LABEL_VALUES.match(variable_query(variable))
        assert match, f"variable {variable['name']}: {variable_query(variable)!r} is not label_values(...)"
        if match.group(1):
            yield f"variable {variable['name']!r}", match.group(1)


def published_families() -> set[str]:
    """Every name the collector can publish: its own families (with their sample suffixes) and each check's
    figures under every unit the result record allows."""
    names = set(OWN_NAMES) | {"up"}
    registry = default_registry()
    for check in registry.names():
        for figure in registry.get(check).metrics:
            if not figure.startswith("<"):
                names.update(family_name(check, figure, unit) for unit in UNITS)
    return names


# -- unit-style checks of the files -----------------------------------------------------------------


def test_the_five_dashboards_are_there():
    assert {p.stem for p in DASHBOARDS} == {"overview", "hosts", "network", "databases-middleware", "backups"}


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_dashboard_is_importable_and_asks_for_the_prometheus_data_source(path):
    dashboard = load(path)  # valid JSON
    assert dashboard["uid"].startswith("patrol-") and len(dashboard["uid"]) <= 40
    assert dashboard["title"].startswith("Patrol / ")
    assert dashboard["schemaVersion"] >= 36 and dashboard["id"] is None
    [source] = dashboard["__inputs"]
    assert (source["name"], source["type"], source["pluginId"]) == ("DS_PROMETHEUS", "datasource", "prometheus")
    ids = [p["id"] for p in panels(dashboard)]
    assert len(ids) == len(set(ids)), f"{path.name}: duplicate panel ids"
    reference = {"type": "prometheus", "uid": "${DS_PROMETHEUS}"}
    for panel in panels(dashboard):
        if panel["type"] == "row":
            continue
        assert panel["datasource"] == reference, f"{path.name}: panel {panel['title']!r}"
        assert panel["targets"], f"{path.name}: panel {panel['title']!r} has no query"
        for target in panel["targets"]:
            assert target["datasource"] == reference and target["expr"], f"{path.name}: panel {panel['title']!r}"
    for variable in query_variables(dashboard):
        assert variable["datasource"] == reference, f"{path.name}: variable {variable['name']}"
    assert len({p["title"] for p in panels(dashboard)}) > 5


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_every_metric_is_one_the_collector_publishes(path):
    dashboard = load(path)
    values = {**BUILTINS, **{v["name"]: ".*" for v in dashboard["templating"]["list"]}}
    known = published_families()
    for where, expr in every_expr(dashboard):
        names = metric_names(substitute(expr, values))
        assert names, f"{path.name} {where}: no metric in {expr!r}"
        for name in names:
            assert name.startswith("patrol_") or name == "up", f"{path.name} {where}: {name} in {expr!r}"
            assert name in known, f"{path.name} {where}: {name} is no family the collector publishes ({expr!r})"


# -- the store: real checks and recorded results ----------------------------------------------------


def record(target: str, check: str, item: str, status: Status, summary: str, *figures, age: float = 0.0) -> Result:
    return Result(
        target=target,
        check=check,
        item=item,
        status=status,
        summary=summary,
        metrics=list(figures),
        started_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=age),
        duration_seconds=0.02,
    )


OK, WARNING, CRITICAL = Status.OK, Status.WARNING, Status.CRITICAL


def recorded_results() -> dict[str, list[Result]]:
    """Results of checks whose servers do not run here, by the agent (and target) that pushes them."""
    # fmt: off
    return {
        "pg01": [
            record("pg01", "swap", "", OK, "62.5% free", metric("free", 62.5, "%"), metric("used", 1.5 * GIB, "B"),
                   metric("total", 4 * GIB, "B")),
            record("pg01", "network_interfaces", "eth0", OK, "up", metric("up", 1), metric("errors", 0.0, "/s"),
                   metric("drops", 0.1, "/s"), metric("rx", 1.2e6, "B/s"), metric("tx", 3.4e6, "B/s"),
                   metric("utilisation", 2.7, "%")),
            record("pg01", "postgres_connections", "", OK, "23 of 100", metric("used", 23.0, "%"),
                   metric("connections", 23), metric("max_connections", 100)),
            *[record("pg01", "postgres_databases", name, OK, "size", metric("size", size, "B"))
              for name, size in (("app", 42 * GIB), ("postgres", 7_500_000))],
            record("pg01", "postgres_tablespaces", "pg_default", OK, "size", metric("size", 42 * GIB, "B"),
                   metric("used", 61.0, "%"), metric("free", 80 * GIB, "B")),
            record("pg01", "postgres_long_transactions", "", OK, "oldest 12 s", metric("oldest", 12.5, "s"),
                   metric("long", 0), metric("open", 2)),
            record("pg01", "postgres_locks", "", WARNING, "1 blocked", metric("blocked", 1),
                   metric("longest_wait", 75.0, "s")),
            record("pg01", "postgres_wraparound", "app", OK, "age", metric("xid_age", 2.1e8),
                   metric("xid_used", 9.78, "%")),
            record("pg01", "postgres_replication", "primary", OK, "1 replica", metric("replicas", 1)),
            record("pg01", "postgres_replication", "replica standby1 (10.0.0.12)", OK, "streaming",
                   metric("lag", 1.2, "s"), metric("lag_bytes", 16384, "B"), metric("streaming", 1)),
            record("pg01", "postgres_archiving", "", OK, "archiving", metric("failed", 3), metric("archived", 1200),
                   metric("failing", 0)),
        ],
        "my01": [
            record("my01", "mysql_connections", "", OK, "53 of 151", metric("used", 35.1, "%"),
                   metric("connections", 53), metric("running", 4), metric("max_connections", 151),
                   metric("max_used", 80)),
            record("my01", "mysql_replication", "source 10.0.0.21:3306", OK, "running", metric("running", 1),
                   metric("lag", 4, "s")),
            record("my01", "mysql_slow_queries", "", OK, "0.02/s", metric("slow_queries", 0.02, "/s"),
                   metric("deadlocks", 0.0, "/s"), metric("slow_queries_total", 120), metric("deadlocks_total", 2)),
            record("my01", "mysql_tablespaces", "schema shop", OK, "size", metric("size", 3 * GIB, "B"),
                   metric("free", 200_000_000, "B"), metric("tables", 42)),
            record("my01", "mysql_tablespaces", "tablespace shop/orders", OK, "file",
                   metric("file_size", 2 * GIB, "B"), metric("allocated", 2 * GIB, "B")),
        ],
        "app01": [
            record("app01", "tomcat_threads", "http-nio-8080", OK, "40 of 200 busy", metric("busy", 20.0, "%"),
                   metric("busy_threads", 40), metric("current_threads", 60), metric("max_threads", 200)),
            record("app01", "tomcat_memory", "heap", OK, "61% of max", metric("used", 61.0, "%"),
                   metric("used_size", 1.22 * GIB, "B"), metric("max_size", 2 * GIB, "B"),
                   metric("committed_size", 1.5 * GIB, "B")),
            record("app01", "jolokia", "threads http-nio-8080", OK, "busy", metric("thread_busy", 20.0, "%"),
                   metric("busy_threads", 40), metric("current_threads", 60), metric("max_threads", 200)),
            record("app01", "jolokia", "heap", OK, "heap", metric("heap_used", 61.0, "%"),
                   metric("heap_used_size", 1.22 * GIB, "B"), metric("heap_max_size", 2 * GIB, "B")),
            record("app01", "jolokia", "gc G1 Young Generation", OK, "gc", metric("gc_time", 0.4, "%"),
                   metric("gc_collections", 0.05, "/s")),
            record("app01", "jolokia", "jdbc jdbc/app", OK, "pool", metric("jdbc_active", 30.0, "%"),
                   metric("jdbc_active_connections", 6), metric("jdbc_max_connections", 20)),
            record("app01", "jolokia", "jvm threads", OK, "threads", metric("jvm_threads", 87)),
            record("app01", "jolokia", "threads AdminServer", OK, "weblogic", metric("stuck_threads", 0),
                   metric("hogging_threads", 1), metric("execute_threads", 12), metric("idle_threads", 8),
                   metric("pending_requests", 0)),
            record("app01", "weblogic_threads", "AdminServer", OK, "RUNNING", metric("stuck_threads", 0),
                   metric("hogging_threads", 1), metric("execute_threads", 12), metric("idle_threads", 8),
                   metric("pending_requests", 0)),
            record("app01", "weblogic_jdbc", "AdminServer/appDS", OK, "Running", metric("active", 25.0, "%"),
                   metric("active_connections", 5), metric("capacity", 10), metric("max_capacity", 20),
                   metric("waiting", 0), metric("leaked", 0)),
        ],
        "sw01": [
            record("sw01", "snmp_system", "", OK, "up 37 days", metric("up", 1), metric("uptime", 3.2e6, "s")),
            record("sw01", "snmp_device", "", OK, "cpu 35%", metric("cpu_used", 35.0, "%"),
                   metric("memory_used", 48.0, "%"), metric("memory_total", 2 * GIB, "B")),
            record("sw01", "snmp_interfaces", "Gi0/1", OK, "up", metric("up", 1), metric("errors", 0.0, "/s"),
                   metric("discards", 0.3, "/s"), metric("rx", 5.25e7, "B/s"), metric("tx", 1.1e7, "B/s"),
                   metric("utilisation", 42.0, "%")),
            record("sw01", "snmp_interfaces", "Gi0/2", OK, "administratively down", metric("up", 0)),
            record("sw01", "snmp_interfaces", "Gi0/3", CRITICAL, "oper status down, admin up", metric("up", 0)),
        ],
        "bk01": [
            record("bk01", "restic", "r bk01:/srv", OK, "latest snapshot 3 h old", metric("age", 10800.0, "s"),
                   metric("size", 12 * GIB, "B"), metric("duration", 420.0, "s"), metric("snapshots", 14)),
            record("bk01", "pgbackrest", "main", OK, "ok", metric("status_code", 0), metric("backups", 9),
                   metric("age", 7200.0, "s"), metric("full_age", 4 * 86400.0, "s"), metric("diff_age", 86400.0, "s"),
                   metric("incr_age", 7200.0, "s"), metric("size", 40 * GIB, "B"),
                   metric("repo_size", 1.5 * GIB, "B"), metric("duration", 300.0, "s")),
        ],
    }
    # fmt: on


def oracle_results(target: str) -> list[Result]:
    """The Oracle checks through the real executor over the recorded answers of a CDB and a standby."""
    registry = default_registry()
    runs = [("cdb19.json", ["oracle_tablespaces", "oracle_sessions", "oracle_blocking", "oracle_rman", "oracle_fra",
                            "oracle_invalid_objects", "oracle_alert_log"]),
            ("standby12.json", ["oracle_dataguard"])]  # fmt: skip
    host = Target(target, {"oracle_host": "127.0.0.1", "oracle_service_name": "ORCL", "oracle_user": "patrol"})
    results = []
    for recording, names in runs:
        data = json.loads((ORACLE_FIXTURES / recording).read_text())
        pool = SqlPool(connectors={"oracle": lambda settings, data=data: ReplayConnection("oracle", data)})
        for name in names:
            check = registry.get(name)
            ctx = CheckContext(target=host, connections={"oracle": pool.factory("oracle")})
            results += check.execute(ctx, check.validate({}))
    return results


def make_backups(root: Path) -> dict:
    """Two dump files (the newer 30 % smaller), a job log that ends in success and a borg repository."""
    dumps = root / "dumps"
    dumps.mkdir()
    for name, size, hours in (("pg-1.sql.gz", 10_000, 25), ("pg-2.sql.gz", 7_000, 1)):
        path = dumps / name
        path.write_bytes(b"x" * size)
        when = dt.datetime.now().timestamp() - hours * 3600
        os.utime(path, (when, when))
    log = root / "nightly.log"
    log.write_text("=== backup started\nsent 1234 bytes\nbackup completed\n")
    require("borg")
    repo, source = root / "borg", root / "src"
    source.mkdir()
    (source / "data.bin").write_bytes(os.urandom(20_000))
    env = {**os.environ, "BORG_REPO": str(repo), "BORG_PASSPHRASE": os.environ["TEST_BORG_PW"]}
    for argv in (["borg", "init", "--encryption=repokey-blake2"], ["borg", "create", "::today", str(source)]):
        done = subprocess.run(argv, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL)
        assert done.returncode == 0, f"{' '.join(argv)}: {done.stderr}"
    return {
        "backup_files": {"jobs": [{"name": "pg-dump", "directory": str(dumps), "pattern": "pg-*.sql.gz"}]},
        "backup_log": {"jobs": [{"name": "nightly", "path": str(log), "success": "backup completed"}]},
        "borg": {"repository": str(repo), "name": "b"},
    }


def local_results(collector: Collector, https_url: str, ca_file: Path, backups: dict) -> list[Result]:
    """Real checks on this machine as the agent host web01 runs them."""
    work = [
        ("cpu", {}), ("load", {}), ("memory", {}), ("swap", {}), ("disk", {}), ("uptime", {}),
        ("processes", {"required": ["prometheus"]}), ("network_interfaces", {}),
        ("ping", {"hosts": ["127.0.0.1"], "count": 3, "interval": 0.05}),
        ("tcp_connect", {"endpoints": [f"127.0.0.1:{collector.port}"]}),
        ("http", {"url": collector.url + "/healthz", "contains": "ok"}),
        ("http", {"url": https_url, "ca_file": str(ca_file)}),
        *backups.items(),
    ]  # fmt: skip
    variables = {"borg_password": {"env": "TEST_BORG_PW"}}
    with cf.ThreadPoolExecutor(max_workers=4) as pool:
        done = pool.map(lambda job: run_check(job[0], job[1], variables, target="web01"), work)
        return [r for results in done for r in results]


# -- the queries against Prometheus -------------------------------------------------------------------


def variable_values(dashboard: dict, prom) -> dict[str, str]:
    """What Grafana would put in each variable: the "All" value, else the first value label_values() finds."""
    values = dict(BUILTINS)
    for variable in dashboard["templating"]["list"]:
        if variable["type"] != "query":
            values[variable["name"]] = variable["name"]  # the data source variable: not used in queries
            continue
        if variable.get("includeAll") and variable.get("allValue"):
            values[variable["name"]] = variable["allValue"]
            continue
        selector, label = LABEL_VALUES.match(variable_query(variable)).groups()
        found = prom.wait_for(
            selector or f'{{{label}!=""}}',
            timeout=15,
            until=lambda s, label=label: any(label in x["metric"] for x in s),
        )
        values[variable["name"]] = sorted(x["metric"][label] for x in found if label in x["metric"])[0]
    return values


def test_every_dashboard_query_returns_data(tmp_path, monkeypatch):
    monkeypatch.setenv("TEST_BORG_PW", "borg-Pa55-" + os.urandom(4).hex())
    monkeypatch.setenv("BORG_BASE_DIR", str(tmp_path / "borg-base"))
    c = Collector(tmp_path, settings={"events": {"evaluate_interval": "200ms", "tick_interval": "200ms"}})
    c.write_files({"agents": PLAYBOOK.format(name="agents", schedule="*/5 * * * *", hosts="agents")})
    recorded = recorded_results()
    agents = ["web01", "web02", "ora01", *recorded]
    for agent in agents:
        c.create_token("agent", agent)
    token = c.create_token("metrics", "prometheus")
    cert, key = self_signed_certificate(tmp_path)
    https = serve((cert, key))
    c.start()
    try:
        with start_prometheus(f"127.0.0.1:{c.port}", "/metrics", token) as prom:
            for agent in ("web01", "web02"):  # their plans have a schedule: each gets an expected interval
                plan = requests.get(
                    f"{c.url}/api/v1/agents/{agent}/plan", headers=c.headers("agent", agent), timeout=10
                )
                assert plan.status_code == 200, plan.text
            pushed: dict[tuple[str, str, str], Result] = {}

            def push(agent: str, results: list[Result], batch_id: str | None = None) -> None:
                body = batch(agent, [r.to_json_dict() for r in results], batch_id)
                answer = c.push(body, name=agent)
                assert answer.status_code == 200, answer.text
                pushed.update({(r.target, r.check, r.item): r for r in results})

            for _round in range(2):  # two non-OK results in a row open an event (open_after: 2)
                push("ora01", oracle_results("ora01"))
            for agent, results in recorded.items():
                push(agent, results, batch_id=f"{agent}-1")
            push("pg01", recorded["pg01"], batch_id="pg01-1")  # an agent's retry: a duplicate
            stray = record("web02", "memory", "", OK, "42% used", metric("used", 42.0, "%"))
            refused = c.push(batch("web02", [stray.to_json_dict()]), name="web01")  # another agent's: rejected
            assert refused.status_code == 403, refused.text
            local = local_results(c, f"https://127.0.0.1:{https.server_address[1]}/", cert, make_backups(tmp_path))
            uncollected = [f"{r.check} {r.item}: {r.summary}" for r in local if not r.collected]
            assert not uncollected, uncollected
            push("web01", local)

            prom.wait_for(
                "count(patrol_check_status)",
                timeout=60,
                until=lambda s: bool(s) and int(float(s[0]["value"][1])) == len(pushed),
            )
            prom.wait_for('sum(patrol_events_open{state="firing"}) > 0', timeout=30)
            prom.wait_for("count_over_time(patrol_ingest_results_total[1m]) > 2", timeout=30)

            failures = []
            checked = 0
            present: set[str] = set()
            for path in DASHBOARDS:
                dashboard = load(path)
                values = variable_values(dashboard, prom)
                for where, raw in every_expr(dashboard):
                    expr = substitute(raw, values)
                    for name in sorted(metric_names(expr) - present):  # each exists, even behind "or vector(0)"
                        try:
                            prom.wait_for(f"count({name})", timeout=5)
                            present.add(name)
                        except PrometheusError:
                            failures.append(f"{path.name}: {where}: {name} has no series (in {raw})")
                    try:
                        prom.wait_for(expr, timeout=5)
                    except PrometheusError as exc:
                        failures.append(f"{path.name}: {where}: {raw}\n    -> {str(exc).splitlines()[0][:300]}")
                    checked += 1
            assert not failures, f"{len(failures)} of {checked} queries returned nothing:\n" + "\n".join(failures)
            assert checked > 150
    finally:
        c.kill(15)
        https.shutdown()
        https.server_close()
