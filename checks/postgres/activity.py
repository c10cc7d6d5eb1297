"""postgres_long_transactions and postgres_locks — transactions open too long, sessions blocked by others."""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import Field

from checks.base import CheckContext, Outcome, metric
from checks.params import CheckParams
from checks.postgres import PostgresCheck
from checks.thresholds import Levels, UpperLimit


class PostgresLongTransactionsParams(CheckParams):
    warning: UpperLimit = Field(default=1800, description="age of the oldest open transaction (s) at which to warn")
    critical: UpperLimit = Field(default=3600, description="age of the oldest open transaction (s), critical")


class PostgresLongTransactionsCheck(PostgresCheck):
    name = "postgres_long_transactions"
    title = "PostgreSQL transactions open too long (pg_stat_activity.xact_start)"
    Params = PostgresLongTransactionsParams
    metrics = {
        "oldest": "age of the oldest open transaction (s)",
        "long": "transactions open longer than the warning threshold",
        "open": "open transactions",
    }
    example = "- postgres_long_transactions: {warning: 1800, critical: 3600}"

    def collect(self, ctx: CheckContext, session, params: PostgresLongTransactionsParams) -> Iterator[Outcome]:
        rows = session.query("long_transactions")
        oldest = rows[0] if rows else None
        long = [r for r in rows if params.warning.alerts(r["xact_seconds"])]
        summary = f"{len(rows)} open transaction(s)"
        if oldest:
            summary += (
                f"; oldest {oldest['xact_seconds']:.0f} s: pid {oldest['pid']} {oldest['user']}@{oldest['database']} "
                f"({oldest['state']}) {oldest['query'] or ''}"
            )
        yield Outcome(
            summary=summary,
            metrics=[
                metric("oldest", round(oldest["xact_seconds"], 3) if oldest else 0.0, "s"),
                metric("long", len(long)),
                metric("open", len(rows)),
            ],
            levels={"oldest": Levels(params.warning, params.critical)},
        )


class PostgresLocksParams(CheckParams):
    warning: UpperLimit = Field(default=60, description="longest lock wait of a blocked session (s) to warn at")
    critical: UpperLimit = Field(default=120, description="longest lock wait (s) at which the state is critical")


class PostgresLocksCheck(PostgresCheck):
    name = "postgres_locks"
    title = "PostgreSQL sessions blocked by others (pg_blocking_pids) and their lock waits"
    Params = PostgresLocksParams
    metrics = {"blocked": "sessions waiting for a lock another session holds", "longest_wait": "longest wait (s)"}
    example = "- postgres_locks: {warning: 60, critical: 120}"

    def collect(self, ctx: CheckContext, session, params: PostgresLocksParams) -> Iterator[Outcome]:
        rows = session.query("blocked")
        longest = max(rows, key=lambda r: r["wait_seconds"]) if rows else None
        if longest:
            summary = (
                f"{len(rows)} blocked session(s); longest: pid {longest['pid']} {longest['user']}@"
                f"{longest['database']} waiting {longest['wait_seconds']:.0f} s on pid(s) {longest['blocked_by']}: "
                f"{longest['query'] or ''}"
            )
        else:
            summary = "no blocked sessions"
        yield Outcome(
            summary=summary,
            metrics=[
                metric("blocked", len(rows)),
                metric("longest_wait", round(longest["wait_seconds"], 3) if longest else 0.0, "s"),
            ],
            levels={"longest_wait": Levels(params.warning, params.critical)},
        )
