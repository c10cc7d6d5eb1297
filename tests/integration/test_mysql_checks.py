"""The mysql_* checks against a real MariaDB (Debian's mariadb-server), as a least-privilege account.

The account has what docs/databases.md grants: PROCESS, REPLICATION CLIENT, SELECT — which on
MariaDB 10.5.9+ is not enough for SHOW SLAVE STATUS (it wants SLAVE MONITOR): the test shows that
check UNKNOWN with the server's reason while the others work, then grants SLAVE MONITOR. Slow queries
are made with long_query_time = 0 and SELECT SLEEP, a deadlock with two connections, and a binlog
replica of a second server, all for real.
"""

from __future__ import annotations

import threading
import time

import pymysql
import pytest

from checks.base import CheckContext
from checks.rates import RateTracker
from checks.registry import default_registry
from checks.status import Status
from checks.target import Target
from collector.planner import Assignment
from collector.runner import Runner

from .mariadb import MariadbError, start_mariadb
from .pg import free_port

pytestmark = pytest.mark.integration

USER = "patrol"
PASSWORD = "Maria-M0nitor-pw"


@pytest.fixture(scope="module")
def server():
    try:
        srv = start_mariadb("--slow-query-log=1", "--long-query-time=0")
    except MariadbError as exc:
        pytest.fail(f"cannot start MariaDB for the tests: {exc}", pytrace=False)
    with srv.root() as conn, conn.cursor() as cur:
        cur.execute(f"CREATE USER '{USER}'@'127.0.0.1' IDENTIFIED BY '{PASSWORD}'")
        cur.execute(f"GRANT PROCESS, REPLICATION CLIENT, SELECT ON *.* TO '{USER}'@'127.0.0.1'")
        cur.execute("CREATE DATABASE shop")
        cur.execute("CREATE TABLE shop.orders (id INT PRIMARY KEY, v INT, pad CHAR(200)) ENGINE=InnoDB")
        cur.execute("INSERT INTO shop.orders SELECT seq, 0, REPEAT('x', 200) FROM shop.seq_1_to_5000")
        cur.execute("ANALYZE TABLE shop.orders")
    yield srv
    srv.stop()


@pytest.fixture(autouse=True)
def password_env(monkeypatch):
    monkeypatch.setenv("PATROL_TEST_MYSQL_PASSWORD", PASSWORD)


def target(server, **extra) -> Target:
    return Target(
        "maria1",
        {
            "mysql_host": "127.0.0.1",
            "mysql_port": server.port,
            "mysql_user": USER,
            "mysql_password": {"env": "PATROL_TEST_MYSQL_PASSWORD"},
            **extra,
        },
    )


def run(name, tgt, params=None, rates=None):
    check = default_registry().get(name)
    ctx = CheckContext(target=tgt, rates=rates or RateTracker())
    return {r.item: r for r in check.execute(ctx, check.validate(params or {}))}


def figures(result):
    return {m.name: m.value for m in result.metrics}


def root_query(server, sql):
    with server.root() as conn, conn.cursor() as cur:
        cur.execute(sql)
        return cur.fetchall()


def test_connections_against_max_connections(server):
    held = [pymysql.connect(unix_socket=server.socket, user="root") for _ in range(4)]
    try:
        [r] = run("mysql_connections", target(server)).values()
        f = figures(r)
        [(max_conn,)] = root_query(server, "SELECT @@max_connections")
        # 4 held + the check's own session (the root query above has closed).
        assert f["connections"] == 5 and f["max_connections"] == max_conn
        assert r.status is Status.OK and "mariadb" in r.summary
        [crit] = run("mysql_connections", target(server), {"warning": 1, "critical": 2}).values()
        assert crit.status is Status.CRITICAL
    finally:
        for conn in held:
            conn.close()


