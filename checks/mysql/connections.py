"""mysql_connections — Threads_connected against max_connections."""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import Field

from checks.base import CheckContext, Outcome, metric
from checks.mysql import MysqlCheck, global_status
from checks.params import CheckParams
from checks.sql.check import percent
from checks.thresholds import Levels, UpperLimit


class MysqlConnectionsParams(CheckParams):
    warning: UpperLimit = Field(default=70, description="connections, % of max_connections, at which to warn")
    critical: UpperLimit = Field(default=90, description="connections % at which the state is critical")


class MysqlConnectionsCheck(MysqlCheck):
    name = "mysql_connections"
    title = "MySQL/MariaDB connections (Threads_connected) against max_connections"
    Params = MysqlConnectionsParams
    metrics = {
        "used": "connections, % of max_connections",
        "connections": "Threads_connected",
        "running": "Threads_running",
        "max_connections": "the server's max_connections",
        "max_used": "Max_used_connections since start",
    }
    example = "- mysql_connections: {warning: 70, critical: 90}"

    def collect(self, ctx: CheckContext, session, params: MysqlConnectionsParams) -> Iterator[Outcome]:
        status = global_status(session)
        [limit] = session.query("max_connections")
        connected, maximum = status["threads_connected"], limit["max_connections"]
        used = percent(connected, maximum)
        yield Outcome(
            summary=f"{connected} of {maximum} connections ({used:.1f}%), {status.get('threads_running', 0)} running, "
            f"at most {status.get('max_used_connections', 0)} since start ({session.server})",
            metrics=[
                metric("used", used, "%"),
                metric("connections", connected),
                metric("running", status.get("threads_running", 0)),
                metric("max_connections", maximum),
                metric("max_used", status.get("max_used_connections", 0)),
            ],
            levels={"used": Levels(params.warning, params.critical)},
        )
