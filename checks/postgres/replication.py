"""postgres_replication — on a primary, each streaming replica's state and lag; on a standby, its own.

A primary with no replicas is OK unless ``min_replicas`` says some are expected. On a standby, when
all received WAL is replayed the age of the last replayed transaction is idle time, not lag, so lag
counts as 0 then.
"""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import ByteSize, Field, NonNegativeInt

from checks.base import CheckContext, Outcome, metric
from checks.params import CheckParams
from checks.postgres import PostgresCheck
from checks.status import Status
from checks.thresholds import Levels, Range, UpperLimit
from checks.units import format_bytes


class PostgresReplicationParams(CheckParams):
    warning: UpperLimit = Field(default=1800, description="replication lag (s) at which to warn")
    critical: UpperLimit = Field(default=3600, description="replication lag (s) at which the state is critical")
    lag_bytes_warning: ByteSize | None = Field(default=None, description="WAL not yet replayed, in bytes, to warn at")
    lag_bytes_critical: ByteSize | None = Field(default=None, description="WAL not yet replayed, bytes, critical")
    min_replicas: NonNegativeInt = Field(default=0, description="on a primary: streaming replicas expected")


class PostgresReplicationCheck(PostgresCheck):
    name = "postgres_replication"
    title = "PostgreSQL streaming replication: replicas' state and lag (primary), receiver and replay lag (standby)"
    Params = PostgresReplicationParams
    metrics = {
        "lag": "replay lag (s)",
        "lag_bytes": "WAL sent or received but not yet replayed (bytes)",
        "replicas": "streaming replicas connected (primary)",
        "streaming": "1 when the replica or WAL receiver is streaming, else 0",
    }
    example = "- postgres_replication: {min_replicas: 1, warning: 300, critical: 1800}"

    def collect(self, ctx: CheckContext, session, params: PostgresReplicationParams) -> Iterator[Outcome]:
        levels = {
            "lag": Levels(params.warning, params.critical),
            "lag_bytes": Levels(_above(params.lag_bytes_warning), _above(params.lag_bytes_critical)),
        }
        [recovery] = session.query("in_recovery")
        if recovery["in_recovery"]:
            [s] = session.query("standby")
            streaming = s["receiver_status"] == "streaming"
            lag = 0.0 if s["caught_up"] else round(s["replay_age_seconds"], 3)
            yield Outcome(
                item="standby",
                summary=f"standby, WAL receiver {s['receiver_status'] or 'not running'}"
                f"{' from ' + s['sender'] if s['sender'] else ''}; replay lag {lag:.0f} s, "
                f"{format_bytes(s['gap_bytes'])} received but not replayed",
                metrics=[
                    metric("lag", lag, "s"),
                    metric("lag_bytes", s["gap_bytes"], "B"),
                    metric("streaming", int(streaming)),
                ],
                levels=levels,
                status=None if streaming else Status.CRITICAL,
            )
            return
        replicas = session.query("replicas")
        too_few = len(replicas) < params.min_replicas
        yield Outcome(
            item="primary",
            summary=f"primary with {len(replicas)} replica(s)"
            + (f", {params.min_replicas} expected" if too_few else "")
            + ("" if replicas or too_few else " (not a replica, and none connected)"),
            metrics=[metric("replicas", len(replicas))],
            status=Status.CRITICAL if too_few else None,
        )
        for r in replicas:
            streaming = r["state"] == "streaming"
            yield Outcome(
                item=f"replica {r['name']} ({r['client']})",
                summary=f"{r['state']} ({r['sync_state']}), replay lag {r['replay_lag_seconds']:.1f} s, "
                f"{format_bytes(r['lag_bytes'])} behind",
                metrics=[
                    metric("lag", round(r["replay_lag_seconds"], 3), "s"),
                    metric("lag_bytes", r["lag_bytes"], "B"),
                    metric("streaming", int(streaming)),
                ],
                levels=levels,
                status=None if streaming else Status.WARNING,  # catchup/startup: on its way, not yet in sync
            )


def _above(size: int | None) -> Range | None:
    return None if size is None else Range.parse(int(size))
