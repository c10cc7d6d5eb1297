"""postgres_archiving — WAL archiving failures (pg_stat_archiver).

Archiving is failing when the last failure is newer than the last success (or nothing was ever
archived after a failure): CRITICAL, since WAL piles up in pg_wal and point-in-time recovery breaks.
Failures that were followed by a success are reported as a count, OK. ``archive_mode`` off is OK
unless ``required``.
"""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import Field

from checks.base import CheckContext, Outcome, metric
from checks.params import CheckParams
from checks.postgres import PostgresCheck
from checks.status import Status


class PostgresArchivingParams(CheckParams):
    required: bool = Field(default=False, description="CRITICAL when archive_mode is off")


class PostgresArchivingCheck(PostgresCheck):
    name = "postgres_archiving"
    title = "PostgreSQL WAL archiving: failing archive_command, failures and archived counts"
    Params = PostgresArchivingParams
    metrics = {
        "failed": "WAL files that failed to archive since statistics reset (counter)",
        "archived": "WAL files archived since statistics reset (counter)",
        "failing": "1 when the last archive attempt failed, else 0",
    }
    example = "- postgres_archiving: {required: true}"

    def collect(self, ctx: CheckContext, session, params: PostgresArchivingParams) -> Iterator[Outcome]:
        [a] = session.query("archiver")
        figures = [metric("failed", a["failed_count"]), metric("archived", a["archived_count"])]
        if a["archive_mode"] == "off":
            yield Outcome(
                summary="archive_mode is off" + (" but archiving is required" if params.required else ""),
                metrics=figures,
                status=Status.CRITICAL if params.required else Status.OK,
            )
            return
        failed_at, archived_at = a["last_failed_time"], a["last_archived_time"]
        failing = failed_at is not None and (archived_at is None or failed_at > archived_at)
        if failing:
            summary = (
                f"archiving is failing: {a['last_failed_wal']} failed at {failed_at:%Y-%m-%d %H:%M:%S %Z}; "
                f"{a['failed_count']} failure(s), last success "
                + (f"{a['last_archived_wal']} at {archived_at:%Y-%m-%d %H:%M:%S %Z}" if archived_at else "never")
            )
        else:
            summary = f"{a['archived_count']} WAL file(s) archived, {a['failed_count']} failure(s)"
            if archived_at:
                summary += f"; last {a['last_archived_wal']} at {archived_at:%Y-%m-%d %H:%M:%S %Z}"
        yield Outcome(
            summary=summary,
            metrics=[*figures, metric("failing", int(failing))],
            status=Status.CRITICAL if failing else Status.OK,
        )
