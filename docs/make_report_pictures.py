"""Pictures of the example report for docs/images/: the HTML page in headless Chromium and the PDF's first
pages through pdftoppm. The report is the test suite's sample patrol (tests/unit/report/report_samples.py)
with a day of events and a month of disk history.

    .venv/bin/python docs/make_report_pictures.py
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "unit" / "report"))

from report_samples import START, TARGETS, current_results, previous_results, run_record  # noqa: E402

from checks.result import Result  # noqa: E402
from checks.status import Status  # noqa: E402
from collector.report import KnowledgeBase, ReportOptions, build_report, render  # noqa: E402
from collector.report.capacity import capacity_rows  # noqa: E402
from collector.report.events import Availability, EventsSection, OpenEvent, RecurringEvent  # noqa: E402
from collector.report.model import DayStatus, TargetInfo  # noqa: E402

OUT = ROOT / "docs" / "images"


def example(language: str):
    day = dt.timedelta(days=1)
    history = {
        ("web01", "disk", "/"): [(START - (30 - n) * day, 70 + n * 0.7) for n in range(30)],
        ("web01", "disk", "/var/log"): [(START - (30 - n) * day, 60 + n * 0.8) for n in range(30)],
        ("db01", "disk", "/data"): [(START - (30 - n) * day, 55.0) for n in range(30)],
    }
    events = EventsSection(
        start=START - day, end=START, opened=7, by_severity={"CRITICAL": 3, "WARNING": 4}, notified=6,
        acknowledged=5, mtta_seconds=312.0, mttr_seconds=5400.0, acknowledged_within_target_percent=80.0,
        ack_target_minutes=10, resolution_rate_percent=66.7, open_total=2,
        open_now=[
            OpenEvent(id=41, target="web01", check="disk", item="/", severity="CRITICAL", state="acknowledged",
                      summary="/: 91.2% used", opened_at=START - dt.timedelta(hours=5), acknowledged_by="li.wei",
                      in_maintenance=False, suppressed=False),
            OpenEvent(id=44, target="web02", check="processes", item="nginx", severity="CRITICAL", state="firing",
                      summary="nginx: 0 running", opened_at=START - dt.timedelta(minutes=20), acknowledged_by=None,
                      in_maintenance=False, suppressed=False),
        ],
        recurring=[RecurringEvent(target="db01", check="swap", item="", events=3, worst_severity="CRITICAL")],
        availability=[Availability(target="app01", percent=93.75, down_seconds=5400.0, outages=1),
                      Availability(target="web02", percent=99.65, down_seconds=300.0, outages=2)],
        availability_targets=5,
    )
    trend = [DayStatus(day=(START - (14 - n) * day).date(), ok=60 - n % 4, warning=3 + n % 3, critical=1 + n // 5,
                       unknown=n % 2) for n in range(14)]
    bmc = TargetInfo("bmc-r1-01", "10.0.9.1", "hardware", ("bmc",))
    hardware = [
        Result(target=bmc.name, check="redfish_health", item="PSU 2", status=Status.CRITICAL,
               summary="PSU 2: Critical (input power lost)", started_at=START, duration_seconds=0.8),
        Result(target=bmc.name, check="redfish_health", item="system", status=Status.OK,
               summary="system health OK", started_at=START, duration_seconds=0.8),
    ]
    since = {("db01", "swap", ""): START - dt.timedelta(days=2, hours=3)}
    options = ReportOptions(organisation="ACME Data Centre", reviewer="Zhang Min", timezone="Asia/Shanghai",
                            language=language)
    return build_report(run_record(), current_results() + hardware, previous_results(), [*TARGETS, bmc],
                        KnowledgeBase.load(), options, now=START, events=events, capacity=capacity_rows(history),
                        trend=trend, since=since)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as directory:
        work = Path(directory)
        for language in ("en", "zh"):
            paths = render(example(language), ["html", "pdf"], work, f"report-{language}")
            subprocess.run(
                ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                 f"--screenshot={OUT / f'report-{language}-html.png'}", "--window-size=1100,3800",
                 paths["html"].as_uri()],
                check=True, capture_output=True, timeout=120,
            )
            subprocess.run(["pdftoppm", "-r", "60", "-png", "-f", "1", "-l", "2", str(paths["pdf"]),
                            str(OUT / f"report-{language}-pdf")], check=True, timeout=120)
    for picture in sorted(OUT.glob("report-*.png")):
        print(picture.relative_to(ROOT))


if __name__ == "__main__":
    main()
