"""Two schedulers on one store, as two collector replicas would be (here on SQLite, in one process):
one fires the schedules, a silent one's lease and poll tasks are taken over, nothing runs twice."""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter

import sqlalchemy as sa

from checks.registry import default_registry
from collector.config.site import SiteWatcher
from collector.errors import StoreError
from collector.scheduler import PatrolScheduler
from collector.store.store import Store

INVENTORY = """\
all:
  hosts:
    here1: {connection: local}
    here2: {connection: local}
    here3: {connection: local}
"""
PLAYBOOK = """\
name: often
schedule: "@every 10s"
tasks:
  - name: hosts
    hosts: all
    checks: [memory, uptime]
"""


def replicas(tmp_path, store, lease=0.5, poll_lease=0.5):
    (tmp_path / "inventory.yaml").write_text(INVENTORY)
    (tmp_path / "playbooks").mkdir(exist_ok=True)
    (tmp_path / "playbooks" / "often.yaml").write_text(PLAYBOOK)

    def one(name):
        site = SiteWatcher(tmp_path / "inventory.yaml", tmp_path / "playbooks", default_registry())
        return PatrolScheduler(site, store, tmp_path / "reports", grace_seconds=0, holder=name,
                               lease_seconds=lease, poll_lease_seconds=poll_lease)

    return one("a"), one("b")


def tasks_by_holder(store, run_id):
    with store.engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT holder, state, attempts FROM poll_tasks WHERE run_id = :r"),
                            {"r": run_id}).all()
    return rows


def test_only_the_lease_holder_fires_and_a_firing_opens_one_run(tmp_path):
    with Store.open(f"sqlite:///{tmp_path}/patrol.db") as store:
        a, b = replicas(tmp_path, store, lease=30)
        now = dt.datetime.now(dt.UTC)
        run_id = a.fire("often", now=now)
        assert run_id is not None and b.fire("often", now=now) is None  # b does not hold the lease
        assert a.fire("often", now=now) is None  # the same firing again: its run exists
        run = store.get_run(run_id)
        assert run.finished_at is not None  # no agents: closed as soon as its targets were checked
        checks = Counter((r.target, r.check) for r in store.run_results(run_id))
        assert set(checks.values()) == {1} and len(checks) == 6


def test_a_silent_leaders_lease_is_taken_over_and_its_missed_firing_fired_once(tmp_path):
    with Store.open(f"sqlite:///{tmp_path}/patrol.db") as store:
        a, b = replicas(tmp_path, store)
        assert a.lead() and not b.lead()
        time.sleep(0.6)  # a is killed before the firing: it renews no more
        assert b.lead()  # takes over, and fires the firing a missed
        [run] = store.latest_runs()
        firing = run.started_at
        assert run.source == "schedule" and firing == a.site.site.playbooks["often"].schedule.latest_fire_time(
            dt.datetime.now(dt.UTC))
        assert b.catch_up() == []  # caught up already: the firing's run exists
        assert store.run_results(run.id) == []  # its checks are the pollers' (not run inside the lease job)
        assert b.poller.work() == 3 and b.close_due() == [run.id]
        assert len(store.run_results(run.id)) == 6
        assert not a.lead()  # a, back, finds the lease taken


def test_a_leader_that_regains_its_lease_after_a_database_outage_fires_the_firing_it_missed(tmp_path, monkeypatch):
    with Store.open(f"sqlite:///{tmp_path}/patrol.db") as store:
        a, _ = replicas(tmp_path, store, lease=30)
        assert a.lead() and store.latest_runs() == []  # leading from the start: nothing to make up

        def outage(*args, **kwargs):
            raise StoreError("sqlite:///patrol.db: the database is away")

        with monkeypatch.context() as patch:
            patch.setattr(a.leases, "acquire", outage)
            assert not a._lead_safely() and not a.leading  # the firing meanwhile cannot be opened
        schedule = a.site.site.playbooks["often"].schedule
        before = schedule.latest_fire_time(dt.datetime.now(dt.UTC))
        assert a.lead()  # back, and still its own lease (no take-over): the missed firing is made up
        [run] = store.latest_runs()
        assert run.source == "schedule" and run.started_at in {before, schedule.latest_fire_time(dt.datetime.now(
            dt.UTC))}  # (a firing may fall between the two readings)
        assert a.lead() and len(store.latest_runs()) == 1  # leading on: no more making up


def test_a_dead_pollers_tasks_are_checked_by_another_and_stored_once(tmp_path):
    with Store.open(f"sqlite:///{tmp_path}/patrol.db") as store:
        a, b = replicas(tmp_path, store)
        assert a.lead()
        run_id = a.tasks.open_run(targets=["here1", "here2", "here3"], firing="often@x", close_after=dt.datetime.now(
            dt.UTC), collect_agents=False, playbook="often", playbook_path="p", source="schedule",
            started_at=dt.datetime(2026, 12, 7, 8, 0, tzinfo=dt.UTC))
        taken = a.tasks.take("a", lease_seconds=0.5, limit=2)  # a takes two targets, then is killed
        assert len(taken) == 2
        assert b.poller.work() == 1  # b checks the third; a's two are still leased
        time.sleep(0.6)
        assert b.poller.work() == 2  # a's leases ran out: b checks them
        assert b.close_due() == [run_id]
        results = Counter((r.target, r.check) for r in store.run_results(run_id))
        assert len(results) == 6 and set(results.values()) == {1}
        assert sorted((h, s, n) for h, s, n in tasks_by_holder(store, run_id)) == [
            ("b", "done", 1), ("b", "done", 2), ("b", "done", 2)]
        assert all(r.scheduled_at == store.get_run(run_id).started_at for r in store.run_results(run_id))
        assert store.get_run(run_id).finished_at is not None


def test_a_task_its_pollers_keep_dying_on_ends_as_unknown(tmp_path):
    with Store.open(f"sqlite:///{tmp_path}/patrol.db") as store:
        a, b = replicas(tmp_path, store)
        run_id = a.tasks.open_run(targets=["here1"], firing=None, close_after=dt.datetime.now(dt.UTC),
                                  collect_agents=False, playbook="often", playbook_path="p", source="schedule",
                                  started_at=dt.datetime(2026, 12, 7, 8, 0, tzinfo=dt.UTC))
        for _ in range(3):  # three replicas die in turn while checking here1
            assert a.tasks.take("dead", lease_seconds=0.2)
            time.sleep(0.3)
        assert b.poller.work() == 1
        results = store.run_results(run_id)
        assert {r.check for r in results} == {"memory", "uptime"}
        assert all(not r.collected and "stopped 3 times" in r.summary for r in results)
