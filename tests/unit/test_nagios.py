import datetime as dt

from checks.result import Metric, Result, ThresholdSpec
from checks.status import Status
from collector.nagios import nagios_output

NOW = dt.datetime(2026, 11, 23, 8, 0, tzinfo=dt.UTC)


def result(item, status, used, summary):
    return Result(
        target="h",
        check="disk",
        item=item,
        status=status,
        summary=summary,
        started_at=NOW,
        duration_seconds=0.01,
        metrics=[Metric(name="used", value=used, unit="%"), Metric(name="free", value=1024, unit="B")],
        thresholds=[ThresholdSpec(metric="used", warning="80", critical="90")],
    )


def test_nagios_line_perfdata_and_exit_code():
    text, code = nagios_output(
        "disk",
        [
            result("/", Status.OK, 40.5, "40.5% used"),
            result("/var log", Status.CRITICAL, 95, "95% used | odd"),
        ],
    )
    first, *rest = text.split("\n")
    assert code == 2
    assert first.startswith("DISK CRITICAL - /var log: 95% used / odd (2 items, 1 not OK) | ")
    perf = first.split(" | ", 1)[1]
    assert "/_used=40.5%;80;90;0;100" in perf
    assert "'/var log_used'=95%;80;90;0;100" in perf
    assert "/_free=1024B" in perf
    assert rest == ["OK: /: 40.5% used"]


def test_nagios_unknown_exit_code():
    r = Result(
        target="h",
        check="x",
        status=Status.UNKNOWN,
        summary="timed out",
        started_at=NOW,
        duration_seconds=1,
        collected=False,
    )
    assert nagios_output("x", [r]) == ("X UNKNOWN - timed out", 3)
