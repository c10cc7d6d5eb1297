"""Building the report model: score, verdict, ordering, trends, failed collections."""

from __future__ import annotations

import datetime as dt

import pytest
from report_samples import START, TARGETS, cpu, current_results, disk, previous_results, result, run_record

from checks.status import Status
from collector.report import ReportOptions, TargetInfo, build_report, score


def test_score_band_and_verdict(report):
    # 3 critical x 10 + 1 unknown x 5 + 3 warning x 3 + 1 silent target (app01) x 5 = 49
    assert report.health.score == 51
    assert report.health.band == "critical"
    assert report.health.deductions == {Status.WARNING: 9, Status.CRITICAL: 30, Status.UNKNOWN: 10}
    assert report.health.limited
    assert report.health.verdict == (
        "Critical (51/100): 4 of 4 targets need attention (3 critical, 1 unknown, 3 warning); "
        "assessment limited: 1 check could not collect, 1 target returned no results."
    )


@pytest.mark.parametrize(
    "statuses, expected, band",
    [
        ([], 100, "excellent"),
        ([Status.WARNING], 97, "excellent"),
        ([Status.WARNING, Status.WARNING], 94, "good"),
        ([Status.CRITICAL, Status.CRITICAL], 80, "good"),
        ([Status.CRITICAL, Status.CRITICAL, Status.WARNING], 77, "fair"),
        ([Status.CRITICAL] * 3, 70, "fair"),
        ([Status.CRITICAL] * 3 + [Status.UNKNOWN], 65, "poor"),
        ([Status.CRITICAL] * 4, 60, "poor"),
        ([Status.CRITICAL] * 4 + [Status.WARNING], 57, "critical"),
        ([Status.CRITICAL] * 15, 0, "critical"),  # floored at 0
    ],
)
def test_score_arithmetic(statuses, expected, band):
    assert score.health_score(statuses) == expected
    assert score.band(expected) == band


def test_a_healthy_run_has_an_unqualified_verdict(knowledge):
    results = [cpu("web01", 12.0, Status.OK), disk("web01", "/", 40.0, 50e9, Status.OK)]
    report = build_report(run_record(), results, None, [TARGETS[0]], knowledge, ReportOptions(timezone="UTC"))
    assert report.health.score == 100
    assert report.health.verdict == "Excellent (100/100): the target is healthy."
    assert not report.health.limited
    assert report.findings == [] and report.overview.failed_collections == []


def test_findings_most_severe_first_then_target_check_item(report):
    assert [(f.status, f.target, f.check, f.item) for f in report.findings] == [
        (Status.CRITICAL, "db01", "swap", ""),
        (Status.CRITICAL, "web01", "disk", "/"),
        (Status.CRITICAL, "web02", "processes", "nginx"),
        (Status.UNKNOWN, "web02", "uptime", ""),
        (Status.WARNING, "db01", "memory", ""),
        (Status.WARNING, "web01", "disk", "/var/log"),
        (Status.WARNING, "web02", "cpu", ""),
    ]


def test_observed_values_against_thresholds(report):
    observed = {(f.target, f.check, f.item): f.observed_text for f in report.findings}
    assert observed[("web01", "disk", "/")] == "used 91.2% > 90 (critical)"
    assert observed[("web01", "disk", "/var/log")] == "used 84.5% > 80 (warning)"
    assert observed[("db01", "swap", "")] == "free 12% < 20 (critical)"  # a lower-is-worse range
    assert observed[("web02", "uptime", "")] == "not collected: timed out after 30 s"  # with the reason
    assert observed[("web02", "processes", "nginx")] == "running 0"  # no threshold: the figures
    disk_root = next(f for f in report.findings if f.item == "/")
    assert disk_root.observed[0].model_dump() == {
        "metric": "used",
        "value": 91.2,
        "unit": "%",
        "warning": "80",
        "critical": "90",
        "breached": "critical",
        "text": "used 91.2% > 90 (critical)",
    }


def test_byte_thresholds_are_readable(knowledge):
    from checks.result import Metric, ThresholdSpec

    low = result(
        "web01",
        "disk",
        Status.WARNING,
        "/ has 8 GiB free",
        item="/",
        metrics=[Metric(name="free", value=8 * 1024**3, unit="B")],
        thresholds=[ThresholdSpec(metric="free", warning=f"{10 * 1024**3}:", critical=f"{5 * 1024**3}:")],
    )
    report = build_report(run_record(), [low], None, [], knowledge, ReportOptions(timezone="UTC"))
    assert report.findings[0].observed_text == "free 8.0 GiB < 10.0 GiB (warning)"


def test_new_persisting_and_resolved_against_the_previous_run(report):
    trends = {(f.target, f.check, f.item): (f.trend, f.previous_status) for f in report.findings}
    assert trends[("web01", "disk", "/")] == ("persisting", Status.WARNING)  # got worse, still a finding
    assert trends[("db01", "swap", "")] == ("persisting", Status.CRITICAL)
    assert trends[("web02", "uptime", "")] == ("persisting", Status.WARNING)
    assert trends[("web02", "cpu", "")] == ("new", None)  # OK last time
    assert trends[("web02", "processes", "nginx")] == ("new", None)  # not there last time
    assert [(r.target, r.check, r.item, r.now) for r in report.resolved] == [
        ("db01", "load", "", "OK"),
        ("web01", "disk", "/tmp", "absent"),
        # app01's old disk warning is not resolved: app01 returned nothing this time
    ]
    assert report.has_previous


