"""Rendering the report: HTML, JSON and Markdown files, written atomically."""

from __future__ import annotations

import json
import os
import re

import pytest
from report_samples import TARGETS, current_results, previous_results, run_record

from checks.status import Status
from collector.report import ReportOptions, build_report, render
from collector.report.charts import gauge, status_bar
from collector.report.render import anchor, format_duration, markdown_cell


def test_all_three_formats(report, tmp_path):
    paths = render(report, ["html", "json", "md"], tmp_path / "reports", "daily-patrol-2026-11-23")

    assert {fmt: p.name for fmt, p in paths.items()} == {
        "html": "daily-patrol-2026-11-23.html",
        "json": "daily-patrol-2026-11-23.json",
        "md": "daily-patrol-2026-11-23.md",
    }
    assert sorted(p.name for p in (tmp_path / "reports").iterdir()) == sorted(p.name for p in paths.values())


def test_html_is_self_contained_and_shows_every_finding(report, tmp_path):
    html = render(report, ["html"], tmp_path, "r")["html"].read_text(encoding="utf-8")

    assert html.startswith("<!DOCTYPE html>")
    assert "<svg" in html and 'class="gauge-arc"' in html and 'class="bar-critical"' in html
    # Nothing fetched from elsewhere: the only URLs are XML namespace names, which are never fetched.
    assert "<script" not in html and "http" not in re.sub(r'xmlns(:\w+)?="http://www\.w3\.org/[^"]+"', "", html)
    assert "@media print" in html and "size: A4" in html
    for finding in report.findings:
        assert finding.observed_text.replace(">", "&gt;").replace("<", "&lt;") in html
        assert f">{finding.target}</a>" in html
    assert "used 91.2% &gt; 90 (critical)" in html
    assert html.count('class="pill pill-critical"') >= 3
    assert "Failed collections (2)" in html and "no results" in html and "timed out after 30 s" in html
    assert "Resolved since the previous patrol (2)" in html
    assert "ACME Data Centre" in html and "Zhang Min" in html and "Sign-off" in html
    assert "<code>lvextend -r -L +20G VG/LV</code>" in html  # commands in recommendations
    assert "2026-11-23 08:00:05" in html  # shown in the report's zone (Asia/Shanghai)


def test_html_escapes_what_checks_report(knowledge, tmp_path):
    from report_samples import result

    hostile = result(
        "web01", "processes", Status.CRITICAL, "<script>alert(1)</script> missing", item="<b>x</b>"
    )
    report = build_report(run_record(), [hostile], None, [], knowledge, ReportOptions(timezone="UTC"))
    html = render(report, ["html"], tmp_path, "r")["html"].read_text(encoding="utf-8")
    markdown = render(report, ["md"], tmp_path, "r")["md"].read_text(encoding="utf-8")
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>" not in markdown and "<b>" not in markdown


def test_json_is_the_model_with_its_schema(report, tmp_path):
    data = json.loads(render(report, ["json"], tmp_path, "r")["json"].read_text(encoding="utf-8"))

    assert data["schema"] == "patrol.report/1"
    assert data["cover"]["schema_version"] == "patrol.report/1"
    assert data["health"]["score"] == 51 and data["health"]["band"] == "critical"
    assert data["overview"]["status_counts"] == {"OK": 6, "WARNING": 3, "CRITICAL": 3, "UNKNOWN": 1}
    assert data["findings"][0]["status"] == "CRITICAL" and data["findings"][0]["trend"] == "persisting"
    assert data["findings"][1]["observed"][0]["breached"] == "critical"
    assert data["overview"]["failed_collections"][1] == {
        "target": "app01",
        "check": None,
        "item": "",
        "reason": "no results",
    }
    assert data["cover"]["started_at"] == "2026-11-23T00:00:05Z"
    web01 = data["categories"][0]["targets"][2]
    assert web01["name"] == "web01" and web01["results"][1]["metrics"][0]["value"] == 91.2


def test_markdown_has_the_findings_table(report, tmp_path):
    text = render(report, ["md"], tmp_path, "r")["md"].read_text(encoding="utf-8")

    assert text.startswith("# Inspection report\n")
    assert "| # | Status | Target | Check | Item | Observed vs threshold | Trend | Since | Recommendation |" in text
    rows = [line for line in text.splitlines() if re.match(r"^\| \d+ \| \*\*", line)]
    assert len(rows) == len(report.findings)
    assert rows[0].startswith("| 1 | **CRITICAL** | db01 | swap |  | free 12% < 20 (critical) | persisting |")
    assert all(len(re.findall(r"(?<!\\)\|", line)) == 10 for line in rows)  # escaped pipes keep 9 columns
    assert "\\| head" in text
    assert "**Health score: 51/100**" in text
    assert "| app01 | — |  | no results |" in text


