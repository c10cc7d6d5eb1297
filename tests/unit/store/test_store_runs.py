"""Runs and results go in and come back out unchanged."""

from __future__ import annotations

import datetime as dt

import pytest

from checks.result import Metric, Result, ThresholdSpec
from checks.status import Status
from collector.store import RunNotFound, StoreError

T0 = dt.datetime(2026, 11, 23, 8, 0, tzinfo=dt.UTC)


def disk_result(
    target: str = "web01", item: str = "/", used: float = 91.2, status: Status = Status.CRITICAL
) -> Result:
    return Result(
        target=target,
        check="disk",
        item=item,
        status=status,
        summary=f"{item} {used}% used",
        metrics=[
            Metric(name="used", value=used, unit="%", labels={"mount": item}),
            Metric(name="free", value=4_187_593_113.6, unit="B", labels={"mount": item}),
        ],
        thresholds=[ThresholdSpec(metric="used", warning="80", critical="90")],
        started_at=T0,
        duration_seconds=0.042,
    )


def test_results_round_trip_with_metrics_and_thresholds(store):
    run_id = store.start_run("daily-patrol", "playbooks/daily.yaml", "Morning patrol", "run", limit="web*")
    stored = [
        disk_result("web02", "/var", 83.0, Status.WARNING),
        disk_result("web01", "/", 91.2, Status.CRITICAL),
        Result(
            target="web01",
            check="uptime",
            status=Status.UNKNOWN,
            summary="cannot check: ssh timed out",
            started_at=T0.astimezone(dt.timezone(dt.timedelta(hours=8))),  # any zone in, UTC out
            duration_seconds=30.0,
            collected=False,
        ),
    ]
    assert store.add_results(run_id, stored) == 3

    back = store.run_results(run_id)

    assert [(r.target, r.check, r.item) for r in back] == [
        ("web01", "disk", "/"),
        ("web01", "uptime", ""),
        ("web02", "disk", "/var"),
    ]
    assert back[0] == stored[1]
    assert back[2] == stored[0]
    assert back[0].metrics[1] == Metric(name="free", value=4_187_593_113.6, unit="B", labels={"mount": "/"})
    assert back[1].collected is False
    assert back[1].started_at == T0 and back[1].started_at.tzinfo == dt.UTC


def test_run_lifecycle(store):
    run_id = store.start_run("daily-patrol", "p.yaml", "desc", "schedule", inspector="Li Wei", started_at=T0)
    run = store.get_run(run_id)
    assert run.finished_at is None and run.status is None and run.duration_seconds is None
    assert run.inspector == "Li Wei" and run.source == "schedule"

    store.finish_run(run_id, T0 + dt.timedelta(seconds=42), Status.WARNING, target_count=12, check_count=96)

    run = store.get_run(run_id)
    assert run.status is Status.WARNING
    assert (run.target_count, run.check_count) == (12, 96)
    assert run.started_at == T0 and run.duration_seconds == 42


def test_add_results_is_all_or_nothing(store):
    run_id = store.start_run("daily-patrol", "p.yaml", "", "run")
    broken = Result.model_construct(**{**disk_result().__dict__, "summary": None})  # NOT NULL column
    with pytest.raises(StoreError, match="cannot write"):
        store.add_results(run_id, [disk_result("web01"), disk_result("web02"), broken])
    assert store.run_results(run_id) == []

    with pytest.raises(TypeError):
        store.add_results(run_id, [disk_result("web01"), {"target": "web02"}])  # type: ignore[list-item]
    assert store.run_results(run_id) == []


def test_results_of_an_unknown_run_are_refused(store):
    with pytest.raises(StoreError):  # foreign keys are enforced on SQLite too
        store.add_results(999, [disk_result()])


def test_results_without_a_run(store):
    assert store.add_results(None, [disk_result()]) == 1


def test_unknown_runs(store):
    with pytest.raises(RunNotFound):
        store.get_run(42)
    with pytest.raises(RunNotFound):
        store.run_results(42)
    with pytest.raises(RunNotFound):
        store.finish_run(42, T0, Status.OK, 0, 0)


def test_previous_run_is_the_latest_finished_run_of_the_same_playbook(store):
    def run(playbook: str, finished: bool) -> int:
        run_id = store.start_run(playbook, f"{playbook}.yaml", "", "schedule")
        if finished:
            store.finish_run(run_id, T0, Status.OK, 1, 1)
        return run_id

    first = run("daily", True)
    second = run("daily", True)
    run("weekly", True)
    run("daily", False)  # still running (or crashed): not a baseline
    current = run("daily", False)

    previous = store.previous_run("daily", current)
    assert previous is not None and previous.id == second
    assert store.previous_run("daily", second).id == first
    assert store.previous_run("daily", first) is None
    assert store.previous_run("monthly", current) is None


def test_latest_runs_newest_first(store):
    ids = [store.start_run("daily", "d.yaml", "", "run") for _ in range(5)]
    assert [r.id for r in store.latest_runs(limit=3)] == ids[::-1][:3]


def test_playbook_and_scheduled_at_round_trip(store):
    run_id = store.start_run("continuous", "c.yaml", "", "schedule")
    scheduled = disk_result().model_copy(
        update={"playbook": "continuous", "scheduled_at": T0.astimezone(dt.timezone(dt.timedelta(hours=-3)))}
    )
    store.add_results(run_id, [scheduled, disk_result("web02")])
    back = store.run_results(run_id)
    assert back[0] == scheduled and back[0].scheduled_at == T0 and back[0].playbook == "continuous"
    assert back[1].playbook is None and back[1].scheduled_at is None


def test_add_results_updates_latest_results(store):
    run_id = store.start_run("daily-patrol", "p.yaml", "", "run")
    store.add_results(run_id, [disk_result("web01", "/", 91.2), disk_result("web01", "/var", 50.0, Status.OK)])
    later = disk_result("web01", "/", 60.0, Status.OK).model_copy(update={"started_at": T0 + dt.timedelta(days=1)})
    store.add_results(None, [later])
    latest = {r.item: r for r in store.latest_results()}
    assert latest["/"].status is Status.OK and latest["/"].metric("used").value == 60.0
    assert latest["/var"].metric("used").value == 50.0
