"""postgres_connections — client connections against max_connections."""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import Field

from checks.base import CheckContext, Outcome, metric
from checks.params import CheckParams
from checks.postgres import PostgresCheck
from checks.sql.check import percent
from checks.thresholds import Levels, UpperLimit


class PostgresConnectionsParams(CheckParams):
    warning: UpperLimit = Field(default=90, description="connections used, % of max_connections, at which to warn")
    critical: UpperLimit = Field(default=95, description="connections used % at which the state is critical")


class PostgresConnectionsCheck(PostgresCheck):
    name = "postgres_connections"
    title = "PostgreSQL client connections against max_connections"
    Params = PostgresConnectionsParams
    metrics = {
        "used": "client connections, % of max_connections",
        "connections": "client backend connections",
        "max_connections": "the server's max_connections",
    }
    example = "- postgres_connections: {warning: 90, critical: 95}"

    def collect(self, ctx: CheckContext, session, params: PostgresConnectionsParams) -> Iterator[Outcome]:
        [row] = session.query("connections")
        used = percent(row["used"], row["max_connections"])
        yield Outcome(
            summary=f"{row['used']} of {row['max_connections']} connections ({used:.1f}%, "
            f"{row['reserved']} reserved for superusers)",
            metrics=[
                metric("used", used, "%"),
                metric("connections", row["used"]),
                metric("max_connections", row["max_connections"]),
            ],
            levels={"used": Levels(params.warning, params.critical)},
        )