def test_innodb_tablespaces_and_schema_sizes_from_mariadbs_own_views(server):
    r = run("mysql_tablespaces", target(server), {"warning": "100KiB"})
    [(size,)] = root_query(
        server, "SELECT SUM(DATA_LENGTH + INDEX_LENGTH) FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'shop'"
    )
    schema = r["schema shop"]
    assert figures(schema)["size"] == size and figures(schema)["tables"] == 1
    assert schema.status is Status.WARNING  # ~1 MiB of rows > 100 KiB
    [(file_size,)] = root_query(
        server, "SELECT FILE_SIZE FROM information_schema.INNODB_SYS_TABLESPACES WHERE NAME = 'shop/orders'"
    )
    assert figures(r["tablespace shop/orders"])["file_size"] == file_size
    assert "tablespace innodb_system" in r


def test_replication_needs_slave_monitor_on_mariadb_and_the_rest_still_works(server):
    tgt = target(server)
    registry = default_registry()
    names = ["mysql_replication", "mysql_connections", "mysql_tablespaces"]
    work = [Assignment("db", tgt, registry.get(n), registry.get(n).validate({})) for n in names]
    results = {}
    for r in Runner().run(work):
        results.setdefault(r.check, []).append(r)
    [repl] = results["mysql_replication"]
    assert repl.status is Status.UNKNOWN and not repl.collected
    assert "cannot query" in repl.summary and "SLAVE MONITOR" in repl.summary
    assert results["mysql_connections"][0].status is Status.OK
    assert all(r.collected for r in results["mysql_tablespaces"])
    root_query(server, f"GRANT SLAVE MONITOR ON *.* TO '{USER}'@'127.0.0.1'")
    try:
        [ok] = run("mysql_replication", tgt).values()
        assert ok.status is Status.OK and ok.summary == "not a replica"
        [must] = run("mysql_replication", tgt, {"replica": True}).values()
        assert must.status is Status.CRITICAL
    finally:
        root_query(server, f"REVOKE SLAVE MONITOR ON *.* FROM '{USER}'@'127.0.0.1'")


def test_slow_queries_as_a_rate(server):
    stop = threading.Event()

    def sleepy():
        with server.root() as conn, conn.cursor() as cur:
            while not stop.is_set():
                cur.execute("SELECT SLEEP(0.05)")  # slower than long_query_time (0)

    worker = threading.Thread(target=sleepy)
    worker.start()
    try:
        [r] = run("mysql_slow_queries", target(server), {"interval": 2, "warning": 0.5, "critical": 1000}).values()
    finally:
        stop.set()
        worker.join(10)
    f = figures(r)
    # About 20 SLEEP(0.05) per second, each a slow query; plus the check's own statements.
    assert 5 <= f["slow_queries"] <= 200 and r.status is Status.WARNING, r.summary
    [(name, total)] = root_query(server, "SHOW GLOBAL STATUS LIKE 'Slow_queries'")
    assert f["slow_queries_total"] <= int(total)


def test_a_real_deadlock_is_seen_as_a_rate(server):
    rates = RateTracker()
    quiet = {"warning": 10**6, "critical": 10**6, "interval": 0.5}  # every query is slow on this server
    [first] = run("mysql_slow_queries", target(server), quiet, rates=rates).values()
    assert figures(first)["deadlocks"] == 0
    a = pymysql.connect(unix_socket=server.socket, user="root")
    b = pymysql.connect(unix_socket=server.socket, user="root")
    errors = []
    try:
        a.begin()
        b.begin()
        a.cursor().execute("UPDATE shop.orders SET v = v + 1 WHERE id = 1")
        b.cursor().execute("UPDATE shop.orders SET v = v + 1 WHERE id = 2")

        def cross():
            try:
                a.cursor().execute("UPDATE shop.orders SET v = v + 1 WHERE id = 2")  # waits for b
            except pymysql.err.OperationalError as exc:
                errors.append(exc.args[0])

        t = threading.Thread(target=cross)
        t.start()
        time.sleep(0.3)
        try:
            b.cursor().execute("UPDATE shop.orders SET v = v + 1 WHERE id = 1")  # closes the cycle
        except pymysql.err.OperationalError as exc:
            errors.append(exc.args[0])
        t.join(10)
    finally:
        a.rollback()
        b.rollback()
        a.close()
        b.close()
    assert 1213 in errors  # ER_LOCK_DEADLOCK: InnoDB chose a victim
    [second] = run("mysql_slow_queries", target(server), quiet, rates=rates).values()
    f = figures(second)
    assert f["deadlocks_total"] == figures(first)["deadlocks_total"] + 1
    assert f["deadlocks"] > 0 and second.status is Status.WARNING, second.summary


