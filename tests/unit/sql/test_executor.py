"""The shared SQL layer with stand-in connections: settings, variants, typing, failures kept apart."""

from __future__ import annotations

import sys

import pytest

from checks.base import CheckContext
from checks.registry import default_registry
from checks.sql.errors import CannotConnect, QueryFailed, SqlConfigError
from checks.sql.executor import SqlSession
from checks.sql.pool import SqlPool
from checks.sql.queries import load_queries
from checks.sql.replay import ReplayConnection
from checks.sql.settings import db_settings
from checks.status import Status
from checks.target import Target

PG_SERVER = {"server": {"columns": ["version_num"], "rows": [[150004]]}}


def test_settings_default_to_ansible_host_and_resolve_the_password(monkeypatch):
    monkeypatch.setenv("PG_PW", "s3cret-value")
    t = Target("db1", {"ansible_host": "127.0.0.9", "postgres_user": "mon", "postgres_password": {"env": "PG_PW"}})
    s = db_settings(t, "postgres")
    assert (s.host, s.port, s.user, s.password, s.database) == ("127.0.0.9", 5432, "mon", "s3cret-value", "postgres")
    assert "s3cret-value" not in repr(s)


@pytest.mark.parametrize(
    ("vars_", "field"),
    [
        ({"postgres_port": "fivefour"}, "postgres_port"),
        ({"postgres_port": 70000}, "postgres_port"),
        ({"postgres_connect_timeout": -1}, "postgres_connect_timeout"),
    ],
)
def test_bad_settings_name_the_variable(vars_, field):
    with pytest.raises(SqlConfigError, match=field):
        db_settings(Target("db1", vars_), "postgres")


def test_oracle_needs_a_service_name():
    with pytest.raises(SqlConfigError, match="oracle_service_name"):
        db_settings(Target("o", {"oracle_user": "patrol"}), "oracle")


def test_mysql_variants_follow_flavour_and_version():
    q = load_queries("mysql")
    assert q["replica_status"].variant_for("mysql", 80036).sql == "SHOW REPLICA STATUS"
    assert q["replica_status"].variant_for("mysql", 80021).sql == "SHOW SLAVE STATUS"
    assert q["replica_status"].variant_for("mariadb", 101106).sql == "SHOW SLAVE STATUS"
    assert "INNODB_SYS_TABLESPACES" in q["innodb_tablespaces"].variant_for("mariadb", 101106).sql
    assert "INNODB_TABLESPACES" in q["innodb_tablespaces"].variant_for("mysql", 80036).sql
    assert "INNODB_METRICS" in q["deadlocks"].variant_for("mysql", 80036).sql


def test_renamed_columns_and_types_through_the_executor():
    recording = {
        "server": {"columns": ["version"], "rows": [["8.0.36"]]},
        "replica_status": {
            "columns": [
                "Replica_IO_Running",
                "Replica_SQL_Running",
                "Seconds_Behind_Source",
                "Source_Host",
                "Last_IO_Error",
                "Last_SQL_Error",
                "Other",
            ],
            "rows": [["Yes", "No", None, "10.0.0.5", "", "Error 1062: Duplicate entry", 1]],
        },
    }
    session = SqlSession(
        db_settings(Target("m", {"mysql_user": "m"}), "mysql"), connector=lambda s: ReplayConnection("mysql", recording)
    )
    session.open()
    assert (session.flavor, session.version) == ("mysql", 80036)
    # MySQL 8 gets the server-side statement timeout in milliseconds (MariaDB: max_statement_time).
    assert ("SET", "SET SESSION max_execution_time = 10000") in session._conn.executed
    [row] = session.query("replica_status")
    assert row == {
        "io_running": "Yes",
        "sql_running": "No",
        "seconds_behind": None,
        "source": "10.0.0.5",
        "last_io_error": "",
        "last_sql_error": "Error 1062: Duplicate entry",
    }


