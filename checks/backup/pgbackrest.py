"""pgbackrest — per stanza: its status, the age of the last full, differential and incremental backups,
and the WAL archive range, from ``pgbackrest info --output=json``.

Written against pgBackRest's documented JSON (stable across releases, as its docs promise) and tested
with recorded output built from that format: no pgBackRest repository runs in the test suite.
Stanza status codes (pgBackRest's own): 0 ok, 1 missing stanza path, 2 no valid backups, 3 missing
stanza data, 4 different across repositories, 5 database mismatch across repositories, 6 requested
backup not found, 99 other. Any of them but 0 is CRITICAL: the stanza cannot be restored as it is.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from pydantic import AliasChoices, Field

from checks.backup.common import Duration, ToolFailed, age_levels, age_metric, failed, format_age, parse_json, run_tool
from checks.backup.shell import Completed
from checks.base import Check, CheckContext, Outcome, metric
from checks.errors import CheckUnavailable
from checks.params import CheckParams
from checks.status import Status
from checks.units import format_bytes

TYPES = ("full", "diff", "incr")


class PgbackrestParams(CheckParams):
    stanza: str | None = Field(default=None, description="the stanza to check (default: every stanza)")
    config: str | None = Field(default=None, description="pgbackrest.conf to use (default: pgBackRest's own)")
    warning: Duration | None = Field(default=None, description="warn when the last backup of any type is older")
    critical: Duration = Field(
        default="26h",
        validation_alias=AliasChoices("critical", "max_age"),
        description="critical when the last backup of any type is older than this (also written max_age)",
    )
    full_warning: Duration | None = Field(default=None, description="warn when the last full backup is older")
    full_critical: Duration | None = Field(
        default="8d", description="critical when the last full backup is older than this (weekly fulls: 8d)"
    )
    command: str = Field(default="pgbackrest", min_length=1, description="the pgbackrest program on the host")


class PgbackrestCheck(Check):
    name = "pgbackrest"
    title = "pgBackRest: stanza status, age of the last full/diff/incr backup, WAL archive range"
    Params = PgbackrestParams
    connection_kind = "shell"
    default_timeout = 120.0
    metrics = {
        "age": "age of the last backup of any type, from its stop time (s)",
        "full_age": "age of the last full backup (s)",
        "diff_age": "age of the last differential backup (s)",
        "incr_age": "age of the last incremental backup (s)",
        "size": "database size of the last backup (bytes)",
        "repo_size": "what the last backup added to the repository (bytes)",
        "duration": "how long the last backup took (s)",
        "backups": "backups of the stanza in the repository",
        "status_code": "the stanza's status code (0 ok)",
    }
    example = "- pgbackrest: {stanza: main, max_age: 26h, full_critical: 8d}"

    def run(self, ctx: CheckContext, params: PgbackrestParams) -> Iterable[Outcome]:
        argv = [params.command, "info", "--output=json"]
        if params.config:
            argv.append(f"--config={params.config}")
        if params.stanza:
            argv.append(f"--stanza={params.stanza}")
        try:
            stanzas = parse_json(_checked(run_tool(ctx, argv, {}, None)), "pgbackrest info")
        except (ToolFailed, TimeoutError, CheckUnavailable) as exc:
            yield failed(params.stanza or "pgbackrest", exc)
            return
        if not stanzas:
            yield Outcome(
                item=params.stanza or "pgbackrest",
                status=Status.CRITICAL,
                summary="pgbackrest info lists no stanza (is the configuration right?)",
            )
            return
        now = time.time()
        for stanza in stanzas:
            yield self.evaluate(stanza, params, now)

    @staticmethod
    def evaluate(stanza: dict, params: PgbackrestParams, now: float) -> Outcome:
        item = str(stanza.get("name", "?"))
        status = stanza.get("status") or {}
        code = int(status.get("code", 99))
        figures = [metric("status_code", code)]
        backups = [b for b in stanza.get("backup") or [] if (b.get("timestamp") or {}).get("stop")]
        figures.append(metric("backups", len(backups)))
        problems = []
        worst = Status.OK
        if code != 0:
            problems.append(f"status {code}: {status.get('message', 'unknown')}{_repo_problems(stanza)}")
            worst = Status.CRITICAL
        if not backups:
            summary = "; ".join(problems) or "no backup"
            return Outcome(item=item, summary=summary, metrics=figures, status=Status.CRITICAL)
        latest = max(backups, key=lambda b: b["timestamp"]["stop"])
        age = now - latest["timestamp"]["stop"]
        figures.append(age_metric(age))
        levels = {"age": age_levels(params.warning, params.critical)}
        parts = [f"last {latest.get('type', '?')} {latest.get('label', '?')} {format_age(age)} ago"]
        for kind in TYPES:
            of_kind = [b for b in backups if b.get("type") == kind]
            if of_kind:
                kind_age = now - max(b["timestamp"]["stop"] for b in of_kind)
                figures.append(metric(f"{kind}_age", round(max(0.0, kind_age), 3), "s"))
                if kind != latest.get("type"):
                    parts.append(f"{kind} {format_age(kind_age)} ago")
        if "full_age" in {m.name for m in figures}:
            levels["full_age"] = age_levels(params.full_warning, params.full_critical)
        elif params.full_critical is not None:
            problems.append("no full backup")
            worst = Status.CRITICAL
        info = latest.get("info") or {}
        if info.get("size") is not None:
            figures.append(metric("size", info["size"], "B"))
            parts.append(format_bytes(info["size"]))
        delta = (info.get("repository") or {}).get("delta")
        if delta is not None:
            figures.append(metric("repo_size", delta, "B"))
        took = latest["timestamp"]["stop"] - latest["timestamp"].get("start", latest["timestamp"]["stop"])
        figures.append(metric("duration", took, "s"))
        if latest.get("error"):  # pgBackRest 2.36+: the backup found page checksum errors
            problems.append(f"backup {latest.get('label')} reported errors")
            worst = Status.worst([worst, Status.WARNING])
        archive = _archive_range(stanza)
        if archive is None:
            problems.append("no WAL in the archive")
            worst = Status.worst([worst, Status.WARNING])
        else:
            parts.append(f"WAL {archive[0]}..{archive[1]}")
        summary = ", ".join(parts) + (f"; {'; '.join(problems)}" if problems else "")
        return Outcome(
            item=item, summary=summary, metrics=figures, levels=levels, status=worst if worst is not Status.OK else None
        )


def _archive_range(stanza: dict) -> tuple[str, str] | None:
    """min/max WAL of the current database's archive (the last database entry is the current one)."""
    dbs = stanza.get("db") or []
    current = dbs[-1].get("id") if dbs else None
    ranges = [a for a in stanza.get("archive") or [] if a.get("min") and a.get("max")]
    mine = [a for a in ranges if (a.get("database") or {}).get("id") == current] or ranges
    if not mine:
        return None
    return min(a["min"] for a in mine), max(a["max"] for a in mine)


def _repo_problems(stanza: dict) -> str:
    bad = [
        f"repo{r.get('key', '?')}: {(r.get('status') or {}).get('message', '?')}"
        for r in stanza.get("repo") or []
        if (r.get("status") or {}).get("code", 0) != 0
    ]
    return f" ({'; '.join(bad)})" if bad else ""


def _checked(done: Completed) -> Completed:
    if done.exit_status == 0:
        return done
    raise ToolFailed(f"pgbackrest info failed (exit {done.exit_status}): {done.error_text() or 'no message'}")
