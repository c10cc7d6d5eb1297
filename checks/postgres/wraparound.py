"""postgres_wraparound — transaction-ID age (age(datfrozenxid)) per database.

At about 2^31 (2.1 billion) the server stops accepting writes to avoid wraparound; autovacuum should
freeze long before. Defaults 1.3 / 1.4 billion (DOMAIN.md).
"""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import Field

from checks.base import CheckContext, Outcome, metric
from checks.params import CheckParams
from checks.postgres import PostgresCheck
from checks.thresholds import Levels, UpperLimit

WRAPAROUND_LIMIT = 2**31


class PostgresWraparoundParams(CheckParams):
    warning: UpperLimit = Field(default=1_300_000_000, description="age(datfrozenxid) at which to warn")
    critical: UpperLimit = Field(default=1_400_000_000, description="age(datfrozenxid) at which critical")


class PostgresWraparoundCheck(PostgresCheck):
    name = "postgres_wraparound"
    title = "PostgreSQL transaction-ID wraparound age, per database"
    Params = PostgresWraparoundParams
    metrics = {
        "xid_age": "age(datfrozenxid): transactions since the database was last fully frozen",
        "xid_used": "that age as % of the 2^31 wraparound limit",
    }
    example = "- postgres_wraparound: {warning: 1300000000, critical: 1400000000}"

    def collect(self, ctx: CheckContext, session, params: PostgresWraparoundParams) -> Iterator[Outcome]:
        for row in session.query("wraparound"):
            used = round(100.0 * row["xid_age"] / WRAPAROUND_LIMIT, 3)
            yield Outcome(
                item=row["name"],
                summary=f"xid age {row['xid_age']:,} ({used:.2f}% of the wraparound limit)",
                metrics=[metric("xid_age", row["xid_age"]), metric("xid_used", used, "%")],
                levels={"xid_age": Levels(params.warning, params.critical)},
            )
