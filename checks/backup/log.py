"""backup_log — the last run in a backup job's log: succeeded, recently, and without a failure.

Only the tail of the log is read (``tail_bytes``): job logs that are never rotated grow for years.
The last run is the part after the last line matching ``start``; it must hold a line matching
``success`` and none matching ``failure``. Its time is taken from the ``timestamp`` pattern when one is
given (the success line's own timestamp, else the last one before it), otherwise from the log's
modification time.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AliasChoices, BaseModel, ByteSize, ConfigDict, Field, field_validator

from checks.backup.common import Duration, age_levels, age_metric, format_age, shell_for
from checks.backup.files import unique_names
from checks.base import Check, CheckContext, Outcome
from checks.params import CheckParams
from checks.status import Status


def _regex(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(f"not a valid regular expression: {exc}") from None
    return value


class LogJob(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)

    name: str = Field(min_length=1, max_length=200, description="the job's name: the item of its result")
    path: str = Field(min_length=1, description="the job's log file (absolute path)")
    success: str = Field(description="regular expression of the line a successful run ends with")
    failure: str | None = Field(default=None, description="regular expression of a line that means the run failed")
    start: str | None = Field(
        default=None, description="regular expression of the line each run starts with (default: the tail is one run)"
    )
    timestamp: str | None = Field(
        default=None,
        description="regular expression finding a line's time (group 'ts' or 1, else the match); default: the "
        "log's modification time",
    )
    time_format: str | None = Field(
        default=None, description="strptime format of the timestamp (default: ISO 8601, e.g. 2026-11-23 08:00:01)"
    )
    timezone: str = Field(default="UTC", description="time zone of timestamps written without an offset")
    warning: Duration | None = Field(default=None, description="warn when the last success is older than this")
    critical: Duration = Field(
        default="26h",
        validation_alias=AliasChoices("critical", "max_age"),
        description="critical when the last success is older than this (also written max_age)",
    )
    tail_bytes: ByteSize = Field(default="1MiB", gt=0, description="how much of the end of the log to read")

    @field_validator("path")
    @classmethod
    def _absolute(cls, value: str) -> str:
        if not value.startswith("/"):
            raise ValueError("must be an absolute path")
        return value

    @field_validator("success", "failure", "start", "timestamp")
    @classmethod
    def _patterns(cls, value: str | None) -> str | None:
        return _regex(value)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (expected an IANA name such as 'Asia/Shanghai')") from None
        return value


class BackupLogParams(CheckParams):
    jobs: list[LogJob] = Field(min_length=1, description="the job logs to read")

    @field_validator("jobs")
    @classmethod
    def _unique(cls, jobs: list[LogJob]) -> list[LogJob]:
        return unique_names(jobs)


class RunNotFound(Exception):
    pass


class BackupLogCheck(Check):
    name = "backup_log"
    title = "Backup job logs: the last run succeeded, recently, with no failure marker"
    Params = BackupLogParams
    connection_kind = "shell"
    metrics = {"age": "age of the last run's success, from its timestamp or the log's modification time (s)"}
    example = (
        "- backup_log: {jobs: [{name: nightly, path: /var/log/backup.log, start: '^=== backup started', "
        "success: 'backup completed', failure: 'ERROR|FATAL', max_age: 26h}]}"
    )

    def run(self, ctx: CheckContext, params: BackupLogParams) -> Iterable[Outcome]:
        shell = shell_for(ctx)
        for job in params.jobs:
            try:
                info, data, now = shell.read_tail(job.path, int(job.tail_bytes))
            except FileNotFoundError:
                yield Outcome(
                    item=job.name, summary=f"no backup log: {job.path} does not exist", status=Status.CRITICAL
                )
                continue
            except OSError as exc:
                reason = f"{exc.strerror}: {exc.filename}" if exc.strerror else str(exc)
                yield Outcome(
                    item=job.name, summary=f"cannot read {job.path}: {reason}", status=Status.UNKNOWN, collected=False
                )
                continue
            yield self.evaluate(job, data.decode("utf-8", "replace"), info.size > len(data), info.mtime, now)

    @staticmethod
    def evaluate(job: LogJob, text: str, truncated: bool, mtime: float, now: float) -> Outcome:
        lines = text.splitlines()
        if truncated and lines:
            lines = lines[1:]  # the first line of a tail is usually cut in the middle
        scope = f"the last {len(text)} bytes" if truncated else "the log"
        begin = 0
        if job.start:
            starts = [i for i, line in enumerate(lines) if re.search(job.start, line)]
            if not starts:
                if truncated:
                    return Outcome(
                        item=job.name,
                        status=Status.UNKNOWN,
                        collected=False,
                        summary=f"no run start found in {scope} (raise tail_bytes?)",
                    )
                return Outcome(item=job.name, status=Status.CRITICAL, summary="no run found in the log")
            begin = starts[-1]
        run = lines[begin:]
        failed = next((line for line in run if job.failure and re.search(job.failure, line)), None)
        success_at = next((i for i in range(len(run) - 1, -1, -1) if re.search(job.success, run[i])), None)
        if failed is not None:
            return Outcome(item=job.name, status=Status.CRITICAL, summary=f"last run failed: {failed.strip()[:300]}")
        if success_at is None:
            return Outcome(
                item=job.name,
                status=Status.CRITICAL,
                summary=f"last run shows no success marker (run of {len(run)} line(s))",
            )
        when, source = mtime, "log modified"
        if job.timestamp:
            try:
                when = _run_time(job, run[: success_at + 1])
            except ValueError as exc:
                return Outcome(item=job.name, status=Status.UNKNOWN, collected=False, summary=str(exc))
            source = "succeeded"
        age = now - when
        line = run[success_at].strip()[:200]
        return Outcome(
            item=job.name,
            summary=f"last run {source} {format_age(age)} ago: {line}",
            metrics=[age_metric(age)],
            levels={"age": age_levels(job.warning, job.critical)},
        )


def _run_time(job: LogJob, lines: list[str]) -> float:
    """Epoch seconds of the success line's timestamp, else of the last timestamp before it."""
    pattern = re.compile(job.timestamp or "")
    for line in reversed(lines):
        found = pattern.search(line)
        if found:
            return _parse_time(job, _stamp(found))
    raise ValueError(f"the timestamp pattern matched no line of the last run ({job.timestamp!r})")


def _stamp(found: re.Match) -> str:
    if "ts" in found.re.groupindex:
        return found.group("ts")
    return found.group(1) if found.re.groups else found.group(0)


def _parse_time(job: LogJob, text: str) -> float:
    try:
        when = dt.datetime.strptime(text, job.time_format) if job.time_format else dt.datetime.fromisoformat(text)
    except ValueError:
        expected = job.time_format or "ISO 8601"
        raise ValueError(f"timestamp {text!r} does not match time_format ({expected})") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=ZoneInfo(job.timezone))
    return when.timestamp()
