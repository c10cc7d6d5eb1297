"""The postgres_* checks against a real PostgreSQL 15, as a least-privilege pg_monitor role.

Each condition is made for real: connections held open, a transaction left open, a row lock that
blocks another session, an archive_command that fails, a tablespace in a temporary directory, a
wrong password, a closed port, a port that accepts but never answers, and a role without pg_monitor
whose tablespace query is refused while its other checks work.
"""

from __future__ import annotations

import os
import socket
import threading
import time

import psycopg
import pytest

from checks.base import CheckContext
from checks.registry import default_registry
from checks.status import Status
from checks.target import Target
from collector import reach
from collector.planner import Assignment
from collector.runner import Runner

from . import pg_conditions as cond
from .pg import PostgresError, free_port, start_postgres

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def server():
    try:
        srv = start_postgres()
        cond.prepare(srv)
    except PostgresError as exc:
        pytest.fail(f"cannot start PostgreSQL for the tests: {exc}", pytrace=False)
    yield srv
    srv.stop()


@pytest.fixture
def monitor_env(monkeypatch):
    monkeypatch.setenv("PATROL_TEST_PG_PASSWORD", cond.PASSWORD)


def target(server, role=cond.MONITOR, **extra) -> Target:
    return Target(
        "pg1",
        {
            "postgres_host": "127.0.0.1",
            "postgres_port": server.port,
            "postgres_user": role,
            "postgres_password": {"env": "PATROL_TEST_PG_PASSWORD"},
            "postgres_database": "postgres",
            **extra,
        },
    )


def run(name, tgt, params=None, run_connections=None):
    check = default_registry().get(name)
    ctx = CheckContext(target=tgt, connections=reach.connections_for(tgt, run_connections))
    return {r.item: r for r in check.execute(ctx, check.validate(params or {}))}


def figures(result):
    return {m.name: m.value for m in result.metrics}


def test_connections_count_the_real_client_backends(server, monitor_env):
    held = [psycopg.connect(server.dsn()) for _ in range(3)]
    try:
        with psycopg.connect(server.dsn()) as conn:
            [(expected_max,)] = conn.execute("SHOW max_connections").fetchall()
        [r] = run("postgres_connections", target(server)).values()
        f = figures(r)
        # Ours (3), the check's own session, nothing else is a client backend on this private server.
        assert f["connections"] == 4 and f["max_connections"] == int(expected_max)
        assert r.status is Status.OK
        [crit] = run("postgres_connections", target(server), {"warning": 1, "critical": 3}).values()
        assert crit.status is Status.CRITICAL and "3" in crit.summary
    finally:
        for conn in held:
            conn.close()


