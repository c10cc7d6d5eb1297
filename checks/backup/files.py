"""backup_files — the newest backup file of each job: recent enough, big enough, not suddenly smaller."""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import AliasChoices, BaseModel, ByteSize, ConfigDict, Field, field_validator

from checks.backup.common import Duration, age_levels, age_metric, format_age, shell_for
from checks.base import Check, CheckContext, Outcome, metric
from checks.params import CheckParams
from checks.status import Status
from checks.thresholds import Direction, Levels, Range
from checks.units import format_bytes


class FilesJob(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)

    name: str = Field(min_length=1, max_length=200, description="the job's name: the item of its result")
    directory: str = Field(min_length=1, description="directory holding the job's backup files")
    pattern: str = Field(default="*", min_length=1, description="glob the file names must match, e.g. 'db-*.sql.gz'")
    recursive: bool = Field(default=False, description="look in subdirectories too")
    warning: Duration | None = Field(default=None, description="warn when the newest file is older than this")
    critical: Duration = Field(
        default="26h",
        validation_alias=AliasChoices("critical", "max_age"),
        description="critical when the newest file is older than this (also written max_age); 26h suits a daily job",
    )
    min_size: ByteSize = Field(
        default=1, description="critical when the newest file is smaller than this (bytes, or e.g. '1MiB')"
    )
    shrink_percent: float | None = Field(
        default=20, gt=0, le=100,
        description="warn when the newest file is this many percent smaller than the one before it",
    )  # fmt: skip

    @field_validator("directory")
    @classmethod
    def _absolute(cls, value: str) -> str:
        if not value.startswith("/"):
            raise ValueError("must be an absolute path")
        return value.rstrip("/") or "/"


class BackupFilesParams(CheckParams):
    jobs: list[FilesJob] = Field(min_length=1, description="the backup jobs, each a directory and a file pattern")

    @field_validator("jobs")
    @classmethod
    def _unique(cls, jobs: list[FilesJob]) -> list[FilesJob]:
        return unique_names(jobs)


def unique_names(jobs: list) -> list:
    names = [job.name for job in jobs]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ValueError(f"job names must be unique (each is an item): {', '.join(twice)} given twice")
    return jobs


class BackupFilesCheck(Check):
    name = "backup_files"
    title = "Backup files: the newest file of each job is recent, not empty and not suddenly smaller"
    Params = BackupFilesParams
    connection_kind = "shell"
    metrics = {
        "age": "age of the newest matching file, from its modification time (s)",
        "size": "size of the newest matching file (bytes)",
        "size_change": "size of the newest file against the one before it (%; negative when smaller)",
        "files": "number of files matching the pattern",
    }
    example = (
        "- backup_files: {jobs: [{name: pg-dump, directory: /backup/pg, pattern: 'pg-*.sql.gz', max_age: 26h, "
        "min_size: 1MiB, shrink_percent: 30}]}"
    )

    def run(self, ctx: CheckContext, params: BackupFilesParams) -> Iterable[Outcome]:
        shell = shell_for(ctx)
        for job in params.jobs:
            where = f"{job.directory}/{job.pattern}"
            try:
                listing = shell.list_files(job.directory, job.pattern, job.recursive)
            except FileNotFoundError:
                yield Outcome(
                    item=job.name, summary=f"no backup found: {job.directory} does not exist", status=Status.CRITICAL
                )
                continue
            except OSError as exc:  # not readable by the patrol user: nothing is known
                reason = f"{exc.strerror}: {exc.filename}" if exc.strerror else str(exc)
                yield Outcome(
                    item=job.name,
                    summary=f"cannot list {job.directory}: {reason}",
                    status=Status.UNKNOWN,
                    collected=False,
                )
                continue
            files = sorted(listing.files, key=lambda f: (f.mtime, f.path), reverse=True)
            if not files:
                yield Outcome(
                    item=job.name,
                    summary=f"no backup found matching {where}",
                    status=Status.CRITICAL,
                    metrics=[metric("files", 0)],
                )
                continue
            yield self.evaluate(job, files, listing.now)

    @staticmethod
    def evaluate(job: FilesJob, files: list, now: float) -> Outcome:
        newest = files[0]
        age = now - newest.mtime
        figures = [age_metric(age), metric("size", newest.size, "B"), metric("files", len(files))]
        levels = {
            "age": age_levels(job.warning, job.critical),
            "size": Levels(critical=Range.parse(job.min_size, Direction.BELOW)) if job.min_size else Levels(),
        }
        name = newest.path.rsplit("/", 1)[-1]
        summary = f"newest {name}: {format_age(age)} old, {format_bytes(newest.size)}"
        if len(files) > 1 and files[1].size > 0:
            change = round(100.0 * (newest.size - files[1].size) / files[1].size, 2)
            figures.append(metric("size_change", change, "%"))
            if job.shrink_percent is not None:
                levels["size_change"] = Levels(warning=Range.parse(-job.shrink_percent, Direction.BELOW))
            summary += f" ({change:+.1f}% against {format_bytes(files[1].size)} before)"
        summary += f"; {len(files)} file(s)"
        return Outcome(item=job.name, summary=summary, metrics=figures, levels=levels)
