"""Sample data for the report tests: a realistic patrol of four Linux hosts, and the one before it."""

from __future__ import annotations

import datetime as dt

from checks.result import Metric, Result, ThresholdSpec
from checks.status import Status
from collector.report import TargetInfo
from collector.store import RunRecord

UTC = dt.UTC
START = dt.datetime(2026, 11, 23, 0, 0, 5, tzinfo=UTC)  # 08:00:05 in Asia/Shanghai
PREVIOUS_START = START - dt.timedelta(days=1)
GIB = 1024**3


def result(
    target: str,
    check: str,
    status: Status,
    summary: str,
    item: str = "",
    metrics: list[Metric] | None = None,
    thresholds: list[ThresholdSpec] | None = None,
    collected: bool = True,
    started: dt.datetime = START,
) -> Result:
    return Result(
        target=target,
        check=check,
        item=item,
        status=status,
        summary=summary,
        metrics=metrics or [],
        thresholds=thresholds or [],
        started_at=started,
        duration_seconds=0.35,
        collected=collected,
    )


def disk(target: str, mount: str, used: float, free_bytes: float, status: Status, started=START) -> Result:
    return result(
        target,
        "disk",
        status,
        f"{mount}: {used}% used",
        item=mount,
        metrics=[
            Metric(name="used", value=used, unit="%", labels={"mount": mount}),
            Metric(name="free", value=free_bytes, unit="B", labels={"mount": mount}),
            Metric(name="inodes_free", value=91.0, unit="%", labels={"mount": mount}),
        ],
        thresholds=[ThresholdSpec(metric="used", warning="80", critical="90")],
        started=started,
    )


def cpu(target: str, used: float, status: Status, started=START) -> Result:
    return result(
        target,
        "cpu",
        status,
        f"CPU {used}% busy",
        metrics=[Metric(name="used", value=used, unit="%"), Metric(name="iowait", value=1.2, unit="%")],
        thresholds=[ThresholdSpec(metric="used", warning="80", critical="90")],
        started=started,
    )


def current_results() -> list[Result]:
    return [
        cpu("web01", 23.4, Status.OK),
        result(
            "web01",
            "load",
            Status.OK,
            "load per core 0.31",
            metrics=[Metric(name="load5_per_core", value=0.31)],
        ),
        disk("web01", "/", 91.2, 3.9 * GIB, Status.CRITICAL),
        disk("web01", "/var/log", 84.5, 7.5 * GIB, Status.WARNING),
        result(
            "web01",
            "network_interfaces",
            Status.OK,
            "eth0 up, 1000 Mb/s full duplex",
            item="eth0",
            metrics=[
                Metric(name="rx_errors", value=0.0, unit="/s"),
                Metric(name="rx_bytes", value=2.5e6, unit="B/s"),
            ],
        ),
        cpu("web02", 86.0, Status.WARNING),
        disk("web02", "/", 41.0, 55 * GIB, Status.OK),
        result(
            "web02",
            "processes",
            Status.CRITICAL,
            "required process nginx is not running",
            item="nginx",
            metrics=[Metric(name="running", value=0.0)],
        ),
        result("web02", "uptime", Status.UNKNOWN, "timed out after 30 s", collected=False),
        result(
            "db01",
            "memory",
            Status.WARNING,
            "memory 88.1% used",
            metrics=[
                Metric(name="used", value=88.1, unit="%"),
                Metric(name="available", value=3.8 * GIB, unit="B"),
            ],
            thresholds=[ThresholdSpec(metric="used", warning="85", critical="95")],
        ),
        result(
            "db01",
            "swap",
            Status.CRITICAL,
            "swap 12% free",
            metrics=[Metric(name="free", value=12.0, unit="%")],
            thresholds=[ThresholdSpec(metric="free", warning="50:", critical="20:")],
        ),
        result(
            "db01",
            "load",
            Status.OK,
            "load per core 0.52",
            metrics=[Metric(name="load5_per_core", value=0.52)],
        ),
        disk("db01", "/data", 62.0, 380 * GIB, Status.OK),
    ]


def previous_results() -> list[Result]:
    at = PREVIOUS_START
    return [
        disk("web01", "/", 86.0, 7.9 * GIB, Status.WARNING, at),  # worse now: persisting
        disk("web01", "/tmp", 83.0, 1.6 * GIB, Status.WARNING, at),  # /tmp gone, disk collected: resolved
        cpu("web02", 35.0, Status.OK, at),  # WARNING now: new
        result(
            "web02", "uptime", Status.WARNING, "rebooted 4 min ago", started=at
        ),  # unknown now: persisting
        result("db01", "swap", Status.CRITICAL, "swap 15% free", started=at),  # persisting
        result("db01", "load", Status.WARNING, "load per core 0.82", started=at),  # OK now: resolved
        disk("app01", "/", 88.0, 2 * GIB, Status.WARNING, at),  # app01 silent now: not resolved
    ]


TARGETS = [
    TargetInfo("web01", "10.0.0.11", "hosts", ("linux", "web")),
    TargetInfo("web02", "10.0.0.12", "hosts", ("linux", "web")),
    TargetInfo("db01", "10.0.0.21", "hosts", ("linux", "db")),
    TargetInfo("app01", "10.0.0.31", "hosts", ("linux",)),  # returned nothing
]


def run_record(run_id: int = 7, inspector: str | None = "Li Wei") -> RunRecord:
    return RunRecord(
        id=run_id,
        playbook="daily-patrol",
        playbook_path="playbooks/daily.yaml",
        description="Morning health patrol of the Linux hosts",
        source="schedule",
        started_at=START,
        finished_at=START + dt.timedelta(seconds=47),
        status=Status.CRITICAL,
        target_count=4,
        check_count=13,
        limit=None,
        inspector=inspector,
    )
