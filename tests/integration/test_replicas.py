"""Two real `patrol serve` replicas on one real PostgreSQL: schedules fired once, the poller's targets
shared and taken over from a replica killed with SIGKILL, pushes and notifications exactly once.

Timings (take-over, recovery) are measured and printed, never asserted: this machine is shared."""

from __future__ import annotations

import json
import signal
import time
from collections import Counter
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa

from .collector_support import Collector, batch, result
from .notify_support import HANG, Receiver
from .pg import empty_database

pytestmark = pytest.mark.integration

EVERY = 12  # seconds between firings
TARGETS = 40
SLOW_PLUGIN = """\
#!/bin/sh
sleep 3
echo "OK - checked slowly"
"""


def sql(url: str, query: str, **params) -> list:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text(query), params).all()
    finally:
        engine.dispose()


def replica(root: Path, url: str, inventory: str, playbooks: dict[str, str], **settings) -> Collector:
    c = Collector(root, database=url, settings={
        "scheduler_lease_seconds": 3, "poll_lease_seconds": 5, "notice_claim_seconds": 5, "grace_seconds": 2,
        "report_dir": str(root / "reports"), **settings})
    root.mkdir(parents=True, exist_ok=True)
    c.write_files(playbooks)
    (root / "inventory.yaml").write_text(inventory)
    return c


def holder_of(c: Collector) -> str:
    """The replica's name in leases: host:pid:random."""
    return f":{c.process.pid}:"