def test_database_sizes_match_pg_database_size(server, monitor_env):
    with psycopg.connect(server.dsn(), autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS sized")
        conn.execute("CREATE DATABASE sized")
    with psycopg.connect(server.dsn("sized"), autocommit=True) as conn:
        conn.execute("CREATE TABLE filler AS SELECT generate_series(1, 200000) AS n")
        [(size,)] = conn.execute("SELECT pg_database_size('sized')").fetchall()
    r = run("postgres_databases", target(server), {"warning": "5MiB"})
    assert figures(r["sized"])["size"] == pytest.approx(size, rel=0.01)
    assert r["sized"].status is Status.WARNING  # ~ 11 MB of rows > 5 MiB
    assert "template0" not in r


def test_tablespace_size_and_its_file_system_free_space(server, monitor_env):
    location = cond.make_tablespace(server)
    r = run("postgres_tablespaces", target(server))
    ts = r["patrol_ts"]
    assert str(location) in ts.summary
    free = figures(ts)["free"]
    assert free == pytest.approx(cond.statvfs_free(location), rel=0.02)  # statvfs of that directory, here
    st = os.statvfs(location)
    usable = (st.f_blocks - st.f_bfree + st.f_bavail) * st.f_frsize
    assert figures(ts)["used"] == pytest.approx(100 * (usable - st.f_bavail * st.f_frsize) / usable, abs=0.5)
    with psycopg.connect(server.dsn()) as conn:
        [(size,)] = conn.execute("SELECT pg_tablespace_size('patrol_ts')").fetchall()
    assert figures(ts)["size"] == size
    assert {"pg_default", "pg_global"} <= set(r)
    # The built-in tablespaces live in the data directory: statvfs'ed there.
    assert str(server.data_dir) in r["pg_default"].summary and "free" in figures(r["pg_default"])


def test_a_long_open_transaction_is_reported(server, monitor_env):
    holder = psycopg.connect(server.dsn())
    try:
        holder.execute("SELECT txid_current()")  # the transaction is open (psycopg does not autocommit)
        [(pid,)] = holder.execute("SELECT pg_backend_pid()").fetchall()
        time.sleep(1.5)
        [r] = run("postgres_long_transactions", target(server), {"warning": 1, "critical": 60}).values()
        assert r.status is Status.WARNING
        assert f"pid {pid}" in r.summary and figures(r)["oldest"] >= 1.5 and figures(r)["long"] == 1
    finally:
        holder.close()
    [after] = run("postgres_long_transactions", target(server), {"warning": 1, "critical": 60}).values()
    assert after.status is Status.OK and figures(after)["open"] == 0


def test_a_session_blocked_on_a_row_lock(server, monitor_env):
    with psycopg.connect(server.dsn(), autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS lockme (id int PRIMARY KEY, v int)")
        conn.execute("INSERT INTO lockme VALUES (1, 0) ON CONFLICT DO NOTHING")
    holder = psycopg.connect(server.dsn())
    holder.execute("UPDATE lockme SET v = v + 1 WHERE id = 1")  # holds the row lock, uncommitted
    waiter = psycopg.connect(server.dsn(), autocommit=True)
    [(waiter_pid,)] = waiter.execute("SELECT pg_backend_pid()").fetchall()
    blocked = threading.Thread(target=lambda: waiter.execute("UPDATE lockme SET v = v + 1 WHERE id = 1"))
    blocked.start()
    try:
        time.sleep(1.5)
        [r] = run("postgres_locks", target(server), {"warning": 1, "critical": 30}).values()
        assert r.status is Status.WARNING, r.summary
        assert figures(r)["blocked"] == 1 and figures(r)["longest_wait"] >= 1.0
        assert f"pid {waiter_pid}" in r.summary
    finally:
        holder.rollback()
        blocked.join(10)
        holder.close()
        waiter.close()
    [after] = run("postgres_locks", target(server)).values()
    assert after.status is Status.OK and figures(after)["blocked"] == 0


def test_wraparound_age_per_database(server, monitor_env):
    with psycopg.connect(server.dsn()) as conn:
        ages = dict(conn.execute("SELECT datname, age(datfrozenxid) FROM pg_database").fetchall())
    r = run("postgres_wraparound", target(server))
    assert set(r) == set(ages)
    assert all(res.status is Status.OK for res in r.values())
    assert figures(r["postgres"])["xid_age"] == pytest.approx(ages["postgres"], abs=50)
    low = run("postgres_wraparound", target(server), {"warning": 1, "critical": 10**9})
    assert low["postgres"].status is Status.WARNING


def test_failing_archive_command_is_critical(server, monitor_env):
    failed = cond.force_archive_failure(server)
    [r] = run("postgres_archiving", target(server)).values()
    assert r.status is Status.CRITICAL and "archiving is failing" in r.summary
    assert figures(r)["failed"] >= failed and figures(r)["failing"] == 1


def test_primary_without_replicas_and_min_replicas(server, monitor_env):
    r = run("postgres_replication", target(server))
    assert r["primary"].status is Status.OK and figures(r["primary"])["replicas"] == 0
    want = run("postgres_replication", target(server), {"min_replicas": 1})
    assert want["primary"].status is Status.CRITICAL


def test_wrong_password_is_critical_and_never_shown(server, monkeypatch):
    monkeypatch.setenv("PATROL_TEST_PG_PASSWORD", "Wr0ng-Passw0rd-xyz")
    [r] = run("postgres_connections", target(server)).values()
    assert r.status is Status.CRITICAL and not r.collected
    assert "cannot connect" in r.summary and "password authentication failed" in r.summary
    assert "Wr0ng-Passw0rd-xyz" not in r.summary and cond.PASSWORD not in r.summary


def test_closed_port_is_critical_quickly(monitor_env):
    tgt = Target("gone", {"postgres_host": "127.0.0.1", "postgres_port": free_port(), "postgres_user": "x"})
    start = time.monotonic()
    [r] = run("postgres_connections", tgt).values()
    assert r.status is Status.CRITICAL and "cannot connect" in r.summary and "refused" in r.summary.lower()
    assert time.monotonic() - start < 3


def test_a_server_that_never_answers_is_critical_within_the_connect_timeout(monitor_env):
    with socket.socket() as silent:  # accepts TCP (the kernel does) but never speaks PostgreSQL
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        tgt = Target(
            "hung",
            {
                "postgres_host": "127.0.0.1",
                "postgres_port": silent.getsockname()[1],
                "postgres_user": "x",
                "postgres_connect_timeout": 2,
            },
        )
        start = time.monotonic()
        [r] = run("postgres_connections", tgt).values()
        took = time.monotonic() - start
    assert r.status is Status.CRITICAL and "cannot connect" in r.summary
    assert 1.5 <= took < 6, took


def test_a_refused_query_is_unknown_while_the_other_checks_share_one_session(server, monitor_env):
    """patrol_nopriv lacks pg_monitor: reading data_directory is refused, the other checks work."""
    tgt = target(server, role=cond.NOPRIV)
    registry = default_registry()
    names = ["postgres_tablespaces", "postgres_connections", "postgres_wraparound"]
    work = [Assignment("db", tgt, registry.get(n), registry.get(n).validate({})) for n in names]
    results = {r.check: r for r in Runner().run(work)}
    ts = results["postgres_tablespaces"]
    assert ts.status is Status.UNKNOWN and not ts.collected
    assert "cannot query" in ts.summary and "pg_read_all_settings" in ts.summary
    assert results["postgres_connections"].status is Status.OK and results["postgres_connections"].collected
    assert results["postgres_wraparound"].collected
    # The run closed its session when it ended (the backend exits just after the client's Terminate).
    deadline = time.monotonic() + 5
    with psycopg.connect(server.dsn(), autocommit=True) as conn:
        while True:
            [(left,)] = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE usename = %s", (cond.NOPRIV,)
            ).fetchall()
            if left == 0 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
    assert left == 0  # closed when the run ended


def test_one_session_per_target_per_run(server, monitor_env):
    tgt = target(server)
    with reach.RunConnections() as opened:
        for name in ("postgres_connections", "postgres_wraparound", "postgres_databases"):
            run(name, tgt, run_connections=opened)
        with psycopg.connect(server.dsn()) as conn:
            [(sessions,)] = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE usename = %s AND application_name = 'patrol'",
                (cond.MONITOR,),
            ).fetchall()
        assert sessions == 1


