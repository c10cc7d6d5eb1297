"""`patrol run playbooks/database-patrol.yaml` as a user runs it, against a real PostgreSQL and MariaDB.

The Oracle group points at a closed port of 127.0.0.1: python-oracledb (thin mode) really tries to
connect and each oracle_* check is CRITICAL "cannot connect" — the only Oracle path that runs for
real here. The report files must list every database check of the playbook for each target.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import psycopg
import pytest

from . import pg_conditions as cond
from .mariadb import MariadbError, start_mariadb
from .pg import PostgresError, free_port, start_postgres

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
PATROL = ROOT / ".venv" / "bin" / "patrol"


@pytest.fixture(scope="module")
def servers():
    try:
        pg = start_postgres()
    except PostgresError as exc:
        pytest.fail(f"cannot start PostgreSQL: {exc}", pytrace=False)
    try:
        cond.prepare(pg)
        maria = start_mariadb()
    except (PostgresError, MariadbError) as exc:
        pg.stop()
        pytest.fail(f"cannot start the database servers: {exc}", pytrace=False)
    with maria.root() as conn, conn.cursor() as cur:
        cur.execute(f"CREATE USER 'patrol'@'127.0.0.1' IDENTIFIED BY '{cond.PASSWORD}'")
        cur.execute("GRANT PROCESS, REPLICATION CLIENT, SLAVE MONITOR, SELECT ON *.* TO 'patrol'@'127.0.0.1'")
    yield pg, maria
    maria.stop()
    pg.stop()


def test_database_patrol_run(servers, tmp_path):
    pg, maria = servers
    secret = tmp_path / "pg.secret"
    secret.write_text(cond.PASSWORD + "\n")
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text(f"""
all:
  children:
    postgres:
      hosts:
        pg1: {{postgres_host: 127.0.0.1, postgres_port: {pg.port}, postgres_user: {cond.MONITOR},
              postgres_password: {{file: {secret}}}, patrol_category: databases}}
    mysql:
      hosts:
        maria1: {{mysql_host: 127.0.0.1, mysql_port: {maria.port}, mysql_user: patrol,
                 mysql_password: {{env: PATROL_TEST_MYSQL_PW}}, patrol_category: databases}}
    oracle:
      hosts:
        orcl: {{oracle_host: 127.0.0.1, oracle_port: {free_port()}, oracle_service_name: ORCL,
               oracle_user: patrol, oracle_connect_timeout: 3, patrol_category: databases}}
""")
    with psycopg.connect(pg.dsn(), autocommit=True) as conn:
        conn.execute("SELECT 1")
    env = {k: v for k, v in os.environ.items() if k not in ("PATROL_INVENTORY", "PATROL_DB")}
    env["PATROL_TEST_MYSQL_PW"] = cond.PASSWORD
    proc = subprocess.run(
        [
            str(PATROL),
            "run",
            "playbooks/database-patrol.yaml",
            "-i",
            str(inventory),
            "--db",
            f"sqlite:///{tmp_path}/patrol.db",
            "--report-dir",
            str(tmp_path / "reports"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        env=env,
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr  # Oracle unreachable: CRITICAL
    report = json.loads(next((tmp_path / "reports").glob("*.json")).read_text())
    by_target: dict[str, dict[str, list]] = {}
    for category in report["categories"]:
        assert category["category"] == "databases"  # patrol_category puts them in the databases section
        for t in category["targets"]:
            for r in t["results"]:
                by_target.setdefault(t["name"], {}).setdefault(r["check"], []).append(r)
    assert {c for c in by_target["pg1"]} == {
        "postgres_connections",
        "postgres_databases",
        "postgres_tablespaces",
        "postgres_long_transactions",
        "postgres_locks",
        "postgres_wraparound",
        "postgres_replication",
        "postgres_archiving",
    }
    assert all(r["collected"] for rs in by_target["pg1"].values() for r in rs)
    assert by_target["pg1"]["postgres_connections"][0]["status"] == "OK"
    assert set(by_target["maria1"]) == {
        "mysql_connections",
        "mysql_tablespaces",
        "mysql_replication",
        "mysql_slow_queries",
    }
    assert all(r["collected"] for rs in by_target["maria1"].values() for r in rs)
    oracle = [r for rs in by_target["orcl"].values() for r in rs]
    assert len(by_target["orcl"]) == 8
    assert all(r["status"] == "CRITICAL" and "cannot connect" in r["summary"] for r in oracle), oracle[0]
    text = json.dumps(report) + proc.stdout + proc.stderr
    assert cond.PASSWORD not in text