def test_wrong_password_is_critical_and_never_shown(server, monkeypatch):
    monkeypatch.setenv("PATROL_TEST_MYSQL_PASSWORD", "Not-The-Pw-987")
    [r] = run("mysql_connections", target(server)).values()
    assert r.status is Status.CRITICAL and not r.collected and "Access denied" in r.summary
    assert "Not-The-Pw-987" not in r.summary and PASSWORD not in r.summary


def test_closed_port_is_critical_within_the_timeout():
    tgt = Target("gone", {"mysql_host": "127.0.0.1", "mysql_port": free_port(), "mysql_user": "x"})
    start = time.monotonic()
    [r] = run("mysql_connections", tgt).values()
    assert r.status is Status.CRITICAL and "cannot connect" in r.summary
    assert time.monotonic() - start < 3


def test_a_real_replica_running_then_its_source_gone():
    """A MariaDB replica of a MariaDB source (binlog replication), seen by mysql_replication."""
    try:
        source = start_mariadb("--log-bin=binlog", "--server-id=1")
    except MariadbError as exc:
        pytest.fail(f"cannot start the source: {exc}", pytrace=False)
    try:
        replica = start_mariadb("--server-id=2", "--slave-net-timeout=5")
    except MariadbError as exc:
        source.stop()
        pytest.fail(f"cannot start the replica: {exc}", pytrace=False)
    try:
        root_query(source, "CREATE USER 'repl'@'127.0.0.1' IDENTIFIED BY 'repl-pw-123'")
        root_query(source, "GRANT REPLICATION SLAVE ON *.* TO 'repl'@'127.0.0.1'")
        root_query(replica, f"CREATE USER '{USER}'@'127.0.0.1' IDENTIFIED BY '{PASSWORD}'")
        root_query(replica, f"GRANT PROCESS, REPLICATION CLIENT, SLAVE MONITOR, SELECT ON *.* TO '{USER}'@'127.0.0.1'")
        root_query(
            replica,
            f"CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT={source.port}, "
            "MASTER_USER='repl', MASTER_PASSWORD='repl-pw-123', MASTER_CONNECT_RETRY=1, "
            "MASTER_USE_GTID=slave_pos",
        )
        root_query(replica, "START SLAVE")
        tgt = target(replica)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            [r] = run("mysql_replication", tgt, {"replica": True}).values()
            if r.status is Status.OK:
                break
            time.sleep(0.3)
        assert r.status is Status.OK, r.summary
        assert r.item == "source 127.0.0.1" and figures(r) == {"running": 1, "lag": 0}
        source.stop()  # the source goes away: the IO thread stops running (Connecting)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            [gone] = run("mysql_replication", tgt).values()
            if gone.status is Status.CRITICAL:
                break
            time.sleep(0.5)
        assert gone.status is Status.CRITICAL and "IO thread Connecting" in gone.summary, gone.summary
        assert figures(gone)["running"] == 0
    finally:
        replica.stop()
        source.stop()


def test_a_server_that_never_answers_is_critical_within_the_connect_timeout():
    import socket

    with socket.socket() as silent:  # the kernel accepts the TCP connection; no MySQL greeting ever comes
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        tgt = Target(
            "hung",
            {
                "mysql_host": "127.0.0.1",
                "mysql_port": silent.getsockname()[1],
                "mysql_user": "x",
                "mysql_connect_timeout": 2,
            },
        )
        start = time.monotonic()
        [r] = run("mysql_connections", tgt).values()
        took = time.monotonic() - start
    assert r.status is Status.CRITICAL and "cannot connect" in r.summary
    assert 1.5 <= took < 6, took
