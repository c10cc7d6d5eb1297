"""The agent's plan (``patrol.plan/1``, docs/api.md): what to run, with which parameters, when.

The last plan received is kept in the spool directory (``plan.json``, written atomically) with its
ETag, so an agent that starts while the collector is down runs its last known plan, and a refresh
sends ``If-None-Match`` and gets ``304`` when nothing changed.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent.spool import write_atomic
from checks.schedule import Schedule, parse_schedule

log = logging.getLogger("patrol.agent.plan")

PLAN_SCHEMA = "patrol.plan/1"


class PlanError(ValueError):
    """A plan this agent cannot use at all (wrong schema, wrong agent, not a plan)."""


@dataclass(frozen=True)
class PlanEntry:
    id: str
    check: str
    params: dict[str, Any]
    schedule: Schedule
    playbook: str | None = None
    task: str | None = None

    @property
    def key(self) -> str:
        """Everything that defines the job: a change means the job is replaced."""
        return json.dumps([self.id, self.check, self.params, self.schedule.text, self.playbook, self.task],
                          sort_keys=True, default=str)


@dataclass(frozen=True)
class Plan:
    agent: str
    interval_seconds: float | None
    entries: tuple[PlanEntry, ...]
    timezone: str | None = None  # an IANA zone for cron schedules, if the collector names one


def parse_plan(data: Any, agent: str) -> tuple[Plan, list[str]]:
    """A plan and the problems of entries that had to be left out (each says why).

    An entry naming a check this agent does not know is kept: it runs as an UNKNOWN result that says
    so, which the collector sees. An entry that cannot be scheduled at all (no id, bad schedule) is
    left out and reported here.
    """
    if not isinstance(data, dict):
        raise PlanError(f"expected a JSON object, got {type(data).__name__}")
    if data.get("schema") != PLAN_SCHEMA:
        raise PlanError(f"unsupported plan schema {data.get('schema')!r} (this agent reads {PLAN_SCHEMA}); "
                        "upgrade the agent")
    if data.get("agent") not in (None, agent):
        raise PlanError(f"the plan is for agent {data.get('agent')!r}, not {agent!r}")
    checks = data.get("checks")
    if not isinstance(checks, list):
        raise PlanError("'checks' is not a list")
    interval = data.get("interval_seconds")
    timezone = data.get("timezone") if isinstance(data.get("timezone"), str) else None
    entries: list[PlanEntry] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    for index, raw in enumerate(checks):
        where = f"checks[{index}]"
        if not isinstance(raw, dict):
            problems.append(f"{where}: not an object")
            continue
        entry_id, check, schedule = raw.get("id"), raw.get("check"), raw.get("schedule")
        if not isinstance(entry_id, str) or not entry_id or not isinstance(check, str) or not check:
            problems.append(f"{where}: 'id' and 'check' must be non-empty strings")
            continue
        try:
            parsed = parse_schedule(schedule)
        except (ValueError, ImportError) as exc:
            problems.append(f"{where} ({check}, id {entry_id}): schedule {schedule!r}: {exc}")
            continue
        params = raw.get("params") or {}
        if not isinstance(params, dict):
            problems.append(f"{where} ({check}, id {entry_id}): 'params' is not an object")
            continue
        if entry_id in seen:  # ids are meant to be unique; never let one job replace another
            seen[entry_id] += 1
            entry_id = f"{entry_id}#{seen[entry_id]}"
        else:
            seen[entry_id] = 0
        playbook, task = raw.get("playbook"), raw.get("task")
        entries.append(PlanEntry(entry_id, check, params, parsed,
                                 playbook if isinstance(playbook, str) else None,
                                 task if isinstance(task, str) else None))
    return Plan(agent, interval if isinstance(interval, (int, float)) else None, tuple(entries), timezone), problems


class PlanCache:
    """``plan.json`` in the spool directory: ``{"etag": ..., "plan": {...}}``."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def load(self) -> tuple[str | None, dict] | None:
        try:
            data = json.loads(self.path.read_bytes())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            log.warning("the cached plan %s is unreadable (%s); waiting for the collector's", self.path, exc)
            return None
        if not isinstance(data, dict) or not isinstance(data.get("plan"), dict):
            log.warning("the cached plan %s is not a plan; waiting for the collector's", self.path)
            return None
        etag = data.get("etag")
        return (etag if isinstance(etag, str) else None), data["plan"]

    def save(self, etag: str | None, plan: dict) -> None:
        write_atomic(self.path, json.dumps({"etag": etag, "plan": plan}, sort_keys=True).encode("utf-8") + b"\n")
