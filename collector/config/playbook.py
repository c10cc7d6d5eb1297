"""Patrol playbooks: which checks run on which hosts, when, and what report comes out.

    name: daily-patrol
    description: Morning health patrol of the Linux hosts
    schedule: "0 8 * * *"            # or "@every 1m"; optional
    report: {formats: [html, json, md], language: en}
    tasks:
      - name: Host health
        hosts: linux                 # an inventory host pattern
        timeout: 30                  # default per-check timeout, seconds; optional
        checks:
          - cpu: {warning: 80, critical: 90}
          - uptime                   # a bare name: default parameters

Every problem in the file is reported at once, each with its line: the document's structure,
each check's name and parameters (validated by the check's own schema), the schedule, the
knowledge directories and, given an inventory, each task's host pattern.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path as FilePath
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PositiveFloat,
    StringConstraints,
    ValidationError,
    field_validator,
)

from checks.errors import CheckUnavailable, ConfigError, Problem
from checks.params import CheckParams, problems_from_validation
from checks.registry import Registry, UnknownCheck
from checks.schedule import Schedule, parse_schedule
from collector.config.inventory import Inventory
from collector.config.yamlfile import LineMap, load_yaml, locate

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Format = Literal["html", "json", "md", "xlsx", "pdf"]


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ReportOptions(_Strict):
    formats: tuple[Format, ...] = ("html", "json", "md")  # [] asks for no report files
    title: Text | None = None
    organisation: Text | None = None
    inspector: Text | None = None
    reviewer: Text | None = None
    language: Literal["en", "zh"] = "en"
    # Extra knowledge-base directories; written relative to the playbook, loaded as absolute paths.
    knowledge: tuple[FilePath, ...] = ()

    @field_validator("formats")
    @classmethod
    def _once_each(cls, formats: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(dict.fromkeys(formats))


class _TaskModel(_Strict):
    name: Text
    hosts: Text
    timeout: PositiveFloat | None = None
    checks: list[Any] = Field(min_length=1)  # entries are validated against the registry, one by one


class _PlaybookModel(_Strict):
    name: Text
    description: str = ""
    schedule: str | None = None
    report: ReportOptions | None = None  # "report:" left empty means the defaults too
    tasks: list[_TaskModel] = Field(min_length=1)


@dataclass(frozen=True)
class CheckSpec:
    name: str
    params: CheckParams  # validated by the check's own Params model
    line: int  # where the check is written, for messages about it later


@dataclass(frozen=True)
class Task:
    name: str
    hosts: str  # an inventory host pattern
    checks: list[CheckSpec]


@dataclass(frozen=True)
class Playbook:
    path: FilePath
    name: str
    description: str
    schedule: Schedule | None
    report: ReportOptions
    tasks: list[Task]


def load_playbook(path: str | FilePath, registry: Registry, inventory: Inventory | None = None) -> Playbook:
    """Read and validate a playbook; raise ConfigError listing every problem, in file order."""
    data, lines = load_yaml(path)
    if not isinstance(data, dict):
        problem = Problem((), "expected a playbook: a mapping with 'name', 'tasks' and optionally "
                              "'description', 'schedule' and 'report'")
        raise ConfigError(locate([problem], path, lines))
    problems: list[Problem] = []
    model = _validate(data, problems)
    schedule = _schedule(data.get("schedule"), problems)
    raw_tasks = data.get("tasks") if isinstance(data.get("tasks"), list) else []
    checks = [_task_checks(i, raw, registry, lines, problems) for i, raw in enumerate(raw_tasks)]
    if inventory is not None:
        for i, raw in enumerate(raw_tasks):
            _resolve_hosts(i, raw, inventory, problems)
    knowledge = knowledge_directories(FilePath(path), data.get("report"), problems)
    if problems or model is None:
        located = locate(problems, path, lines)
        raise ConfigError(sorted(located, key=lambda p: p.line or 0))
    return Playbook(
        path=FilePath(path),
        name=model.name,
        description=model.description,
        schedule=schedule,
        report=(model.report or ReportOptions()).model_copy(update={"knowledge": knowledge}),
        tasks=[Task(task.name, task.hosts, specs) for task, specs in zip(model.tasks, checks, strict=True)],
    )


def _validate(data: dict, problems: list[Problem]) -> _PlaybookModel | None:
    try:
        return _PlaybookModel.model_validate(data)
    except ValidationError as exc:
        for problem in problems_from_validation(exc, _PlaybookModel):
            # The helper speaks of check parameters; here the unknown thing is a playbook key.
            message = problem.message.replace("unknown parameter", "unknown key", 1)
            problems.append(Problem(problem.path, message))
        return None


def _schedule(text: Any, problems: list[Problem]) -> Schedule | None:
    if not isinstance(text, str):
        return None  # absent, or a wrong type the model already reported
    try:
        return parse_schedule(text)
    except ValueError as exc:
        problems.append(Problem(("schedule",), str(exc)))
        return None


def _task_checks(
    i: int, task: Any, registry: Registry, lines: LineMap, problems: list[Problem]
) -> list[CheckSpec]:
    if not isinstance(task, dict) or not isinstance(task.get("checks"), list):
        return []  # the model reported it
    timeout = task.get("timeout")
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
        timeout = None  # absent, or invalid and reported by the model
    specs = []
    for j, entry in enumerate(task["checks"]):
        where = ("tasks", i, "checks", j)
        name, params = _entry(entry, where, problems)
        if name is None:
            continue
        try:
            check = registry.get(name)
            validated = check.validate(params, path=where + (name,))
        except (UnknownCheck, CheckUnavailable) as exc:
            problems.append(Problem(where, str(exc)))
            continue
        except ConfigError as exc:
            problems.extend(exc.problems)
            continue
        if timeout is not None and validated.timeout is None:
            validated = validated.model_copy(update={"timeout": float(timeout)})
        specs.append(CheckSpec(name, validated, lines.line(where) or 0))
    return specs


def _entry(entry: Any, where: tuple, problems: list[Problem]) -> tuple[str | None, Any]:
    """A check entry is a bare name or a one-key mapping ``name: parameters``."""
    if isinstance(entry, str) and entry.strip():
        return entry.strip(), None
    if isinstance(entry, dict) and len(entry) == 1:
        name, params = next(iter(entry.items()))
        if isinstance(name, str) and name.strip():
            return name.strip(), params
    if isinstance(entry, dict) and len(entry) > 1:
        keys = ", ".join(repr(key) for key in entry)
        message = ("a check entry has one key, the check's name, with its parameters indented under it "
                   f"(e.g. '- cpu: {{warning: 80}}'); this one has {keys}")
        problems.append(Problem(where, message))
    else:
        problems.append(Problem(where, f"expected a check name or 'name: {{parameters}}', got {entry!r}"))
    return None, None


def _resolve_hosts(i: int, task: Any, inventory: Inventory, problems: list[Problem]) -> None:
    pattern = task.get("hosts") if isinstance(task, dict) else None
    if not isinstance(pattern, str) or not pattern.strip():
        return  # the model reported it
    try:
        inventory.select(pattern)
    except ConfigError as exc:
        problems.extend(Problem(("tasks", i, "hosts"), p.message) for p in exc.problems)


def knowledge_directories(path: FilePath, report: Any, problems: list[Problem],
                          relative_to: str = "the playbook") -> tuple[FilePath, ...]:
    """The ``knowledge`` directories of a ``report:`` mapping, resolved against the file at ``path``."""
    entries = report.get("knowledge") if isinstance(report, dict) else None
    if not isinstance(entries, list):
        return ()
    found = []
    for k, entry in enumerate(entries):
        if not isinstance(entry, str) or not entry.strip():
            continue  # the model reported it
        directory = (path.parent / FilePath(entry).expanduser()).resolve()
        if not directory.is_dir():
            message = f"knowledge directory {str(directory)!r} does not exist (relative to {relative_to})"
            problems.append(Problem(("report", "knowledge", k), message))
        found.append(directory)
    return tuple(found)