def test_chinese_html(knowledge, tmp_path):
    options = ReportOptions(
        language="zh", organisation="某数据中心", reviewer="张敏", timezone="Asia/Shanghai"
    )
    report = build_report(run_record(), current_results(), previous_results(), TARGETS, knowledge, options)
    html = render(report, ["html"], tmp_path, "r")["html"].read_text(encoding="utf-8")
    assert '<html lang="zh-CN">' in html
    for words in ("巡检报告", "健康评分", "发现的问题", "采集失败", "处理建议", "签字确认", "严重", "持续"):
        assert words in html


def test_unknown_format_or_bad_name_writes_nothing(report, tmp_path):
    with pytest.raises(ValueError, match="docx"):
        render(report, ["html", "docx"], tmp_path, "r")
    with pytest.raises(ValueError, match="file name"):
        render(report, ["html"], tmp_path, "../r")
    assert list(tmp_path.iterdir()) == []


def test_a_failed_write_leaves_the_old_report_and_no_temporary_file(report, tmp_path, monkeypatch):
    render(report, ["md"], tmp_path, "r")
    before = (tmp_path / "r.md").read_text(encoding="utf-8")

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        render(report, ["md"], tmp_path, "r")
    assert (tmp_path / "r.md").read_text(encoding="utf-8") == before
    assert [p.name for p in tmp_path.iterdir()] == ["r.md"]


def test_gauge_geometry():
    empty, half, full = gauge(0, "critical"), gauge(50, "critical"), gauge(100, "excellent")
    assert empty.arc is None
    assert half.arc.endswith(f"{half.centre_x} {half.centre_y - 80}")  # the top of the half circle
    assert full.arc == full.track
    assert full.colour != half.colour


def test_status_bar_segments():
    segments = status_bar({Status.OK: 6, Status.WARNING: 3, Status.CRITICAL: 0, Status.UNKNOWN: 1}, width=600)
    assert [(s.status, s.count, s.x, s.width) for s in segments] == [
        (Status.OK, 6, 0.0, 360.0),
        (Status.WARNING, 3, 360.0, 180.0),
        (Status.UNKNOWN, 1, 540.0, 60.0),
    ]
    assert status_bar({Status.OK: 0}) == []


@pytest.mark.parametrize(
    "seconds, en, zh",
    [
        (None, "—", "—"),
        (2.345, "2.3 s", "2.3 秒"),
        (47, "47 s", "47 秒"),
        (185, "3 min 5 s", "3 分 5 秒"),
        (3725, "1 h 2 min", "1 小时 2 分"),
    ],
)
def test_durations(seconds, en, zh):
    assert format_duration(seconds, "en") == en
    assert format_duration(seconds, "zh") == zh


def test_markdown_cells():
    assert markdown_cell("a | b\nc") == "a \\| b c"
    assert markdown_cell("x < 10 and <img src=x>") == "x < 10 and &lt;img src=x>"


def test_the_printed_report_gives_each_target_one_line_and_each_recommendation_once(knowledge):
    """compact (the PDF): the findings carry the problems and refer to numbered recommendations stated
    once; the details are one line per target with its counts by status."""
    from report_samples import GIB, START, TARGETS, current_results, disk, run_record

    from checks.status import Status
    from collector.report.render import render_text

    # two more full root file systems: the same advice as web01's, three times over
    results = [*current_results(), disk("web02", "/", 95.0, 1 * GIB, Status.CRITICAL),
               disk("db01", "/", 96.0, 1 * GIB, Status.CRITICAL)]
    report = build_report(run_record(), results, None, TARGETS, knowledge, ReportOptions(), now=START)
    printed, full = render_text(report, "html", compact=True), render_text(report, "html")
    distinct = list(dict.fromkeys(f.recommendation for f in report.findings))
    assert len(distinct) < len(report.findings)  # the sample repeats one: stated once in print
    for number, _ in enumerate(distinct, 1):
        assert printed.count(f'<tr id="advice-{number}">') == 1
    numbers = {text: n for n, text in enumerate(distinct, 1)}
    refs = [f"<td>R{numbers[f.recommendation]}</td></tr>" for f in report.findings]
    assert all(printed.count(ref) == refs.count(ref) for ref in refs)  # each finding names its recommendation
    web01 = next(t for s in report.categories for t in s.targets if t.name == "web01")
    line = printed.split(f'<tr id="{anchor("web01")}">')[1].split("</tr>")[0]
    for status in ("OK", "WARNING", "CRITICAL"):
        count = sum(1 for r in web01.results if r.status.value == status)
        assert (f"{count} {status}" in line) == (count > 0)
    assert '<td class="check">' not in printed.split('<section class="details">')[1]
    assert '<tr id="advice-' not in full and '<td class="check">' in full.split('<section class="details">')[1]