@pytest.fixture
def primary():
    """A server of its own: pg_basebackup waits for WAL archiving, which fails on the module's server."""
    try:
        srv = start_postgres()
        cond.prepare(srv, failing_archive=False)
    except PostgresError as exc:
        pytest.fail(f"cannot start PostgreSQL for the tests: {exc}", pytrace=False)
    yield srv
    srv.stop()


def test_a_real_streaming_replica_seen_from_both_sides(primary, monitor_env):
    server = primary
    standby = cond.start_standby(server)
    try:
        cond.wait_streaming(server)
        with psycopg.connect(server.dsn(), autocommit=True) as conn:
            conn.execute("CREATE TABLE IF NOT EXISTS replicated AS SELECT generate_series(1, 1000) AS n")
        primary = run("postgres_replication", target(server), {"min_replicas": 1})
        assert primary["primary"].status is Status.OK and figures(primary["primary"])["replicas"] == 1
        [replica] = [r for item, r in primary.items() if item.startswith("replica ")]
        assert figures(replica)["streaming"] == 1 and replica.status is Status.OK, replica.summary
        on_standby = run("postgres_replication", Target("pg2", dict(target(server).vars, postgres_port=standby.port)))
        s = on_standby["standby"]
        assert s.status is Status.OK and figures(s)["streaming"] == 1, s.summary
        assert f"127.0.0.1:{server.port}" in s.summary
    finally:
        standby.stop()
    # The replica is gone: the primary that expects one is CRITICAL.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        gone = run("postgres_replication", target(server), {"min_replicas": 1})
        if gone["primary"].status is Status.CRITICAL:
            break
        time.sleep(0.3)
    assert gone["primary"].status is Status.CRITICAL and "1 expected" in gone["primary"].summary
