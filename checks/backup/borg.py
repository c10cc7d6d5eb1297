"""borg — the latest archive of each host in a Borg repository is recent enough, with size and duration.

``borg list --json`` (with ``--format`` keys, which borg adds to its JSON) gives every archive's time
and the host that made it; the newest of each host is then read with ``borg info --json`` for its
size and how long it took. The passphrase is a secret reference in the inventory, handed to borg in
``BORG_PASSPHRASE``; the repository goes in ``BORG_REPO``: neither is on a command line. Borg 1.x
writes archive times without an offset, in the local time of the host running borg: ``timezone``
names that zone when it is not the poller's own.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from pydantic import AliasChoices, Field, field_validator

from checks.backup.common import (
    Duration,
    ToolFailed,
    age_levels,
    age_metric,
    check_zone,
    failed,
    format_age,
    parse_json,
    parse_time,
    password_env,
    run_tool,
    time_zone,
)
from checks.backup.shell import Completed
from checks.base import Check, CheckContext, Outcome, metric
from checks.errors import CheckUnavailable
from checks.params import CheckParams
from checks.status import Status
from checks.units import format_bytes

# Borg asks before using a repository it has not seen, or seen elsewhere; a patrol must fail, not wait.
NO_PROMPTS = {
    "BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK": "no",
    "BORG_RELOCATED_REPO_ACCESS_IS_OK": "no",
    "BORG_DISPLAY_PASSPHRASE": "no",
}


class BorgParams(CheckParams):
    repository: str = Field(min_length=1, description="the repository, as BORG_REPO takes it (/srv/borg, ssh://...)")
    password: str | None = Field(
        default="borg_password",
        description="the inventory variable holding the passphrase as a secret reference ({env: NAME} or "
        "{file: PATH}); unset: borg's own environment decides (an unencrypted repository needs none)",
    )
    name: str | None = Field(default=None, max_length=100, description="prefix of the items (default: repository)")
    glob_archives: str | None = Field(default=None, description="only archives whose name matches, e.g. 'web01-*'")
    hosts: list[str] = Field(default_factory=list, description="only archives made on these hosts")
    warning: Duration | None = Field(default=None, description="warn when the latest archive is older than this")
    critical: Duration = Field(
        default="26h",
        validation_alias=AliasChoices("critical", "max_age"),
        description="critical when the latest archive is older than this (also written max_age)",
    )
    info: bool = Field(default=True, description="read size and duration with 'borg info' (one run per host)")
    timezone: str | None = Field(
        default=None, description="time zone of the host running borg (default: the poller's local time)"
    )
    command: str = Field(default="borg", min_length=1, description="the borg program on the host")

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        return check_zone(value)


class BorgCheck(Check):
    name = "borg"
    title = "Borg: the latest archive per host is recent enough, with its size and duration"
    Params = BorgParams
    connection_kind = "shell"
    default_timeout = 120.0
    metrics = {
        "age": "age of the latest archive, from its end time (s)",
        "size": "original size of the latest archive (bytes)",
        "deduplicated_size": "what the latest archive added to the repository (bytes)",
        "duration": "how long the latest backup took (s)",
        "archives": "archives of the host in the repository (matching glob_archives)",
    }
    example = "- borg: {repository: /srv/borg/db01, password: borg_password, glob_archives: 'db01-*', max_age: 26h}"

    def run(self, ctx: CheckContext, params: BorgParams) -> Iterable[Outcome]:
        label = params.name or params.repository
        env = {**NO_PROMPTS, "BORG_REPO": params.repository, **password_env(ctx, params.password, "BORG_PASSPHRASE")}
        argv = [params.command, "list", "--json", "--format", "{hostname}{end}"]
        if params.glob_archives:
            argv += ["--glob-archives", params.glob_archives]
        try:
            archives = parse_json(_checked(run_tool(ctx, argv, env, None)), "borg list").get("archives", [])
        except (ToolFailed, TimeoutError, CheckUnavailable) as exc:
            yield failed(label, exc)
            return
        if params.hosts:
            archives = [a for a in archives if a.get("hostname") in params.hosts]
        if not archives:
            where = f" matching {params.glob_archives}" if params.glob_archives else ""
            yield Outcome(
                item=label, summary=f"no archive found{where}", status=Status.CRITICAL, metrics=[metric("archives", 0)]
            )
            return
        zone = time_zone(params.timezone)
        by_host: dict[str, list[dict]] = {}
        for archive in archives:
            by_host.setdefault(archive.get("hostname") or "?", []).append(archive)
        now = time.time()
        for host in sorted(by_host):
            mine = sorted(by_host[host], key=lambda a: parse_time(a.get("end") or a["time"], zone))
            yield self.evaluate(ctx, params, env, f"{label} {host}", mine, zone, now)

    def evaluate(
        self, ctx: CheckContext, params: BorgParams, env: dict, item: str, archives: list[dict], zone, now: float
    ) -> Outcome:
        latest = archives[-1]
        age = now - parse_time(latest.get("end") or latest["time"], zone)
        figures = [age_metric(age), metric("archives", len(archives))]
        summary = f"latest archive {latest['name']} {format_age(age)} old"
        if params.info:
            try:
                done = _checked(run_tool(ctx, [params.command, "info", "--json", f"::{latest['name']}"], env, None))
                detail = (parse_json(done, "borg info").get("archives") or [{}])[0]
            except ToolFailed as exc:
                detail = {}
                summary += f" (size unknown: {exc})"
            stats = detail.get("stats") or {}
            if "original_size" in stats:
                figures.append(metric("size", stats["original_size"], "B"))
                summary += f", {format_bytes(stats['original_size'])}"
            if "deduplicated_size" in stats:
                figures.append(metric("deduplicated_size", stats["deduplicated_size"], "B"))
            if detail.get("duration") is not None:
                figures.append(metric("duration", round(detail["duration"], 3), "s"))
                summary += f", took {format_age(detail['duration'])}"
        summary += f"; {len(archives)} archive(s)"
        return Outcome(
            item=item, summary=summary, metrics=figures, levels={"age": age_levels(params.warning, params.critical)}
        )


def _checked(done: Completed) -> Completed:
    """``done`` if borg succeeded, else ToolFailed saying what its error means."""
    if done.exit_status == 0:
        return done
    error = done.error_text()
    lowered = error.lower()
    if "passphrase" in lowered and "incorrect" in lowered:
        raise ToolFailed(f"wrong repository passphrase (borg: {error})")
    if "can not acquire a passphrase" in lowered or "borg_passphrase is not set" in lowered:
        raise ToolFailed(f"no repository passphrase: set the inventory variable named by 'password' ({error})")
    if "does not exist" in lowered or "is not a valid repository" in lowered:
        raise ToolFailed(f"repository not found: {error}", critical=True)
    if "lock" in lowered and ("failed to create" in lowered or "timeout" in lowered):
        raise ToolFailed(f"repository locked (a backup running?): {error}")
    raise ToolFailed(f"borg failed (exit {done.exit_status}): {error or 'no message'}")
