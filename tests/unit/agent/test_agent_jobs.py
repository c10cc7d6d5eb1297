"""Scheduling: results carry the nominal firing time, never the offset one; bad entries report UNKNOWN."""

import datetime as dt
import threading
import time

from apscheduler.triggers.interval import IntervalTrigger

from agent.jobs import CheckRunner, CheckScheduler, OffsetTrigger, splay
from agent.plan import parse_plan
from checks.schedule import parse_schedule
from checks.status import Status

UTC = dt.UTC


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


def plan_of(*entries):
    checks = [{"id": f"e{i}", "playbook": "monitor", "task": "t", "check": c, "params": p, "schedule": s}
              for i, (c, p, s) in enumerate(entries)]
    return parse_plan({"schema": "patrol.plan/1", "agent": "web01", "checks": checks}, "web01")[0]


def test_the_offset_trigger_fires_after_the_nominal_time_and_maps_back_to_it():
    trigger = OffsetTrigger(parse_schedule("@every 10s").trigger(), 3.25, every=10)
    now = at(2026, 11, 23, 8, 0, 4)
    fire = trigger.get_next_fire_time(None, now)
    assert fire == at(2026, 11, 23, 8, 0, 13, 250000)
    assert trigger.nominal(fire) == at(2026, 11, 23, 8, 0, 10)
    following = trigger.get_next_fire_time(fire, fire)
    assert following == at(2026, 11, 23, 8, 0, 23, 250000)
    assert trigger.nominal(following) == at(2026, 11, 23, 8, 0, 20)
    # a firing still inside its offset window is not lost: nominal 08:00:10 fires at 08:00:13.25
    assert trigger.get_next_fire_time(None, at(2026, 11, 23, 8, 0, 12)) == fire


def test_cron_firings_map_back_to_the_cron_minute():
    trigger = OffsetTrigger(parse_schedule("*/5 8 * * *").trigger(UTC), 2.5)
    fire = trigger.get_next_fire_time(None, at(2026, 11, 23, 8, 6, 1))
    assert fire == at(2026, 11, 23, 8, 10, 2, 500000)
    assert trigger.nominal(fire) == at(2026, 11, 23, 8, 10)


def test_the_splay_is_fixed_per_agent_and_entry_and_bounded():
    assert splay("web01", "e1", 5) == splay("web01", "e1", 5)
    offsets = {splay(f"web{i:02d}", "e1", 5) for i in range(50)}
    assert len(offsets) > 40 and all(0 <= o < 5 for o in offsets)
    assert splay("web01", "e1", 0) == 0


def test_scheduled_at_is_the_nominal_firing_time_in_a_real_scheduler():
    got, done = [], threading.Event()

    def collect(results):
        got.extend(results)
        if len(got) >= 3:
            done.set()

    scheduler = CheckScheduler(CheckRunner("web01"), collect, jitter=0.8)
    scheduler.apply(plan_of(("uptime", {}, "@every 1s")))
    prepared = scheduler._jobs["e0"]
    offset = prepared.trigger.delta.total_seconds()
    assert 0 < offset <= 0.5  # at most half the interval
    scheduler.start()
    try:
        assert done.wait(8)
    finally:
        scheduler.stop(wait=2)
    for result in got[:3]:
        assert result.playbook == "monitor" and result.target == "web01"
        assert result.scheduled_at.microsecond == 0 and result.scheduled_at.tzinfo is not None  # a whole second
        late = (result.started_at - result.scheduled_at).total_seconds()
        assert offset - 0.01 <= late < offset + 0.5, (result.started_at, result.scheduled_at, offset)
    assert len({r.scheduled_at for r in got[:3]}) == 3


def test_interval_nominal_times_are_exact_epoch_multiples_even_with_float_noise():
    trigger = OffsetTrigger(IntervalTrigger(seconds=7, start_date=at(1970, 1, 1), timezone=UTC), 0.123, every=7)
    fire = trigger.get_next_fire_time(None, at(2026, 11, 23, 8, 0, 0))
    for _ in range(1000):
        fire = trigger.get_next_fire_time(fire, fire)
    assert trigger.nominal(fire).timestamp() % 7 == 0


def test_an_unknown_check_or_invalid_parameters_become_unknown_results():
    runner = CheckRunner("web01")
    scheduler = CheckScheduler(runner, lambda results: None)
    scheduler.apply(plan_of(("frobnicate", {}, "@every 1m"), ("disk", {"warnig": 80}, "@every 1m")))
    [unknown] = runner.run(scheduler._jobs["e0"])
    assert unknown.status == Status.UNKNOWN and not unknown.collected
    assert "unknown check 'frobnicate'" in unknown.summary and "not known to this agent" in unknown.summary
    [invalid] = runner.run(scheduler._jobs["e1"])
    assert invalid.status == Status.UNKNOWN and invalid.check == "disk"
    assert "warnig: unknown parameter 'warnig' (did you mean 'warning'?)" in invalid.summary


def test_a_check_runs_on_this_host_with_one_long_lived_rate_tracker():
    runner = CheckRunner("web01")
    scheduler = CheckScheduler(runner, lambda results: None)
    scheduler.apply(plan_of(("uptime", {}, "@every 1m"), ("memory", {}, "@every 1m")))
    for job in ("e0", "e1"):
        results = runner.run(scheduler._jobs[job])
        assert results and all(r.target == "web01" and r.collected for r in results)
    assert scheduler.runner.rates is runner.rates


def test_reapplying_a_plan_keeps_unchanged_jobs_and_replaces_changed_ones():
    scheduler = CheckScheduler(CheckRunner("web01"), lambda results: None)
    scheduler.apply(plan_of(("uptime", {}, "@every 1m"), ("load", {}, "@every 1m")))
    kept = scheduler._jobs["e0"]
    scheduler.apply(plan_of(("uptime", {}, "@every 1m"), ("load", {"warning": 3}, "@every 1m")))
    assert scheduler._jobs["e0"] is kept
    assert scheduler._jobs["e1"].entry.params == {"warning": 3}
    scheduler.apply(plan_of(("uptime", {}, "@every 1m")))
    assert [job.id for job in scheduler.scheduler.get_jobs()] == ["e0"]


def test_stop_waits_for_running_checks_to_hand_over_their_results():
    got = []
    scheduler = CheckScheduler(CheckRunner("web01"), got.extend, jitter=0)
    scheduler.apply(plan_of(("uptime", {}, "@every 1s")))
    scheduler.start()
    time.sleep(1.5)
    scheduler.stop(wait=2)
    count = len(got)
    time.sleep(1.2)
    assert len(got) == count  # nothing fires after stop


def test_parameters_in_the_plans_json_form_validate_in_the_agent(required_params):
    """The collector sends validated parameters as JSON (model_dump(mode="json")); the agent must accept them."""
    from checks.registry import default_registry

    runner = CheckRunner("web01")
    registry = default_registry()
    entries = []
    for name in registry.names():
        params = registry.get(name).validate(required_params.get(name, {})).model_dump(mode="json")
        entries.append((name, params, "@every 1m"))
    scheduler = CheckScheduler(runner, lambda results: None)
    scheduler.apply(plan_of(*entries))
    assert {p.entry.check: p.error for p in scheduler._jobs.values()} == {name: None for name in registry.names()}
