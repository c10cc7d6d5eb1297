"""The DB-API drivers, imported only when a check of their engine runs.

A missing driver is ``CheckUnavailable`` naming the extra to install (``pip install patrol[postgres]``).
Each driver applies the connect timeout and a per-statement timeout that the *server* enforces too,
so an abandoned query does not keep running: PostgreSQL ``statement_timeout``, MariaDB
``max_statement_time`` / MySQL ``max_execution_time`` (plus PyMySQL's socket ``read_timeout``), and
python-oracledb's ``call_timeout`` (thin mode: no Oracle client libraries needed).
"""

from __future__ import annotations

import re
from typing import Any

from checks.errors import CheckUnavailable
from checks.sql.settings import DbSettings


def _import(module: str, extra: str, engine: str):
    try:
        return __import__(module)
    except ImportError as exc:
        raise CheckUnavailable(f"{engine} checks need the {module} driver ({exc}): install patrol[{extra}]") from None


def version_number(text: str) -> int:
    """'10.11.6-MariaDB-0+deb12u1' -> 101106, '8.0.36' -> 80036, '19.0.0.0.0' -> 190000."""
    parts = [int(p) for p in re.findall(r"\d+", text.split("-")[0])[:3]] + [0, 0, 0]
    return parts[0] * 10000 + parts[1] * 100 + parts[2]


class Driver:
    engine = ""
    identify_query = "server"  # the query (in queries/<engine>.yaml) that tells flavour and version

    def connect(self, s: DbSettings) -> Any:
        raise NotImplementedError

    def identify(self, conn: Any, row: dict) -> tuple[str, int]:
        raise NotImplementedError

    def closed(self, conn: Any) -> bool:
        return bool(getattr(conn, "closed", False))


class PostgresDriver(Driver):
    engine = "postgres"

    def connect(self, s: DbSettings) -> Any:
        psycopg = _import("psycopg", "postgres", "PostgreSQL")
        return psycopg.connect(
            host=s.host,
            port=s.port,
            user=s.user,
            password=s.password,
            dbname=s.database,
            # libpq takes whole seconds (and treats 1 as 2); autocommit so a failed query leaves no
            # aborted transaction behind for the next check's queries.
            connect_timeout=max(2, round(s.connect_timeout)),
            autocommit=True,
            application_name="patrol",
            options=f"-c statement_timeout={int(s.statement_timeout * 1000)}",
        )

    def identify(self, conn: Any, row: dict) -> tuple[str, int]:
        return "postgres", int(row["version_num"])


class MysqlDriver(Driver):
    engine = "mysql"

    def connect(self, s: DbSettings) -> Any:
        pymysql = _import("pymysql", "mysql", "MySQL/MariaDB")
        # PyMySQL's connect_timeout covers only the TCP connect; the server's greeting and the login
        # are read under read_timeout. So the handshake gets the connect timeout (a port that accepts
        # but never speaks costs connect_timeout, measured), and queries the statement timeout after.
        conn = pymysql.connect(
            host=s.host,
            port=s.port,
            user=s.user,
            password=s.password or "",
            database=s.database,
            connect_timeout=s.connect_timeout,
            read_timeout=s.connect_timeout,
            write_timeout=s.connect_timeout,
            autocommit=True,
            charset="utf8mb4",
        )
        conn._read_timeout = conn._write_timeout = s.statement_timeout + 1  # PyMySQL has no public setter
        return conn

    def identify(self, conn: Any, row: dict) -> tuple[str, int]:
        text = str(row["version"])
        flavor = "mariadb" if "mariadb" in text.lower() else "mysql"
        version = version_number(text)
        timeout = getattr(self, "_statement_timeout", None)
        if timeout:
            cur = conn.cursor()  # the server stops a statement we gave up on
            try:
                if flavor == "mariadb":
                    cur.execute(f"SET SESSION max_statement_time = {timeout:g}")
                elif version >= 50708:
                    cur.execute(f"SET SESSION max_execution_time = {int(timeout * 1000)}")
            finally:
                cur.close()
        return flavor, version

    def closed(self, conn: Any) -> bool:
        return not getattr(conn, "open", True)


class OracleDriver(Driver):
    engine = "oracle"

    def connect(self, s: DbSettings) -> Any:
        oracledb = _import("oracledb", "oracle", "Oracle")
        conn = oracledb.connect(
            user=s.user,
            password=s.password,
            dsn=f"{s.host}:{s.port}/{s.database}",
            tcp_connect_timeout=s.connect_timeout,
        )
        conn.call_timeout = int(s.statement_timeout * 1000)
        return conn

    def identify(self, conn: Any, row: dict) -> tuple[str, int]:
        return ("cdb" if row["cdb"] else "noncdb"), version_number(str(row["version"]))

    def closed(self, conn: Any) -> bool:
        try:
            return not conn.is_healthy()
        except AttributeError:
            return False


DRIVERS: dict[str, type[Driver]] = {"postgres": PostgresDriver, "mysql": MysqlDriver, "oracle": OracleDriver}
