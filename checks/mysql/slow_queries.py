"""mysql_slow_queries — slow queries and InnoDB deadlocks per second, from counter deltas.

Slow_queries (queries longer than long_query_time) and the deadlock counter (MariaDB's
Innodb_deadlocks status variable; MySQL 8's lock_deadlocks InnoDB metric) only mean something as rates:
checks/rates.py keeps the previous sample between runs. A one-shot run takes its two samples
``interval`` seconds apart. A server restart (Uptime went down) resets the counters: no rate that time.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from pydantic import Field, PositiveFloat

from checks.base import CheckContext, Outcome, metric
from checks.mysql import MysqlCheck, global_status
from checks.params import CheckParams
from checks.status import Status
from checks.thresholds import Levels, UpperLimit


class MysqlSlowQueriesParams(CheckParams):
    warning: UpperLimit = Field(default=0.1, description="slow queries per second at which to warn")
    critical: UpperLimit = Field(default=1, description="slow queries per second at which the state is critical")
    deadlocks_warning: UpperLimit | None = Field(default=0, description="deadlocks per second to warn at (0: any)")
    deadlocks_critical: UpperLimit | None = Field(default=None, description="deadlocks per second, critical")
    interval: PositiveFloat = Field(
        default=10.0, le=120, description="seconds between the two samples of a one-shot run (no previous sample)"
    )


class MysqlSlowQueriesCheck(MysqlCheck):
    name = "mysql_slow_queries"
    title = "MySQL/MariaDB slow queries and InnoDB deadlocks per second"
    Params = MysqlSlowQueriesParams
    metrics = {
        "slow_queries": "slow queries per second (Slow_queries delta)",
        "deadlocks": "InnoDB deadlocks per second",
        "slow_queries_total": "Slow_queries since the server started (counter)",
        "deadlocks_total": "InnoDB deadlocks since the server started (counter)",
    }
    example = "- mysql_slow_queries: {warning: 0.1, critical: 1, deadlocks_warning: 0}"

    def collect(self, ctx: CheckContext, session, params: MysqlSlowQueriesParams) -> Iterator[Outcome]:
        key = ("mysql_slow_queries", ctx.target.name)
        if ctx.rates.previous(key) is None:
            self.sample(ctx, session, key)
            time.sleep(max(0.0, min(params.interval, ctx.remaining() - session.settings.statement_timeout - 1)))
        totals, rates = self.sample(ctx, session, key)
        figures = [metric("slow_queries_total", totals["slow"]), metric("deadlocks_total", totals["deadlocks"])]
        if not rates or rates.get("slow") is None or rates.get("deadlocks") is None:
            yield Outcome(
                summary=f"{totals['slow']} slow queries and {totals['deadlocks']} deadlocks since start; "
                "no rates this time (server restarted)",
                metrics=figures,
                status=Status.OK,
            )
            return
        slow, deadlocks = round(rates["slow"], 4), round(rates["deadlocks"], 4)
        yield Outcome(
            summary=f"{slow:g} slow queries/s, {deadlocks:g} deadlocks/s ({totals['slow']} and {totals['deadlocks']} "
            "since start)",
            metrics=[metric("slow_queries", slow, "/s"), metric("deadlocks", deadlocks, "/s"), *figures],
            levels={
                "slow_queries": Levels(params.warning, params.critical),
                "deadlocks": Levels(params.deadlocks_warning, params.deadlocks_critical),
            },
        )

    @staticmethod
    def sample(ctx: CheckContext, session, key) -> tuple[dict[str, int], dict | None]:
        status = global_status(session)
        [row] = session.query("deadlocks") or [{"deadlocks": 0}]
        totals = {"slow": status["slow_queries"], "deadlocks": int(row["deadlocks"] or 0)}
        uptime_key = key + ("uptime",)
        previous = ctx.rates.previous(uptime_key)
        restarted = previous is not None and status.get("uptime", 0) < previous.values.get("uptime", 0)
        ctx.rates.update(uptime_key, {"uptime": status.get("uptime", 0)})
        return totals, ctx.rates.update(key, totals, restarted=restarted)