def test_without_a_previous_run_everything_is_new(knowledge):
    report = build_report(
        run_record(), current_results(), None, TARGETS, knowledge, ReportOptions(timezone="UTC")
    )
    assert {f.trend for f in report.findings} == {"new"}
    assert report.resolved == [] and not report.has_previous


def test_a_check_that_failed_as_a_whole_resolves_none_of_its_items(knowledge):
    previous = [disk("web01", "/data", 85.0, 9e9, Status.WARNING, START - dt.timedelta(days=1))]
    current = [
        cpu("web01", 10.0, Status.OK),
        result("web01", "disk", Status.UNKNOWN, "timed out after 30 s", collected=False),
    ]
    report = build_report(
        run_record(), current, previous, TARGETS[:1], knowledge, ReportOptions(timezone="UTC")
    )
    assert report.resolved == []


def test_failed_collections_are_listed_never_dropped(report):
    failed = [(f.target, f.check, f.reason) for f in report.overview.failed_collections]
    assert failed == [("web02", "uptime", "timed out after 30 s"), ("app01", None, "no results")]
    assert report.overview.targets_failed == 1
    app01 = next(t for t in report.categories[0].targets if t.name == "app01")
    assert app01.failed and app01.results == [] and app01.worst_status is Status.UNKNOWN


def test_overview_counts(report):
    overview = report.overview
    assert overview.status_counts == {Status.OK: 6, Status.WARNING: 3, Status.CRITICAL: 3, Status.UNKNOWN: 1}
    assert list(overview.status_counts) == [Status.OK, Status.WARNING, Status.CRITICAL, Status.UNKNOWN]
    assert (overview.targets_total, overview.targets_with_problems) == (4, 4)
    assert overview.checks_run == 12 and overview.results_total == 13
    assert overview.duration_seconds == 47
    assert overview.targets_by_category == {"hosts": 4}
    assert overview.worst_status is Status.CRITICAL


def test_cover_and_signoff(report):
    cover = report.cover
    assert (cover.organisation, cover.inspector, cover.reviewer) == (
        "ACME Data Centre",
        "Li Wei",
        "Zhang Min",
    )
    assert cover.title == "Inspection report" and cover.playbook == "daily-patrol"
    assert cover.schema_version == "patrol.report/1" and cover.patrol_version
    assert report.signoff.date == dt.date(2026, 11, 23)


def test_per_target_tables_are_grouped_by_category(knowledge):
    targets = [*TARGETS[:2], TargetInfo("core-sw1", "10.0.0.1", "network"), TargetInfo("odd", "", "lab")]
    report = build_report(
        run_record(), current_results(), None, targets, knowledge, ReportOptions(timezone="UTC")
    )
    assert [c.category for c in report.categories] == ["hosts", "network", "lab"]
    hosts = report.categories[0]
    assert [t.name for t in hosts.targets] == ["db01", "web01", "web02"]  # db01 had results, added as a host
    web01 = next(t for t in hosts.targets if t.name == "web01")
    assert [(r.check, r.item) for r in web01.results][:3] == [
        ("cpu", ""),
        ("disk", "/"),
        ("disk", "/var/log"),
    ]
    assert web01.results[1].key_metrics == ["used 91.2%", "free 3.9 GiB", "inodes free 91%"]


def test_findings_carry_knowledge_recommendations(report):
    recommendations = {(f.check, f.item): f.recommendation for f in report.findings}
    assert "logrotate" in recommendations[("disk", "/var/log")]  # the item pattern
    assert "lvextend" in recommendations[("disk", "/")]  # the check's CRITICAL text
    assert "uptime could not be collected" in recommendations[("uptime", "")]


def test_chinese_report(knowledge):
    options = ReportOptions(language="zh-CN", timezone="Asia/Shanghai")
    report = build_report(run_record(), current_results(), previous_results(), TARGETS, knowledge, options)
    assert report.language == "zh" and report.cover.title == "巡检报告"
    assert report.health.verdict.startswith("危险（51/100）")
    assert "评估受限" in report.health.verdict
    assert "（严重）" in report.findings[0].observed_text
    assert "OOM" in report.findings[0].recommendation and "交换空间" in report.findings[0].recommendation


def test_bad_options_fail_early(knowledge):
    with pytest.raises(ValueError, match="language"):
        build_report(run_record(), [], None, [], knowledge, ReportOptions(language="fr"))
    with pytest.raises(ValueError, match="time zone"):
        build_report(run_record(), [], None, [], knowledge, ReportOptions(timezone="Mars/Olympus"))


def test_nothing_inspected(knowledge):
    report = build_report(run_record(), [], None, [], knowledge, ReportOptions(timezone="UTC"))
    assert report.health.limited
    assert "no targets were inspected" in report.health.verdict


def test_options_from_playbook_settings(knowledge):
    class Settings:  # like a playbook's report: section, with None for what it leaves out
        title = "Daily health check"
        organisation = None
        reviewer = "Zhang Min"
        language = "zh"
        formats = ("html",)

    report = build_report(run_record(), current_results(), None, TARGETS, knowledge, Settings())
    assert report.cover.title == "Daily health check" and report.cover.organisation == ""
    assert report.cover.reviewer == "Zhang Min" and report.language == "zh"
    assert report.cover.inspector == "Li Wei"  # from the run
