"""restic — the latest snapshot of each host and set of paths in a restic repository is recent enough.

``restic snapshots --json --latest 1`` gives the newest snapshot of every host and path set; its size
comes from the snapshot's own summary where restic records one (0.17 and later, with the backup's
duration), else from ``restic stats --json <id>`` (the restore size). The repository password is a
secret reference in the inventory, handed to restic in ``RESTIC_PASSWORD``, never on its command line;
the repository location goes in ``RESTIC_REPOSITORY`` too, as it may hold credentials (rest:, s3:).
``--no-lock``: a patrol only reads, and must neither wait for nor disturb a running backup.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from pydantic import AliasChoices, Field

from checks.backup.common import (
    Duration,
    ToolFailed,
    age_levels,
    age_metric,
    failed,
    format_age,
    parse_json,
    parse_time,
    password_env,
    run_tool,
)
from checks.backup.shell import Completed
from checks.base import Check, CheckContext, Outcome, metric
from checks.errors import CheckUnavailable
from checks.params import CheckParams
from checks.status import Status
from checks.units import format_bytes


class ResticParams(CheckParams):
    repository: str = Field(min_length=1, description="the repository, as restic -r takes it (/srv/restic, sftp:...)")
    password: str | None = Field(
        default="restic_password",
        description="the inventory variable holding the repository password as a secret reference "
        "({env: NAME} or {file: PATH}); unset: restic's own environment decides",
    )
    name: str | None = Field(default=None, max_length=100, description="prefix of the items (default: repository)")
    hosts: list[str] = Field(default_factory=list, description="only snapshots of these hosts (restic --host)")
    paths: list[str] = Field(default_factory=list, description="only snapshots of these paths (restic --path)")
    tags: list[str] = Field(default_factory=list, description="only snapshots with these tags (restic --tag)")
    warning: Duration | None = Field(default=None, description="warn when the latest snapshot is older than this")
    critical: Duration = Field(
        default="26h",
        validation_alias=AliasChoices("critical", "max_age"),
        description="critical when the latest snapshot is older than this (also written max_age)",
    )
    stats: bool = Field(
        default=True, description="read the size with 'restic stats' where the snapshot has no summary (one run each)"
    )
    command: str = Field(default="restic", min_length=1, description="the restic program on the host")


class ResticCheck(Check):
    name = "restic"
    title = "restic: the latest snapshot per host and paths is recent enough, with its size"
    Params = ResticParams
    connection_kind = "shell"
    default_timeout = 120.0
    metrics = {
        "age": "age of the latest snapshot (s)",
        "size": "restore size of the latest snapshot (bytes; from its summary, else restic stats)",
        "duration": "how long the latest backup took (s; restic 0.17 and later record it)",
        "snapshots": "snapshots in the repository matching the filters (latest per host and paths)",
    }
    example = "- restic: {repository: /srv/restic/web01, password: restic_password, max_age: 26h}"

    def run(self, ctx: CheckContext, params: ResticParams) -> Iterable[Outcome]:
        label = params.name or params.repository
        env = {"RESTIC_REPOSITORY": params.repository, **password_env(ctx, params.password, "RESTIC_PASSWORD")}
        argv = [params.command, "snapshots", "--json", "--no-lock", "--latest", "1"]
        for flag, values in (("--host", params.hosts), ("--path", params.paths), ("--tag", params.tags)):
            for value in values:
                argv += [flag, value]
        try:
            snapshots = parse_json(_checked(run_tool(ctx, argv, env, None)), "restic snapshots")
        except (ToolFailed, TimeoutError, CheckUnavailable) as exc:
            yield failed(label, exc)
            return
        if not snapshots:
            yield Outcome(
                item=label,
                summary="no snapshot found" + _filters(params),
                status=Status.CRITICAL,
                metrics=[metric("snapshots", 0)],
            )
            return
        now = time.time()
        for snap in sorted(snapshots, key=lambda s: (s.get("hostname", ""), s.get("paths", []))):
            yield self.evaluate(ctx, params, env, label, snap, now)

    def evaluate(
        self, ctx: CheckContext, params: ResticParams, env: dict, label: str, snap: dict, now: float
    ) -> Outcome:
        host = snap.get("hostname", "?")
        item = f"{label} {host}:{','.join(snap.get('paths') or [])}"
        age = now - parse_time(snap["time"])
        figures = [age_metric(age)]
        summary = f"latest snapshot {snap.get('short_id', snap.get('id', '?')[:8])} {format_age(age)} old"
        size = None
        extra = snap.get("summary") or {}
        if extra.get("total_bytes_processed") is not None:
            size = extra["total_bytes_processed"]
            if extra.get("backup_start") and extra.get("backup_end"):
                took = parse_time(extra["backup_end"]) - parse_time(extra["backup_start"])
                figures.append(metric("duration", round(took, 3), "s"))
                summary += f", took {format_age(took)}"
        elif params.stats:
            argv = [params.command, "stats", "--json", "--no-lock", snap["id"]]
            try:
                size = parse_json(_checked(run_tool(ctx, argv, env, None)), "restic stats").get("total_size")
            except ToolFailed as exc:
                summary += f" (size unknown: {exc})"
        if size is not None:
            figures.append(metric("size", size, "B"))
            summary += f", {format_bytes(size)}"
        return Outcome(
            item=item, summary=summary, metrics=figures, levels={"age": age_levels(params.warning, params.critical)}
        )


def _checked(done: Completed) -> Completed:
    """``done`` if restic succeeded, else ToolFailed saying what its error means."""
    if done.exit_status == 0:
        return done
    error = done.error_text()
    lowered = error.lower()
    if "wrong password" in lowered or "no key found" in lowered:
        raise ToolFailed(f"wrong repository password (restic: {error})")
    if "empty password" in lowered or "password" in lowered and "resolving" in lowered:
        raise ToolFailed(f"no repository password: set the inventory variable named by 'password' ({error})")
    if (
        done.exit_status == 10
        or "is there a repository at the following location" in lowered
        or "repository does not exist" in lowered
    ):
        raise ToolFailed(f"repository not found: {error}", critical=True)
    raise ToolFailed(f"restic failed (exit {done.exit_status}): {error or 'no message'}")


def _filters(params: ResticParams) -> str:
    parts = [
        f"{name} {', '.join(values)}"
        for name, values in (("hosts", params.hosts), ("paths", params.paths), ("tags", params.tags))
        if values
    ]
    return f" ({'; '.join(parts)})" if parts else ""
