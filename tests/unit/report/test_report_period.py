"""Reports over a period of the store: patrol report daily and patrol report period."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from checks.result import Result
from checks.status import Status
from collector.cli import main
from collector.report.period import day_bounds, write_period_report
from collector.store import Store

DAY = dt.date(2026, 11, 22)
START, END = day_bounds(DAY, "Asia/Shanghai")  # 2026-11-21T16:00Z to 2026-11-22T16:00Z


def result(target: str, item: str, status: str, at: dt.datetime, check: str = "disk") -> Result:
    return Result(target=target, check=check, item=item, status=Status(status), summary=f"{item} {status}",
                  started_at=at, duration_seconds=0.1)


@pytest.fixture
def store(tmp_path: Path):
    with Store.open(f"sqlite:///{tmp_path}/p.db") as store:
        before = START - dt.timedelta(hours=3)  # the day before, in Shanghai
        run = store.start_run(playbook="p", playbook_path="", description="", source="run")
        store.add_results(run, [
            result("web01", "/var", "CRITICAL", before),   # resolved during the day
            result("web01", "/home", "WARNING", before),   # persisting
        ])
        store.ingest_batch("b1", "web01", [
            result("web01", "/var", "CRITICAL", START + dt.timedelta(hours=1)),
            result("web01", "/var", "OK", START + dt.timedelta(hours=5)),  # the newest of the day wins
            result("web01", "/home", "WARNING", START + dt.timedelta(hours=5)),
            result("web01", "/data", "CRITICAL", START + dt.timedelta(hours=6)),  # new
        ])
        store.ingest_batch("b2", "web01", [result("web01", "/data", "OK", END)])  # the next day: not counted
        yield store


def options(**extra) -> SimpleNamespace:
    return SimpleNamespace(formats=("json", "md"), language="en", knowledge=(), title=None, organisation=None,
                           inspector=None, reviewer=None, timezone="Asia/Shanghai", **extra)


def test_day_bounds_follow_the_zone_and_daylight_saving():
    assert (START, END) == (dt.datetime(2026, 11, 21, 16, tzinfo=dt.UTC), dt.datetime(2026, 11, 22, 16, tzinfo=dt.UTC))
    start, end = day_bounds(dt.date(2026, 3, 29), "Europe/Berlin")  # clocks go forward: 23 hours
    assert end - start == dt.timedelta(hours=23)


def test_the_newest_result_of_the_period_counts_against_the_period_before(store, tmp_path):
    paths, status, count = write_period_report(store, START, END, "daily", options(), tmp_path)
    assert (status, count) == (Status.CRITICAL, 3)
    data = json.loads(paths["json"].read_text())
    findings = {(f["item"], f["status"], f["trend"]) for f in data["findings"]}
    assert findings == {("/data", "CRITICAL", "new"), ("/home", "WARNING", "persisting")}
    assert [(r["item"], r["now"]) for r in data["resolved"]] == [("/var", "OK")]
    assert data["cover"]["run_id"] is None and data["cover"]["started_at"].startswith("2026-11-21T16:00")
    assert data["events"]["start"].startswith("2026-11-21T16:00")
    assert "| Run |" not in paths["md"].read_text()


def test_report_daily_and_period_commands_exit_with_the_worst_status(store, tmp_path, capsys):
    db = f"sqlite:///{tmp_path}/p.db"
    with pytest.raises(SystemExit) as done:
        main(["report", "daily", "--date", "2026-11-22", "--timezone", "Asia/Shanghai", "--db", db,
              "--out", str(tmp_path / "daily"), "--format", "json", "--lang", "zh", "-i", str(tmp_path / "none.yaml")])
    assert done.value.code == 2
    [written] = (tmp_path / "daily").glob("daily-20261122.json")
    assert json.loads(written.read_text())["language"] == "zh"
    with pytest.raises(SystemExit) as done:
        main(["report", "period", "--from", "2026-11-22T00:00+08:00", "--to", "2026-11-22T05:00+08:00",
              "--db", db, "--out", str(tmp_path / "p"), "--format", "md"])
    assert done.value.code == 2  # /var was CRITICAL at 01:00 Shanghai, its newest in this window
    with pytest.raises(SystemExit) as done:
        main(["report", "period", "--from", "2026-01-01T00:00Z", "--to", "2026-01-02T00:00Z", "--db", db,
              "--out", str(tmp_path / "empty"), "--format", "json"])
    assert done.value.code == 0
    assert "no results stored between" in capsys.readouterr().err


@pytest.mark.parametrize("args, message", [
    (["daily", "--date", "22/11/2026"], "--date: expected YYYY-MM-DD"),
    (["daily", "--timezone", "Mars/Base"], "--timezone: unknown time zone"),
    (["period", "--from", "2026-11-22T00:00", "--to", "2026-11-23T00:00Z"], "--from: give a time zone"),
    (["period", "--from", "2026-11-23T00:00Z", "--to", "2026-11-22T00:00Z"], "--from must come before --to"),
    (["daily", "--format", "html,pdfx"], "--format"),
])
def test_bad_options_are_usage_errors(store, tmp_path, capsys, args, message):
    with pytest.raises(SystemExit) as done:
        main(["report", *args, "--db", f"sqlite:///{tmp_path}/p.db", "--out", str(tmp_path / "x")])
    assert done.value.code == 64
    assert message in capsys.readouterr().err
    assert not (tmp_path / "x").exists()
