"""The report's events and service KPIs, computed from event histories made by the real engine with an
injected clock, and shown in HTML, Markdown and JSON."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

import pytest
from report_samples import START, TARGETS, current_results, previous_results, run_record

from checks.result import Result
from checks.status import Status
from collector.events import EventEngine, MemoryRepository, Policy
from collector.report import ReportOptions, build_report, render
from collector.report.events import events_for_report

MINUTE = dt.timedelta(minutes=1)
T0 = START - dt.timedelta(hours=20)


class Clocked:
    def __init__(self) -> None:
        self.now = T0
        self.repository = MemoryRepository()
        self.engine = EventEngine(self.repository, Policy(), clock=lambda: self.now)

    def results(self, target: str, check: str, item: str, *statuses: str) -> None:
        for status in statuses:
            self.now += MINUTE
            self.engine.observe([Result(target=target, check=check, item=item, status=Status(status),
                                        summary=f"{item} {status}", started_at=self.now, duration_seconds=0.1)])

    def at(self, minutes: float) -> None:
        self.now += dt.timedelta(minutes=minutes)
        self.engine.tick(self.now)


@pytest.fixture
def history() -> Clocked:
    """Known histories: web01's /var acknowledged after 4 min and resolved; db01's /data acknowledged
    late (after 25 min, past the 10-minute target) and still open; web02's CPU flapping in and out three
    times (a recurring problem); a target outside the report (other01) that must not count."""
    h = Clocked()
    h.results("web01", "disk", "/var", "CRITICAL", "CRITICAL")  # opens at T0+2m, told at once
    var_id = h.repository.list_events()[0].id
    h.at(4)
    h.engine.acknowledge(var_id, "alice", "cleaning")
    h.results("web01", "disk", "/var", "OK", "OK")  # resolves, 4 + 2 minutes after the acknowledgement

    h.results("db01", "disk", "/data", "WARNING", "WARNING")
    data_id = max(e.id for e in h.repository.list_events())
    h.at(25)
    h.engine.acknowledge(data_id, "bob")

    for _ in range(3):  # three separate episodes, each closed well apart (reopen_within 10 min)
        h.results("web02", "cpu", "", "CRITICAL", "CRITICAL", "OK", "OK")
        h.at(15)
    h.results("other01", "disk", "/", "CRITICAL", "CRITICAL")
    return h


def test_kpis_are_computed_from_the_histories_for_the_reports_targets(history):
    section = events_for_report(history.repository, START - dt.timedelta(hours=24), START,
                                {t.name for t in TARGETS} | {"web02"})
    # web01 /var, db01 /data, and three web02 cpu episodes: five events (other01 is not in the report)
    assert section.opened == 5
    assert section.by_severity == {"CRITICAL": 4, "WARNING": 1}
    assert section.notified == 5
    assert section.acknowledged == 2
    assert section.mtta_seconds == pytest.approx((4 * 60 + 25 * 60) / 2)
    # acknowledged in time: web01 only; db01 late; web02 resolved by itself before its deadline (not decided)
    assert section.acknowledged_within_target_percent == pytest.approx(50.0)
    assert section.resolution_rate_percent == pytest.approx(100 * 4 / 5)
    assert [(e.target, e.item, e.state, e.acknowledged_by) for e in section.open_now] == [
        ("db01", "/data", "acknowledged", "bob")
    ]
    assert [(r.target, r.check, r.events, r.worst_severity) for r in section.recurring] == [
        ("web02", "cpu", 3, "CRITICAL")
    ]


def test_every_format_shows_the_events_section(history, knowledge, tmp_path):
    section = events_for_report(history.repository, START - dt.timedelta(hours=24), START, None)
    report = build_report(run_record(), current_results(), previous_results(), TARGETS, knowledge,
                          ReportOptions(timezone="UTC"), now=START, events=section)
    paths = render(report, ["html", "md", "json"], tmp_path, "r")
    html = paths["html"].read_text(encoding="utf-8")
    assert "Events and service KPIs" in html and "Mean time to acknowledge (MTTA)" in html
    assert "Acknowledged within 10 minutes" in html and "Most recurring problems" in html
    assert "other01" in html  # no target filter: every target
    markdown = paths["md"].read_text(encoding="utf-8")
    assert "## Events and service KPIs" in markdown and "| db01 | disk | /data |" in markdown
    data = json.loads(paths["json"].read_text())
    assert data["events"]["opened"] == 6 and data["events"]["open_total"] == 2
    zh = build_report(run_record(), current_results(), None, TARGETS, knowledge,
                      ReportOptions(timezone="UTC", language="zh"), now=START, events=section)
    assert "事件与服务指标" in render(zh, ["html"], tmp_path, "zh")["html"].read_text(encoding="utf-8")


def test_a_report_without_an_event_store_has_no_section(knowledge, tmp_path):
    report = build_report(run_record(), current_results(), None, TARGETS, knowledge, ReportOptions(timezone="UTC"))
    assert report.events is None
    assert "Events and service KPIs" not in render(report, ["html"], tmp_path, "r")["html"].read_text()


def test_patrol_run_reports_the_events_its_results_opened(tmp_path):
    """The real command: the second run's results open an event, which its own report shows."""
    import subprocess

    patrol = Path(sys.executable).with_name("patrol")
    (tmp_path / "inventory.yaml").write_text("all:\n  hosts:\n    localhost: {connection: local}\n")
    (tmp_path / "up.yaml").write_text(
        "name: up\nreport: {formats: [json]}\ntasks:\n  - name: t\n    hosts: localhost\n    checks:\n"
        "      - uptime: {warning: 3153600000}\n"
    )
    env = {"PATROL_DB": f"sqlite:///{tmp_path}/p.db", "PATH": "/usr/bin:/bin"}
    for _ in range(2):
        done = subprocess.run([str(patrol), "run", "up.yaml", "-q", "--report-dir", "out"], cwd=tmp_path,
                              capture_output=True, text=True, timeout=120, env=env)
        assert done.returncode == 1, done.stdout + done.stderr
    first, second = sorted((tmp_path / "out").glob("*.json"))
    assert json.loads(first.read_text())["events"]["opened"] == 0  # one WARNING result: no event yet
    events = json.loads(second.read_text())["events"]
    assert events["opened"] == 1 and events["by_severity"] == {"WARNING": 1}
    assert [(e["target"], e["check"]) for e in events["open_now"]] == [("localhost", "uptime")]
    again = subprocess.run([str(patrol), "report", "run", "2", "--format", "md", "--lang", "zh", "--out", "again"],
                           cwd=tmp_path, capture_output=True, text=True, timeout=120, env=env)
    assert again.returncode == 1, again.stdout + again.stderr  # the run's worst status: WARNING
    [md] = (tmp_path / "again").glob("up-2-*.md")
    text = md.read_text(encoding="utf-8")
    assert "## 事件与服务指标" in text and "| localhost | uptime |" in text
    missing = subprocess.run([str(patrol), "report", "run", "99"], cwd=tmp_path, capture_output=True, text=True,
                             timeout=120, env=env)
    assert missing.returncode == 64 and "no patrol run with id 99" in missing.stderr