def wait(what, timeout: float, step: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = what()
        if value:
            return value
        time.sleep(step)
    return None


def test_replicas_fire_each_firing_once_share_the_targets_and_take_over_from_a_killed_one(tmp_path, postgres_url):
    url = empty_database(postgres_url)
    plugin = tmp_path / "slow_check.sh"
    plugin.write_text(SLOW_PLUGIN)
    plugin.chmod(0o755)
    hosts = "\n".join(f"        h{i:02d}: {{connection: local}}" for i in range(TARGETS))
    inventory = f"all:\n  children:\n    local:\n      hosts:\n{hosts}\n"
    playbook = (f'name: fleet\nschedule: "@every {EVERY}s"\ntasks:\n  - name: slow\n    hosts: local\n'
                f"    checks:\n      - nagios: {{plugin: {plugin}, item: slow}}\n")
    a = replica(tmp_path / "a", url, inventory, {"fleet": playbook})
    b = replica(tmp_path / "b", url, inventory, {"fleet": playbook})
    a.start()
    b.start()
    try:
        def closed_runs():
            return sql(url, "SELECT id, started_at FROM patrol_runs WHERE finished_at IS NOT NULL ORDER BY id")

        # 1. A run fired by the leader; its 40 slow targets (3 s each, 16 at a time per replica) shared.
        first = wait(closed_runs, 3 * EVERY + 30)
        assert first, a.log() + b.log()
        run_id = first[0][0]
        holders = Counter(h.split(":")[1] for (h,) in sql(url, "SELECT holder FROM poll_tasks WHERE run_id = :r",
                                                            r=run_id))
        assert set(holders) == {str(a.process.pid), str(b.process.pid)}, holders  # both replicas polled
        [(leader,)] = sql(url, "SELECT holder FROM leases WHERE name = 'scheduler'")
        first_leader, survivor = (a, b) if holder_of(a) in leader else (b, a)

        # 2. The leader is killed while it holds tasks of the next run.
        def leader_busy():
            return sql(url, "SELECT run_id FROM poll_tasks WHERE state = 'running' AND holder LIKE :h",
                       h=f"%{holder_of(first_leader)}%")

        busy = wait(leader_busy, 2 * EVERY + 10, step=0.05)
        assert busy, first_leader.log()
        killed_run = busy[0][0]
        first_leader.kill(signal.SIGKILL)
        killed_at = time.monotonic()

        def taken_over():
            [(holder,)] = sql(url, "SELECT holder FROM leases WHERE name = 'scheduler'")
            return holder_of(survivor) in holder

        assert wait(taken_over, 30), survivor.log()
        takeover = time.monotonic() - killed_at
        assert wait(lambda: sql(url, "SELECT 1 FROM patrol_runs WHERE id = :r AND finished_at IS NOT NULL",
                                r=killed_run), 60), survivor.log()
        recovered = time.monotonic() - killed_at
        retaken = sql(url, "SELECT count(*) FROM poll_tasks WHERE run_id = :r AND attempts > 1", r=killed_run)[0][0]

        # 3. The survivor fires the next firing; no firing has two runs; each run has each target once.
        next_run = wait(lambda: [r for r in closed_runs() if r[0] > killed_run], 2 * EVERY + 30)
        assert next_run, survivor.log()
        runs = sql(url, "SELECT started_at, count(*) FROM patrol_runs GROUP BY started_at")
        assert all(n == 1 for _, n in runs), runs
        for rid, _ in closed_runs():
            per_target = Counter(t for (t,) in sql(url, "SELECT target FROM results WHERE run_id = :r", r=rid))
            assert len(per_target) == TARGETS and set(per_target.values()) == {1}, (rid, per_target)
        statuses = {s for (s,) in sql(url, "SELECT status FROM results WHERE run_id = :r", r=killed_run)}
        assert statuses == {"OK"}  # the killed replica's targets were checked for real by the survivor
        print(f"\nreplicas: run {run_id} polled by {dict(holders)}; leader killed during run {killed_run} "
              f"({retaken} of its targets taken again); scheduler taken over after {takeover:.1f} s "
              f"(lease 3 s); run closed {recovered:.1f} s after the kill (poll lease 5 s)")
    finally:
        a.kill(signal.SIGTERM)
        b.kill(signal.SIGTERM)


NOTIFY_INVENTORY = """\
all:
  children:
    agents:
      hosts:
        web01: {patrol_agent: true}
        web02: {patrol_agent: true}
"""


def critical(target: str, item: str) -> dict:
    return result(target, "disk", item=item, value=99.0, status="CRITICAL", summary="99% used")


def test_pushes_events_and_notices_are_exactly_once_across_replicas_and_a_killed_ones_notices_are_sent(
        tmp_path, postgres_url):
    url = empty_database(postgres_url)
    answers = {"hang_next": False}

    def respond(request):
        if answers["hang_next"]:
            answers["hang_next"] = False
            return 200, HANG
        return 200, {"ok": True}

    with Receiver(respond) as hook, Receiver() as duty:
        notifications = {
            "channels": [{"name": "ops", "type": "webhook", "url": hook.url + "/ops", "timeout": "60s",
                          "retries": {"attempts": 1}},
                         {"name": "duty", "type": "webhook", "url": duty.url + "/duty"}],
            "routes": [{"channels": ["ops"], "match": {"change": ["opened", "resolved"]}}],
            "escalation": [{"after": "3s", "channels": ["duty"]}],
            "grouping": {"wait": 0, "window": 0},
        }
        events = {"open_after": 1, "tick_interval": "500ms"}
        a = replica(tmp_path / "a", url, NOTIFY_INVENTORY, {}, notifications=notifications, events=events)
        b = replica(tmp_path / "b", url, NOTIFY_INVENTORY, {}, notifications=notifications, events=events)
        a.start()
        b.start()
        try:
            for c in (a, b):
                c.tokens[("agent", "web01")] = a.tokens.get(("agent", "web01")) or a.create_token("agent", "web01")

            # A batch retried against the other replica is stored once.
            body = batch("web01", [critical("web01", f"/d{i}") for i in range(10)], batch_id="web01-retried")
            first, again = a.push(body), b.push(body)
            assert first.status_code == 200 and again.status_code == 200
            assert (first.json()["stored"], again.json().get("duplicate")) == (10, True), again.json()
            assert sql(url, "SELECT count(*) FROM results WHERE batch_id = 'web01-retried'")[0][0] == 10

            # Ten events, evaluated by whichever replica's engine got there: each opened and escalated once.
            assert wait(lambda: sum(len(r.json()["notices"]) for r in hook.requests) >= 10, 30), a.log() + b.log()
            assert wait(lambda: sum(len(r.json()["notices"]) for r in duty.requests) >= 10, 30), a.log() + b.log()
            time.sleep(2)  # time for a second (wrong) delivery or escalation to show up
            opened = Counter(n["event_id"] for r in hook.requests for n in r.json()["notices"])
            escalated = Counter((n["event_id"], n["escalation_level"]) for r in duty.requests
                                for n in r.json()["notices"])
            assert len(opened) == 10 and set(opened.values()) == {1}, opened
            assert len(escalated) == 10 and set(escalated.values()) == {1}, escalated

            # The replica that claims the next notice is killed while the channel holds it unanswered.
            answers["hang_next"] = True
            before = len(hook.requests)
            assert b.push(batch("web01", [critical("web01", "/late")])).status_code == 200
            hook.wait_for(before + 1, timeout=30)
            [(holder,)] = sql(url, "SELECT claimed_by FROM event_outbox")
            victim, survivor = (a, b) if holder_of(a) in holder else (b, a)
            victim.kill(signal.SIGKILL)
            killed_at = time.monotonic()
            delivered = wait(lambda: [r for r in hook.requests[before + 1:] if r.answer == 200], 60)
            assert delivered, survivor.log()
            resent = time.monotonic() - killed_at
            [late] = delivered[0].json()["notices"]
            assert late["item"] == "/late" and late["change"] == "opened"
            assert wait(lambda: sql(url, "SELECT count(*) FROM event_outbox")[0][0] == 0, 30)
            print(f"\nnotices: 10 opened and 10 escalated once each across 2 replicas; the notice held by the "
                  f"killed replica was sent by the other {resent:.1f} s after the kill (claim 5 s)")
            events_api = requests.get(survivor.url + "/api/v1/events", timeout=10,
                                      headers={"Authorization": f"Bearer {survivor.create_token('viewer', 'ops')}"})
            assert events_api.status_code == 200
            assert len(json.loads(events_api.text)) == 11
        finally:
            a.kill(signal.SIGTERM)
            b.kill(signal.SIGTERM)
