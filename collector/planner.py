"""Turns a playbook and an inventory into assignments: which check runs on which target, how."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from checks.base import Check
from checks.errors import ConfigError
from checks.params import CheckParams
from checks.registry import Registry
from checks.target import Target

if TYPE_CHECKING:
    from collector.config.inventory import Inventory
    from collector.config.playbook import Playbook


@dataclass(frozen=True)
class Assignment:
    task: str
    target: Target
    check: Check
    params: CheckParams


def plan(playbook: Playbook, inventory: Inventory, registry: Registry, limit: str | None = None) -> list[Assignment]:
    """Every (target, check) pair of the playbook, in task order; ``limit`` narrows the hosts.

    A check listed for the same target by two tasks runs twice only if its parameters differ.
    """
    allowed = {t.name for t in inventory.select(limit)} if limit else None
    seen: set[tuple[str, str, str]] = set()
    assignments = []
    for task in playbook.tasks:
        for target in inventory.select(task.hosts):
            if allowed is not None and target.name not in allowed:
                continue
            for spec in task.checks:
                key = (target.name, spec.name, spec.params.model_dump_json())
                if key in seen:
                    continue
                seen.add(key)
                assignments.append(Assignment(task.name, target, registry.get(spec.name), spec.params))
    if not assignments:
        scope = f" with --limit {limit!r}" if limit else ""
        raise ConfigError.single(f"the playbook selects no host{scope}", file=str(playbook.path))
    return assignments
