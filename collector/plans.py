"""Agent plans: the share of every scheduled playbook that an agent host runs itself."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

from checks.schedule import Schedule
from collector.config.site import Site

PLAN_SCHEMA = "patrol.plan/1"


def schedule_interval(schedule: Schedule, now: dt.datetime | None = None) -> float:
    """Seconds between two firings: the @every interval, or the gap between a cron's next two firings."""
    if schedule.every_seconds is not None:
        return schedule.every_seconds
    trigger = schedule.trigger(dt.UTC)
    first = trigger.get_next_fire_time(None, now or dt.datetime.now(dt.UTC))
    second = trigger.get_next_fire_time(first, first + dt.timedelta(seconds=1))
    return (second - first).total_seconds()


def agent_plan(site: Site, agent: str, timezone: str = "UTC") -> dict | None:
    """The plan of ``agent``, or None when the inventory has no such agent host.

    ``timezone`` is the zone cron schedules are read in, the collector's; the agent uses the same one.
    """
    target = site.inventory.hosts.get(agent)
    if target is None or not target.has_agent:
        return None
    checks = []
    intervals = []
    for playbook in sorted(site.playbooks.values(), key=lambda p: p.name):
        if playbook.schedule is None:
            continue  # run on demand only (patrol run): nothing for an agent to schedule
        for task in playbook.tasks:
            if agent not in {t.name for t in site.inventory.select(task.hosts)}:
                continue
            intervals.append(schedule_interval(playbook.schedule))
            for spec in task.checks:
                params = spec.params.model_dump(mode="json")
                entry = {
                    "playbook": playbook.name,
                    "task": task.name,
                    "check": spec.name,
                    "params": params,
                    "schedule": playbook.schedule.text,
                }
                entry = {"id": _digest(entry)[:16], **entry}
                checks.append(entry)
    return {
        "schema": PLAN_SCHEMA,
        "agent": agent,
        "timezone": timezone,
        "interval_seconds": min(intervals) if intervals else None,
        "checks": checks,
    }


def plan_etag(plan: dict) -> str:
    return f'"{_digest(plan)[:32]}"'


def _digest(value: object) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
