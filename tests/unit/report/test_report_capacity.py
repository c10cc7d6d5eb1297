"""Capacity: daily history from the store, growth per day and days until full, in the report."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from checks.result import Metric, Result
from checks.status import Status
from collector.report.capacity import capacity_for_report, capacity_rows, forecast
from collector.report.charts import STATUS_COLOURS, sparkline
from collector.report.labels import labels
from collector.report.period import write_period_report
from collector.store import Store

END = dt.datetime(2026, 11, 23, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)


def disk(target: str, item: str, used: float, at: dt.datetime, check: str = "disk") -> Result:
    status = Status.CRITICAL if used >= 90 else Status.WARNING if used >= 80 else Status.OK
    return Result(target=target, check=check, item=item, status=status, summary=f"{used}% used",
                  metrics=[Metric(name="used", value=used, unit="%"), Metric(name="free", value=1e9, unit="B")],
                  started_at=at, duration_seconds=0.1)


@pytest.fixture
def store(tmp_path: Path):
    with Store.open(f"sqlite:///{tmp_path}/p.db") as store:
        results = []
        for day in range(10):  # ten days: /var grows 2 points a day to 78 %, /home flat at 40 %
            at = END - (10 - day) * DAY + dt.timedelta(hours=9)
            results += [disk("web01", "/var", 60 + 2 * day, at), disk("web01", "/home", 40, at)]
            # a morning sample with a different figure: only the day's last one counts
            results.append(disk("web01", "/var", 10, at - dt.timedelta(hours=8)))
        results.append(disk("web02", "/", 50, END - 2 * DAY))  # two days only: no forecast
        results.append(disk("web02", "/", 51, END - DAY))
        results.append(Result(target="web01", check="cpu", item="", status=Status.OK, summary="5%",
                              metrics=[Metric(name="used", value=5, unit="%")], started_at=END - DAY,
                              duration_seconds=0.1))
        run = store.start_run(playbook="p", playbook_path="", description="", source="run")
        store.add_results(run, results)
        yield store


def test_forecast_is_a_least_squares_line_toward_100_percent():
    points = [(END + n * DAY, 50.0 + 5 * n) for n in range(5)]  # 50 .. 70, 5 points a day
    growth, days = forecast(points)
    assert growth == pytest.approx(5.0) and days == pytest.approx(6.0)
    assert forecast(points[:2]) == (None, None)  # two days are not a trend
    assert forecast([(END + n * DAY, 70.0 - n) for n in range(5)])[1] is None  # shrinking: never full


def test_daily_history_takes_the_last_result_of_each_day(store):
    history = store.daily_used_history({"disk"}, END - 30 * DAY, END)
    assert [v for _, v in history[("web01", "disk", "/var")]] == [60 + 2 * d for d in range(10)]
    assert set(history) == {("web01", "disk", "/var"), ("web01", "disk", "/home"), ("web02", "disk", "/")}


def test_rows_put_the_soonest_full_first(store):
    rows = capacity_for_report(store, END)
    assert [(r.target, r.item) for r in rows] == [("web01", "/var"), ("web02", "/"), ("web01", "/home")]
    var = rows[0]
    assert var.used_percent == 78 and var.growth_per_day == pytest.approx(2.0)
    assert var.days_until_full == pytest.approx(11.0) and var.days_of_history == 10
    assert rows[1].growth_per_day is None and rows[1].days_until_full is None  # too little history
    assert rows[2].growth_per_day == pytest.approx(0.0) and rows[2].days_until_full is None  # not growing
    assert capacity_for_report(store, END, {"web02"})[0].target == "web02"
    assert capacity_rows({}) == []


def test_the_report_shows_capacity_with_a_trend_chart(store, tmp_path):
    options = SimpleNamespace(formats=("html", "md", "json"), language="en", knowledge=(), title=None,
                              organisation=None, inspector=None, reviewer=None, timezone="UTC")
    paths, _, _ = write_period_report(store, END - DAY, END, "daily", options, tmp_path)
    html = paths["html"].read_text()
    assert "<h2>Capacity</h2>" in html and f'points="{sparkline([60 + 2 * d for d in range(10)])}"' in html
    assert "+2.00 pp" in html and "too little history" in html and "not growing" in html
    assert "| web01 | disk | /var | 78.0 % | +2.00 pp | 11 |" in paths["md"].read_text()
    rows = json.loads(paths["json"].read_text())["capacity"]
    assert rows[0]["item"] == "/var" and rows[0]["days_until_full"] == pytest.approx(11.0)


def test_sparkline_scales_percentages_into_the_box():
    assert sparkline([0, 50, 100], width=100, height=20) == "0.0,20.0 50.0,10.0 100.0,0.0"
    assert sparkline([30]) == "0.0,16.8 120.0,16.8"
    assert sparkline([]) == ""


def test_the_excel_workbook_has_coloured_statuses_and_every_section(store, tmp_path):
    from openpyxl import load_workbook

    options = SimpleNamespace(formats=("xlsx",), language="zh", knowledge=(), title=None, organisation="ACME",
                              inspector=None, reviewer=None, timezone="UTC")
    paths, _, _ = write_period_report(store, END - DAY, END, "daily", options, tmp_path)
    book = load_workbook(paths["xlsx"])
    assert book.sheetnames == ["Overview", "Details", "Exceptions", "Events", "Availability", "Capacity"]
    t = labels("zh")
    details = list(book["Details"].iter_rows())
    assert [c.value for c in details[0][:5]] == [t["target"], t["address"], t["check"], t["item"], t["status"]]
    rows = {(r[0].value, r[2].value, r[3].value): r[4] for r in details[1:]}
    ok = rows[("web01", "disk", "/var")]
    assert ok.value == t["OK"] and ok.fill.fgColor.rgb.lower().endswith(STATUS_COLOURS[Status.OK].lstrip("#").lower())
    assert [c.value for c in next(book["Exceptions"].iter_rows())][:2] == [t["status"], t["target"]]
    capacity = list(book["Capacity"].iter_rows(values_only=True))
    assert capacity[1][:3] == ("web01", "disk", "/var") and capacity[1][5] == pytest.approx(11.0)
    overview = {r[0]: r[1] for r in book["Overview"].iter_rows(values_only=True)}
    assert overview[t["organisation"]] == "ACME" and overview[t["health_score"]] == 100


def test_the_forecast_from_database_sums_matches_the_one_from_the_points(store):
    """capacity_for_report ranks every item from sums SQL computes; the same line as through the points."""
    from_sums = capacity_for_report(store, END)
    from_points = capacity_rows(store.daily_used_history({"disk"}, END - 30 * DAY, END))
    assert [(r.target, r.item, r.days_of_history, r.used_percent, r.daily_used) for r in from_sums] == [
        (r.target, r.item, r.days_of_history, r.used_percent, r.daily_used) for r in from_points]
    for a, b in zip(from_sums, from_points, strict=True):
        assert a.growth_per_day == pytest.approx(b.growth_per_day, abs=1e-9) if b.growth_per_day is not None \
            else a.growth_per_day is None
        assert a.days_until_full == pytest.approx(b.days_until_full) if b.days_until_full is not None \
            else a.days_until_full is None
