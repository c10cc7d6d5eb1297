"""mysql_replication — replica threads running and lag (SHOW REPLICA STATUS / SHOW SLAVE STATUS).

MySQL 8.0.22+ answers SHOW REPLICA STATUS with Replica_*/Source_* columns; MariaDB and older MySQL
SHOW SLAVE STATUS with Slave_*/Master_* ones (the query data picks). A server that is not a replica
is OK unless ``replica: true`` says it must be one.
"""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import Field

from checks.base import CheckContext, Outcome, metric
from checks.mysql import MysqlCheck
from checks.params import CheckParams
from checks.status import Status
from checks.thresholds import Levels, UpperLimit


class MysqlReplicationParams(CheckParams):
    warning: UpperLimit = Field(default=1800, description="Seconds_Behind_Source at which to warn")
    critical: UpperLimit = Field(default=3600, description="Seconds_Behind_Source at which critical")
    replica: bool = Field(default=False, description="the server must be a replica (CRITICAL when it is not)")


class MysqlReplicationCheck(MysqlCheck):
    name = "mysql_replication"
    title = "MySQL/MariaDB replication: IO and SQL threads running, lag behind the source"
    Params = MysqlReplicationParams
    metrics = {"lag": "Seconds_Behind_Source (s)", "running": "1 when both replica threads run, else 0"}
    example = "- mysql_replication: {replica: true, warning: 1800, critical: 3600}"

    def collect(self, ctx: CheckContext, session, params: MysqlReplicationParams) -> Iterator[Outcome]:
        rows = session.query("replica_status")
        if not rows:
            yield Outcome(
                summary="not a replica" + (", but it should be" if params.replica else ""),
                status=Status.CRITICAL if params.replica else Status.OK,
            )
            return
        for r in rows:
            running = r["io_running"] == "Yes" and r["sql_running"] == "Yes"
            errors = "; ".join(e for e in (r["last_io_error"], r["last_sql_error"]) if e)
            figures = [metric("running", int(running))]
            if r["seconds_behind"] is not None:
                figures.append(metric("lag", r["seconds_behind"], "s"))
            yield Outcome(
                item=f"source {r['source']}",
                summary=f"IO thread {r['io_running']}, SQL thread {r['sql_running']}, "
                + (f"{r['seconds_behind']} s behind" if r["seconds_behind"] is not None else "lag unknown")
                + (f"; {errors}" if errors else ""),
                metrics=figures,
                levels={"lag": Levels(params.warning, params.critical)},
                status=None if running else Status.CRITICAL,
            )
