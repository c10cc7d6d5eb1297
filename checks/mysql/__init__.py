"""MySQL and MariaDB checks (PyMySQL), over the shared SQL layer in checks/sql/."""

from typing import ClassVar

from checks.sql.check import SqlCheck


class MysqlCheck(SqlCheck):
    engine: ClassVar[str] = "mysql"
    connection_kind: ClassVar[str | None] = "mysql"


def global_status(session) -> dict[str, int]:
    """SHOW GLOBAL STATUS figures we use, as integers."""
    return {r["name"].lower(): int(r["value"]) for r in session.query("status") if str(r["value"]).isdigit()}
