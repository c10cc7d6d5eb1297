"""A one-shot patrol: plan, check, store, report. The scheduled service runs the same steps."""

from __future__ import annotations

import datetime as dt
import getpass
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from checks.errors import ConfigError, Problem
from checks.registry import Registry
from checks.result import Result
from checks.secrets import SecretError
from checks.status import Status
from checks.target import Target
from collector.config.inventory import Inventory
from collector.config.playbook import Playbook
from collector.config.variables import REPORT_CATEGORIES
from collector.planner import Assignment, plan
from collector.report.gcpause import gc_paused
from collector.report.history import store_sections
from collector.report.knowledge import KnowledgeBase
from collector.report.model import TargetInfo, build_report
from collector.report.render import render
from collector.runner import OnDone, Runner
from collector.store.store import Store

EVENTS_PERIOD = dt.timedelta(hours=24)  # a patrol report shows its targets' events of the day before it


@dataclass
class PatrolOutcome:
    run_id: int
    status: Status
    results: list[Result]
    reports: dict[str, Path]
    duration_seconds: float


def category_of(target: Target) -> str:
    """The report section a target belongs to: ``patrol_category`` from the inventory, else hosts."""
    category = target.vars.get("patrol_category")
    return category if category in REPORT_CATEGORIES else "hosts"


def targets_of(names: Iterable[str], inventory: Inventory | None) -> list[Target]:
    """The inventory's hosts of these names; a name no longer in the inventory as a bare target."""
    hosts = inventory.hosts if inventory is not None else {}
    return [hosts.get(name) or Target(name) for name in dict.fromkeys(names)]


def target_infos(targets: Iterable[Target]) -> list[TargetInfo]:
    """What a report shows of each target: address, report category, groups."""
    return [
        TargetInfo(name=t.name, address=t.address, category=category_of(t), groups=list(t.groups)) for t in targets
    ]


def prepare(playbook: Playbook, inventory: Inventory, registry: Registry, limit: str | None = None) -> list[Assignment]:
    """Plan the patrol and resolve its secrets: every configuration error surfaces here, before anything runs."""
    assignments = plan(playbook, inventory, registry, limit)
    check_secrets(assignments, inventory)
    return assignments


def check_secrets(assignments: list[Assignment], inventory: Inventory) -> None:
    """Resolve every secret the selected targets reference, before anything runs; report all failures."""
    problems = []
    for target in {a.target.name: a.target for a in assignments}.values():
        for key in target.secret_keys():
            try:
                target.secret(key)
            except SecretError as exc:
                problems.append(Problem(("hosts", target.name, key), f"missing secret: {exc}", str(inventory.path)))
    if problems:
        raise ConfigError(problems)


def run_patrol(
    playbook: Playbook,
    assignments: list[Assignment],
    store: Store,
    report_dir: Path,
    limit: str | None = None,
    runner: Runner | None = None,
    on_plan: Callable[[list[Assignment]], None] | None = None,
    on_done: OnDone | None = None,
    after_store: Callable[[], object] | None = None,
) -> PatrolOutcome:
    """Run prepared assignments now, store every result, and write the run's report. ``after_store``
    runs between the two (``patrol run`` evaluates events there, so the report shows them)."""
    if on_plan:
        on_plan(assignments)
    started = time.monotonic()
    inspector = playbook.report.inspector or getpass.getuser()
    run_id = store.start_run(
        playbook=playbook.name,
        playbook_path=str(playbook.path),
        description=playbook.description,
        source="run",
        limit=limit,
        inspector=inspector,
    )
    results = (runner or Runner()).run(assignments, on_done)
    store.add_results(run_id, results)
    if after_store is not None:
        after_store()
    targets = list({a.target.name: a.target for a in assignments}.values())
    stored, status, reports = complete_run(store, run_id, playbook, targets, len(assignments), report_dir)
    return PatrolOutcome(run_id, status, stored, reports, time.monotonic() - started)


def complete_run(
    store: Store, run_id: int, playbook: Playbook | None, targets: list[Target], check_count: int, report_dir: Path
) -> tuple[list[Result], Status, dict[str, Path]]:
    """Close a run whose results are all stored: its verdict, then its report (none without a playbook,
    e.g. one removed from the configuration while its run was open). Returns the stored results."""
    results = store.run_results(run_id)
    status = Status.worst(r.status for r in results)
    store.finish_run(
        run_id,
        finished_at=dt.datetime.now(dt.UTC),
        status=status,
        target_count=len(targets),
        check_count=check_count,
    )
    reports = write_report(store, run_id, playbook, targets, report_dir, results) if playbook else {}
    return results, status, reports


def write_report(
    store: Store, run_id: int, playbook: Playbook | None, targets: list[Target], report_dir: Path,
    results: list[Result], options: Any = None,
) -> dict[str, Path]:
    """Build and write run ``run_id``'s report; ``options`` (default: the playbook's report settings)
    may change formats, language and the rest (``patrol report run``)."""
    options = options or playbook.report  # type: ignore[union-attr] - one of the two is given
    model = build_run_report(store, run_id, targets, results, options)
    return render_run_report(model, store.get_run(run_id), options, report_dir)


@gc_paused()
def build_run_report(store: Store, run_id: int, targets: list[Target], results: list[Result], options: Any):
    """The Report of run ``run_id``: its results against the previous run of the same playbook."""
    run = store.get_run(run_id)
    previous_run = store.previous_run(run.playbook, run_id)
    previous = store.run_results(previous_run.id) if previous_run else None
    knowledge = KnowledgeBase.load(list(options.knowledge))
    infos = target_infos(targets)
    end = run.finished_at or dt.datetime.now(dt.UTC)
    history = store_sections(store, end - EVENTS_PERIOD, end, {t.name for t in infos})
    return build_report(run, results, previous, infos, knowledge, options, **history)


def render_run_report(model, run, options: Any, report_dir: Path) -> dict[str, Path]:
    stamp = (run.started_at or dt.datetime.now(dt.UTC)).strftime("%Y%m%d-%H%M%S")
    return render(model, list(options.formats), report_dir, f"{run.playbook}-{run.id}-{stamp}")
