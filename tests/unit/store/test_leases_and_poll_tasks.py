"""Leases and poll tasks on a real SQLite store: who holds what, take-over when a holder goes silent,
and a target's results stored once even when two replicas ran its checks."""

from __future__ import annotations

import datetime as dt
import time

import sqlalchemy as sa

from checks.base import failure_result
from checks.status import Status
from collector.store.leases import Leases
from collector.store.poll_tasks import PollTasks

T0 = dt.datetime(2026, 12, 7, 8, 0, tzinfo=dt.UTC)


def open_run(tasks: PollTasks, targets=("db01", "db02", "db03"), firing="nightly@2026-12-07T08:00:00+00:00",
             close_after=None):
    return tasks.open_run(targets=list(targets), firing=firing, close_after=close_after or T0,
                          collect_agents=False, playbook="nightly", playbook_path="playbooks/nightly.yaml",
                          source="schedule", started_at=T0)


def test_a_lease_is_held_renewed_and_taken_over_only_once_it_ran_out(store):
    leases = Leases(store)
    assert leases.acquire("scheduler", "a", ttl=0.5).held
    refused = leases.acquire("scheduler", "b", ttl=0.5)
    assert not refused.held and refused.holder == "a"
    assert leases.acquire("scheduler", "a", ttl=0.5).held  # renewed by its holder
    time.sleep(0.6)
    taken = leases.acquire("scheduler", "b", ttl=30)
    assert taken.held and taken.taken_over == "a"
    assert not leases.acquire("scheduler", "a", ttl=30).held  # the old holder, back, finds it taken
    assert leases.holder("scheduler")[0] == "b"
    assert not leases.release("scheduler", "a") and leases.release("scheduler", "b")
    assert leases.acquire("scheduler", "a", ttl=30).taken_over is None  # released, not taken over


def test_a_firing_opens_one_run_with_a_task_per_target(store):
    tasks = PollTasks(store)
    run_id = open_run(tasks)
    assert run_id is not None and open_run(tasks) is None  # the same firing again: another replica's
    assert store.get_run(run_id).source == "schedule"
    assert tasks.counts() == {"pending": 3}


def test_takers_get_disjoint_tasks_and_a_silent_takers_tasks_come_back(store):
    tasks = PollTasks(store)
    open_run(tasks)
    mine = tasks.take("a", lease_seconds=0.5, limit=2)
    theirs = tasks.take("b", lease_seconds=30, limit=5)
    assert [t.target for t in mine] == ["db01", "db02"] and [t.target for t in theirs] == ["db03"]
    assert tasks.take("b", lease_seconds=30) == []
    time.sleep(0.6)  # "a" died: its leases run out
    again = tasks.take("b", lease_seconds=30)
    assert [(t.target, t.attempts) for t in again] == [("db01", 2), ("db02", 2)]
    assert tasks.renew("a", [t.id for t in mine], 30) == set()  # lost: not renewed


def test_a_task_finished_by_a_taker_that_lost_it_stores_nothing(store):
    tasks = PollTasks(store)
    run_id = open_run(tasks, targets=["db01"])
    [first] = tasks.take("a", lease_seconds=0.3)
    time.sleep(0.4)
    [second] = tasks.take("b", lease_seconds=30)
    result = failure_result("db01", "postgres_connections", Status.OK, "12 of 100")
    assert tasks.finish(second, "b", [result]) is True
    assert tasks.finish(first, "a", [result]) is False  # late: its lease had run out
    assert [r.target for r in store.run_results(run_id)] == ["db01"]
    assert tasks.counts() == {"done": 1}


def test_a_run_is_due_once_its_time_came_and_its_tasks_are_done_and_is_closed_by_one_claimer(store):
    tasks = PollTasks(store)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    waiting = open_run(tasks, targets=[], firing="a@1", close_after=later)
    run_id = open_run(tasks, targets=["db01"], firing="a@2", close_after=T0)
    assert tasks.due_runs() == []  # db01 not checked yet; the other's grace not over
    [task] = tasks.take("a", 30)
    tasks.finish(task, "a", [])
    [due] = tasks.due_runs()
    assert due.id == run_id and due.id != waiting
    assert tasks.claim_close(run_id) is True and tasks.claim_close(run_id) is False
    with store.engine.connect() as conn:
        runs = sa.table("patrol_runs", sa.column("id"), sa.column("close_after"))
        moved = conn.execute(sa.select(runs.c.close_after).where(runs.c.id == run_id)).scalar()
    assert moved is not None  # held for the closer; another takes it if the closer dies
