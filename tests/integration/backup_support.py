"""Helpers of the backup check tests: the tools installed, and one check run as ``patrol run`` runs it."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from checks.registry import default_registry
from checks.result import Result
from checks.target import Target
from collector.planner import Assignment
from collector.runner import Runner

ROOT = Path(__file__).resolve().parents[2]


def require(program: str) -> str:
    """The path of ``program``, installed by scripts/test-deps when missing (never a silent skip)."""
    found = shutil.which(program)
    if found is None:
        done = subprocess.run([str(ROOT / "scripts" / "test-deps")], capture_output=True, text=True)
        found = shutil.which(program)
        if found is None:
            pytest.fail(
                f"{program} is missing and scripts/test-deps could not install it: {done.stderr.strip()}", pytrace=False
            )
    return found


def run_check(name: str, params: dict, target_vars: dict | None = None, target: str = "backup-host") -> list[Result]:
    """Results of one check on a target (``connection: local`` unless ``target_vars`` say otherwise)."""
    check = default_registry().get(name)
    host = Target(target, {"connection": "local", **(target_vars or {})})
    return Runner(max_workers=2).run([Assignment("backups", host, check, check.validate(params))])


def by_item(results: list[Result]) -> dict[str, Result]:
    return {r.item: r for r in results}
