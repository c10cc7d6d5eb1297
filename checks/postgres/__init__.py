"""PostgreSQL checks (psycopg 3), over the shared SQL layer in checks/sql/."""

from typing import ClassVar

from checks.sql.check import SqlCheck


class PostgresCheck(SqlCheck):
    engine: ClassVar[str] = "postgres"
    connection_kind: ClassVar[str | None] = "postgres"
