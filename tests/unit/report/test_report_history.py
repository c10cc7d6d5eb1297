"""The report's history parts: availability from known down spans, when each problem began, the daily
trend, the charts drawn from them (matplotlib, inline SVG) and the hardware category."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest
from report_samples import START, TARGETS, current_results, previous_results, run_record

from checks.result import Result
from checks.status import Status
from collector.events import EventEngine, MemoryRepository, Policy
from collector.events.repository import DatabaseRepository
from collector.report import ReportOptions, build_report, render
from collector.report.capacity import capacity_rows
from collector.report.events import events_for_report, problem_since
from collector.report.labels import labels
from collector.report.model import DayStatus, TargetInfo
from collector.report.plots import capacity, category_health, daily_trend
from collector.report.render import render_text
from collector.store import Store

MINUTE = dt.timedelta(minutes=1)
S = dt.datetime(2026, 11, 22, tzinfo=dt.UTC)  # the period: one day
E = S + dt.timedelta(days=1)


class Clocked:
    """The real engine on a repository, with an injected clock; every result one minute after the last."""

    def __init__(self, repository) -> None:
        self.now = S - 20 * MINUTE
        self.repository = repository
        self.engine = EventEngine(repository, Policy(down_checks={"ping"}), clock=lambda: self.now)

    def results(self, target: str, check: str, item: str, *statuses: str, collected: bool = True) -> None:
        for status in statuses:
            self.now += MINUTE
            self.engine.observe([Result(target=target, check=check, item=item, status=Status(status),
                                        summary=f"{check} {status}", started_at=self.now, duration_seconds=0.1,
                                        collected=collected or status == "OK")])

    def until(self, moment: dt.datetime) -> None:
        self.now = moment
        self.engine.tick(self.now)


@pytest.fixture(params=["memory", "sqlite"])
def history(request, tmp_path: Path) -> Clocked:
    """Known down spans (ping is a down check, a CRITICAL result not collected means unreachable):
    - old01 down from S-19m to S-17m: before the period, it does not count;
    - web01 ping down from S-15m to S+31m, and within it web01 unreachable (disk) from S+27m to S+29m:
      31 minutes of the period, counted once, in two outages;
    - web02 CPU CRITICAL from S+33m: a problem, not a down target;
    - db01 ping down from E-30m and still down at the end: 30 minutes."""
    if request.param == "memory":
        repository = MemoryRepository()
    else:
        store = Store.open(f"sqlite:///{tmp_path}/p.db")
        request.addfinalizer(store.close)
        repository = DatabaseRepository.from_store(store)
    h = Clocked(repository)
    h.results("old01", "ping", "", "CRITICAL", "CRITICAL", "OK", "OK")
    h.results("web01", "ping", "", "CRITICAL", "CRITICAL")
    h.until(S + 26 * MINUTE)
    h.results("web01", "disk", "/", "CRITICAL", "CRITICAL", collected=False)
    h.results("web01", "disk", "/", "OK", "OK")
    h.results("web01", "ping", "", "OK", "OK")
    h.results("web02", "cpu", "", "CRITICAL", "CRITICAL")
    h.until(E - 31 * MINUTE)
    h.results("db01", "ping", "", "CRITICAL", "CRITICAL")
    return h


def test_availability_is_the_share_of_the_period_not_covered_by_down_spans(history):
    section = events_for_report(history.repository, S, E, {"old01", "web01", "web02", "db01"})
    day = 86400.0
    assert [(a.target, a.down_seconds, a.outages) for a in section.availability] == [
        ("web01", 31 * 60.0, 2),
        ("db01", 30 * 60.0, 1),
    ]
    assert section.availability[0].percent == pytest.approx(100 * (1 - 31 * 60 / day))
    assert section.availability[1].percent == pytest.approx(100 * (1 - 30 * 60 / day))
    assert section.availability_targets == 4
    # Counts and KPIs take the events opened in the period: web01 disk, web02 cpu, db01 ping.
    assert section.opened == 3


def test_a_period_report_counts_the_targets_it_covers(history):
    section = events_for_report(history.repository, S, E, None, population={"web01", "app01"})
    # the targets with an event overlapping the period (web01, web02, db01; old01's ended before it),
    # and app01 that had none
    assert section.availability_targets == 4
    assert [a.target for a in section.availability] == ["web01", "db01"]


def test_problems_date_from_the_first_result_of_their_bad_streak(history):
    since = problem_since(history.repository)
    assert since[("web02", "cpu", "")] == S + 33 * MINUTE
    assert since[("db01", "ping", "")] == E - 30 * MINUTE
    assert ("web01", "ping", "") not in since  # recovered


def test_findings_carry_since_from_the_engine_or_else_from_the_results(knowledge):
    engine_since = START - dt.timedelta(days=3)
    report = build_report(run_record(), current_results(), previous_results(), TARGETS, knowledge,
                          ReportOptions(timezone="UTC"), now=START, since={("db01", "swap", ""): engine_since})
    by_key = {(f.target, f.check, f.item): f for f in report.findings}
    assert by_key[("db01", "swap", "")].since == engine_since  # from the event engine
    previous = {(r.target, r.check, r.item): r for r in previous_results()}
    persisting = by_key[("web01", "disk", "/")]
    assert persisting.trend == "persisting" and persisting.since == previous[("web01", "disk", "/")].started_at
    new = next(f for f in report.findings if f.trend == "new")
    assert new.since == START  # as far as the store knows: this run
    html = render_text(report, "html")
    assert f"Since {engine_since:%Y-%m-%d %H:%M:%S}" in html
    md = render_text(report, "md")
    swap_row = next(line for line in md.splitlines() if "| db01 | swap |" in line)
    assert f"| {engine_since:%Y-%m-%d %H:%M:%S} |" in swap_row


def test_every_format_shows_availability(history, knowledge, tmp_path):
    section = events_for_report(history.repository, S, E, {"old01", "web01", "web02", "db01"})
    report = build_report(run_record(), current_results(), None, TARGETS, knowledge, ReportOptions(timezone="UTC"),
                          now=START, events=section)
    paths = render(report, ["html", "md", "json", "xlsx"], tmp_path, "r")
    html = paths["html"].read_text(encoding="utf-8")
    assert re.search(r"<td>web01</td><td class=\"bad\">97\.85 %</td><td>31 min 0 s</td><td>2</td>", html)
    assert "| web01 | 97.85 % | 31 min 0 s | 2 |" in paths["md"].read_text(encoding="utf-8")
    data = json.loads(paths["json"].read_text(encoding="utf-8"))
    assert [a["target"] for a in data["events"]["availability"]] == ["web01", "db01"]
    from openpyxl import load_workbook

    sheet = load_workbook(paths["xlsx"])["Availability"]
    assert [c.value for c in sheet[2]] == ["web01", pytest.approx(97.847, abs=1e-3), 1860, 2]


def test_nobody_down_says_so():
    section = events_for_report(MemoryRepository(), S, E, {"web01"})
    assert section.availability == [] and section.availability_targets == 1


# -- charts ---------------------------------------------------------------------------------------

WORDS = labels("en")
COUNTS = {"hosts": {Status.OK: 40, Status.WARNING: 3, Status.CRITICAL: 1},
          "hardware": {Status.OK: 12, Status.CRITICAL: 2}, "databases": {Status.OK: 5, Status.UNKNOWN: 1}}


def test_category_chart_is_inline_svg_with_its_labels_as_text_and_renders_the_same_every_time():
    svg = str(category_health(COUNTS, WORDS))
    assert svg.startswith("<svg") and 'class="chart"' in svg and "<?xml" not in svg
    assert f"<title>{WORDS['health_by_category']}</title>" in svg
    for text in ("Hosts", "Hardware", "Databases", "40", "12"):
        assert f">{text}<" in svg  # text kept as text: searchable, any script
    assert "<metadata" not in svg and "<script" not in svg
    assert str(category_health(COUNTS, WORDS)) == svg
    assert category_health({}, WORDS) is None


def test_chinese_chart_labels_are_text_in_the_svg():
    svg = str(category_health(COUNTS, labels("zh")))
    assert ">主机<" in svg and ">硬件<" in svg and ">数据库<" in svg


def test_trend_chart_needs_two_days_and_shows_each_day():
    days = [(dt.date(2026, 11, 20 + n), {Status.OK: 90 - n, Status.CRITICAL: n}) for n in range(3)]
    svg = str(daily_trend(days, WORDS))
    for label in ("11-20", "11-21", "11-22"):
        assert f">{label}<" in svg
    assert daily_trend(days[:1], WORDS) is None
    assert DayStatus.from_counts(days[2][0], days[2][1]).counts() == {
        Status.OK: 88, Status.WARNING: 0, Status.CRITICAL: 2, Status.UNKNOWN: 0}


def test_capacity_chart_draws_history_and_forecast():
    day = dt.timedelta(days=1)
    history = {("web01", "disk", "/var"): [(S + n * day, 60.0 + 2 * n) for n in range(10)]}
    svg = str(capacity(capacity_rows(history), WORDS))
    assert ">web01 /var<" in svg
    assert "stroke-dasharray" in svg  # the forecast, dashed to 100 %
    assert capacity(capacity_rows({("a", "disk", "/"): [(S, 50.0)]}), WORDS) is None


def test_the_html_report_carries_the_charts(knowledge):
    trend = [DayStatus(day=dt.date(2026, 11, 20 + n), ok=10, warning=n, critical=0, unknown=0) for n in range(3)]
    report = build_report(run_record(), current_results(), None, TARGETS, knowledge, ReportOptions(), now=START,
                          trend=trend)
    html = render_text(report, "html")
    assert html.count('class="chart" role="img"') == 2
    assert 'class="plot plot-category"' in html and 'class="plot plot-trend"' in html


def test_hardware_is_its_own_section_after_hosts(knowledge):
    targets = [*TARGETS, TargetInfo("bmc-r1-01", "10.0.9.1", "hardware", ())]
    results = [*current_results(), Result(target="bmc-r1-01", check="redfish_health", item="PSU 2",
                                          status=Status.CRITICAL, summary="PSU 2 critical", started_at=START,
                                          duration_seconds=0.2)]
    report = build_report(run_record(), results, None, targets, knowledge, ReportOptions(), now=START)
    assert [s.category for s in report.categories][:2] == ["hosts", "hardware"]
    assert report.overview.targets_by_category["hardware"] == 1
    assert "<h3>Hardware (1)</h3>" in render_text(report, "html")
