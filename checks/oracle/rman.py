"""oracle_rman — age of the last successful RMAN backup, and failed backup jobs.

From v$rman_backup_job_details: per input type (DB FULL, DB INCR, ARCHIVELOG, ...) the newest job that
COMPLETED (or COMPLETED WITH WARNINGS) and its age; jobs FAILED or COMPLETED WITH ERRORS within
``failed_window`` hours make the ``failed jobs`` item CRITICAL. Ages are computed by the server
(DATE columns carry no time zone).
"""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import Field, PositiveFloat

from checks.base import CheckContext, Outcome, metric
from checks.oracle import OracleCheck
from checks.params import CheckParams
from checks.status import Status
from checks.thresholds import Levels, UpperLimit
from checks.units import format_bytes

DATABASE_TYPES = ("DB FULL", "DB INCR", "DATAFILE FULL", "DATAFILE INCR", "RECVR AREA")


class OracleRmanParams(CheckParams):
    warning: UpperLimit = Field(
        default=93600, description="age (s) of the last successful database backup to warn at (26 h)"
    )
    critical: UpperLimit = Field(
        default=172800, description="age (s) of the last successful database backup, critical (48 h)"
    )
    archivelog_warning: UpperLimit | None = Field(
        default=None, description="age (s) of the last archivelog backup to warn at"
    )
    archivelog_critical: UpperLimit | None = Field(
        default=None, description="age (s) of the last archivelog backup, critical"
    )
    failed_window: PositiveFloat = Field(default=24, description="hours back in which failed jobs are reported")


class OracleRmanCheck(OracleCheck):
    name = "oracle_rman"
    title = "Oracle RMAN: age of the last successful backup per type, failed backup jobs"
    Params = OracleRmanParams
    metrics = {
        "age": "time since the last successful backup of that type ended (s)",
        "size": "output size of that backup (bytes)",
        "duration": "its duration (s)",
        "failed": "failed backup jobs within the window",
    }
    example = "- oracle_rman: {warning: 93600, critical: 172800, failed_window: 24}"

    def collect(self, ctx: CheckContext, session, params: OracleRmanParams) -> Iterator[Outcome]:
        last = {r["input_type"]: r for r in session.query("rman_last_success")}
        if not any(t in last for t in DATABASE_TYPES):
            yield Outcome(item="database", summary="no successful database backup on record", status=Status.CRITICAL)
        for kind, r in sorted(last.items()):
            database = kind in DATABASE_TYPES
            levels = (
                Levels(params.warning, params.critical)
                if database
                else Levels(params.archivelog_warning, params.archivelog_critical)
            )
            yield Outcome(
                item=kind,
                summary=f"last successful {kind} backup {r['age_seconds'] / 3600:.1f} h ago, "
                f"{format_bytes(r['output_bytes'] or 0)} in {r['elapsed_seconds'] or 0:.0f} s",
                metrics=[
                    metric("age", round(r["age_seconds"], 1), "s"),
                    metric("size", r["output_bytes"] or 0, "B"),
                    metric("duration", r["elapsed_seconds"] or 0, "s"),
                ],
                levels={"age": levels},
            )
        failed = session.query("rman_failed", {"hours": params.failed_window})
        latest = failed[0] if failed else None
        yield Outcome(
            item="failed jobs",
            summary=f"{len(failed)} failed backup job(s) in the last {params.failed_window:g} h"
            + (
                f"; latest: {latest['input_type']} {latest['status']} {latest['age_seconds'] / 3600:.1f} h ago "
                f"(session {latest['session_key']})"
                if latest
                else ""
            ),
            metrics=[metric("failed", len(failed))],
            status=Status.CRITICAL if failed else Status.OK,
        )
