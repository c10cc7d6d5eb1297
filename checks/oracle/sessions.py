"""oracle_sessions and oracle_blocking — sessions/processes against their limits, blocked sessions."""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import Field

from checks.base import CheckContext, Outcome, metric
from checks.oracle import OracleCheck
from checks.params import CheckParams
from checks.sql.check import percent
from checks.status import Status
from checks.thresholds import Levels, UpperLimit


class OracleSessionsParams(CheckParams):
    warning: UpperLimit = Field(default=80, description="sessions or processes, % of their limit, to warn at")
    # DOMAIN.md: 80 / 100 %. A figure can't exceed 100, so "critical at the limit" is written as > 99.
    critical: UpperLimit = Field(default=99, description="% of the limit at which the state is critical")


class OracleSessionsCheck(OracleCheck):
    name = "oracle_sessions"
    title = "Oracle sessions and processes against their limits (v$resource_limit)"
    Params = OracleSessionsParams
    metrics = {
        "used": "current utilisation, % of the limit",
        "current": "current utilisation",
        "limit": "the limit (absent when UNLIMITED)",
        "max_used": "highest utilisation since startup",
    }
    example = "- oracle_sessions: {warning: 80, critical: 99}"

    def collect(self, ctx: CheckContext, session, params: OracleSessionsParams) -> Iterator[Outcome]:
        for r in session.query("resource_limit"):
            figures = [metric("current", r["current"]), metric("max_used", r["max_used"])]
            limit = (r["limit_value"] or "").strip()
            if not limit.isdigit() or int(limit) == 0:
                yield Outcome(
                    item=r["resource"], summary=f"{r['current']} in use, limit {limit or 'unknown'}", metrics=figures
                )
                continue
            used = percent(r["current"], int(limit))
            yield Outcome(
                item=r["resource"],
                summary=f"{r['current']} of {limit} ({used:.1f}%), at most {r['max_used']} since startup",
                metrics=[metric("used", used, "%"), *figures, metric("limit", int(limit))],
                levels={"used": Levels(params.warning, params.critical)},
            )


class OracleBlockingParams(CheckParams):
    warning: UpperLimit = Field(default=60, description="longest wait of a blocked session (s) to warn at")
    critical: UpperLimit = Field(default=120, description="longest wait (s) at which the state is critical")


class OracleBlockingCheck(OracleCheck):
    name = "oracle_blocking"
    title = "Oracle sessions blocked by another session, and how long they have waited"
    Params = OracleBlockingParams
    metrics = {"blocked": "sessions waiting on a blocker", "longest_wait": "longest such wait (s)"}
    example = "- oracle_blocking: {warning: 60, critical: 120}"

    def collect(self, ctx: CheckContext, session, params: OracleBlockingParams) -> Iterator[Outcome]:
        rows = session.query("blocked_sessions")
        if not rows:
            yield Outcome(
                summary="no blocked sessions",
                metrics=[metric("blocked", 0), metric("longest_wait", 0.0, "s")],
                status=Status.OK,
            )
            return
        top = max(rows, key=lambda r: r["wait_seconds"] or 0)
        yield Outcome(
            summary=f"{len(rows)} blocked session(s); longest: sid {top['sid']},{top['serial']} ({top['username']}) "
            f"waiting {top['wait_seconds']:.0f} s on '{top['event']}', blocked by sid {top['blocking_session']}"
            + (f", sql_id {top['sql_id']}" if top["sql_id"] else ""),
            metrics=[metric("blocked", len(rows)), metric("longest_wait", round(top["wait_seconds"] or 0, 3), "s")],
            levels={"longest_wait": Levels(params.warning, params.critical)},
        )