def test_cannot_connect_is_critical_and_scrubbed(monkeypatch):
    monkeypatch.setenv("PG_PW", "hunter2-secret")

    def refuse(settings):
        raise OSError(f"connection to {settings.host} failed: password={settings.password} rejected")

    t = Target("db1", {"postgres_host": "127.0.0.1", "postgres_password": {"env": "PG_PW"}})
    pool = SqlPool(connectors={"postgres": refuse})
    check = default_registry().get("postgres_connections")
    ctx = CheckContext(target=t, connections={"postgres": pool.factory("postgres")})
    [r] = check.execute(ctx, check.validate({}))
    ctx.scrubber.add("hunter2-secret")
    assert r.status is Status.CRITICAL and not r.collected and "cannot connect" in r.summary
    assert "hunter2-secret" not in r.summary
    # Remembered for the run: the second check does not try again.
    with pytest.raises(CannotConnect):
        pool.session(t, "postgres")


def test_a_failing_query_does_not_break_the_session():
    recording = dict(
        PG_SERVER,
        connections={"error": "permission denied for view pg_stat_activity"},
        wraparound={"columns": ["name", "xid_age"], "rows": [["postgres", 731]]},
    )
    session = SqlSession(
        db_settings(Target("p", {"postgres_user": "u"}), "postgres"),
        connector=lambda s: ReplayConnection("postgres", recording),
    )
    with pytest.raises(QueryFailed, match="permission denied"):
        session.query("connections")
    assert session.query("wraparound") == [{"name": "postgres", "xid_age": 731}]


def test_a_broken_connection_is_reopened():
    opened = []

    def connect(settings):
        opened.append(
            ReplayConnection("postgres", dict(PG_SERVER, in_recovery={"columns": ["in_recovery"], "rows": [[False]]}))
        )
        return opened[-1]

    session = SqlSession(db_settings(Target("p", {"postgres_user": "u"}), "postgres"), connector=connect)
    session.query("in_recovery")
    opened[-1].closed = True  # the server went away between two checks
    assert session.query("in_recovery") == [{"in_recovery": False}]
    assert len(opened) == 2


def test_tablespace_free_space_is_unknown_away_from_the_database_host():
    recording = dict(
        PG_SERVER,
        tablespaces={
            "columns": ["name", "size_bytes", "location"],
            "rows": [["pg_default", 7_500_000, "/var/lib/postgresql/15/main/base"]],
        },
    )
    t = Target("db1", {"postgres_host": "db1.example.net", "postgres_user": "u"})
    pool = SqlPool(connectors={"postgres": lambda s: ReplayConnection("postgres", recording)})
    check = default_registry().get("postgres_tablespaces")
    [r] = check.execute(CheckContext(target=t, connections={"postgres": pool.factory("postgres")}), check.validate({}))
    assert r.status is Status.OK and "free space unknown" in r.summary
    assert {m.name for m in r.metrics} == {"size"}


def test_a_missing_driver_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "oracledb", None)  # import oracledb -> ImportError
    t = Target("o", {"oracle_host": "127.0.0.1", "oracle_service_name": "ORCL", "oracle_user": "patrol"})
    check = default_registry().get("oracle_fra")
    [r] = check.execute(CheckContext(target=t), check.validate({}))
    assert r.status is Status.UNKNOWN and "patrol[oracle]" in r.summary


def test_without_a_run_the_check_opens_and_closes_its_own_session(monkeypatch):
    conns = []

    def connect(settings):
        conns.append(
            ReplayConnection(
                "postgres", dict(PG_SERVER, wraparound={"columns": ["name", "xid_age"], "rows": [["postgres", 5]]})
            )
        )
        return conns[-1]

    monkeypatch.setattr("checks.sql.drivers.PostgresDriver.connect", lambda self, s: connect(s))
    check = default_registry().get("postgres_wraparound")
    [r] = check.execute(CheckContext(target=Target("p", {"postgres_user": "u"})), check.validate({}))
    assert r.status is Status.OK and len(conns) == 1 and conns[0].closed
