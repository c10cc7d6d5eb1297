"""The assets section: the facts check's metrics read back per target, changes against the previous
patrol, in every format."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from report_samples import START, TARGETS, current_results, run_record

from checks.result import Metric, Result
from checks.status import Status
from collector.report import ReportOptions, build_report, render
from collector.report.assets import assets_section
from collector.report.figures import key_metrics
from collector.report.model import TargetInfo

GIB = 1024**3
BEFORE = START - dt.timedelta(days=1)


def host_facts(target: str, kernel: str, memory_gib: int, at: dt.datetime, disks=(("sda", 100), ("sdb", 500))):
    return Result(target=target, check="facts", item="", status=Status.OK, summary="facts", started_at=at,
                  duration_seconds=0.3, metrics=[
                      Metric(name="os_info", value=1, labels={"os": "Debian GNU/Linux 12 (bookworm)",
                                                             "kernel": kernel, "arch": "x86_64", "hostname": target}),
                      Metric(name="cpu_info", value=1, labels={"model": "Intel(R) Xeon(R) Gold 6338 CPU @ 2.00GHz"}),
                      Metric(name="cpus", value=16),
                      Metric(name="memory_total", value=memory_gib * GIB, unit="B"),
                      *[Metric(name="disk_size", value=size * GIB, unit="B", labels={"disk": disk, "model": "PM893"})
                        for disk, size in disks],
                      Metric(name="address_info", value=1, labels={"interface": "eth0", "address": "10.0.0.11/24",
                                                                  "family": "ipv4"}),
                  ])


def device_facts(at: dt.datetime, descr: str = "Cisco IOS Software, C2960X Software, Version 15.2(7)E4"):
    return Result(target="sw01", check="facts", item="", status=Status.OK, summary="device facts", started_at=at,
                  duration_seconds=0.1, metrics=[
                      Metric(name="device_info", value=1, labels={"descr": descr, "object_id": "1.3.6.1.4.1.9.1.1208",
                                                                 "name": "sw01.dc1"}),
                      Metric(name="address_info", value=1, labels={"interface": "Vlan10", "address": "10.0.10.2/24",
                                                                  "family": "ipv4"}),
                  ])


@pytest.fixture
def now_and_before():
    now = [host_facts("web01", "6.1.0-27-amd64", 64, START), device_facts(START, "Cisco IOS 15.2(7)E9"),
           host_facts("db01", "6.1.0-18-amd64", 128, START, disks=(("nvme0n1", 1000),))]
    before = [host_facts("web01", "6.1.0-18-amd64", 32, BEFORE), device_facts(BEFORE, "Cisco IOS 15.2(7)E4")]
    return now, before


def test_each_target_has_one_row_with_its_facts(now_and_before):
    now, before = now_and_before
    section = assets_section(now, before)
    assert [a.target for a in section.assets] == ["db01", "sw01", "web01"]
    web01 = section.assets[2]
    assert web01.os == "Debian GNU/Linux 12 (bookworm)" and web01.kernel == "6.1.0-27-amd64 x86_64"
    assert web01.value("cpu") == "16 × Intel(R) Xeon(R) Gold 6338 CPU @ 2.00GHz"
    assert web01.value("memory") == "64.0 GiB"
    assert web01.value("disks") == "sda 100.0 GiB (PM893), sdb 500.0 GiB (PM893)"
    assert web01.disk_bytes == 600 * GIB
    assert web01.value("addresses") == "eth0 10.0.0.11/24"
    sw01 = section.assets[1]
    assert sw01.is_device and sw01.value("device") == "sw01.dc1 1.3.6.1.4.1.9.1.1208"
    assert sw01.os == "Cisco IOS 15.2(7)E9" and sw01.value("cpu") == ""


def test_changes_since_the_previous_patrol_are_listed_field_by_field(now_and_before):
    now, before = now_and_before
    section = assets_section(now, before)
    assert [(c.target, c.field, c.before, c.after) for c in section.changes] == [
        ("sw01", "os", "Cisco IOS 15.2(7)E4", "Cisco IOS 15.2(7)E9"),
        ("web01", "kernel", "6.1.0-18-amd64 x86_64", "6.1.0-27-amd64 x86_64"),
        ("web01", "memory", "32.0 GiB", "64.0 GiB"),
    ]
    assert section.compared == 2 and section.new_targets == ["db01"]
    # without a previous patrol nothing is called new or changed
    first = assets_section(now, None)
    assert first.changes == [] and first.new_targets == [] and first.compared == 0
    assert assets_section(current_results(), None) is None  # nobody ran facts


def test_info_metrics_are_not_shown_as_figures():
    facts = host_facts("web01", "6.1.0-27-amd64", 64, START)
    assert key_metrics(facts.metrics, facts.thresholds) == ["cpus 16", "memory total 64.0 GiB",
                                                            "disk size [sda,PM893] 100.0 GiB",
                                                            "disk size [sdb,PM893] 500.0 GiB"]


def test_every_format_has_the_assets_and_their_changes(now_and_before, knowledge, tmp_path):
    now, before = now_and_before
    targets = [*TARGETS, TargetInfo("sw01", "10.0.10.2", "network", ())]
    report = build_report(run_record(), [*current_results(), *now], before, targets, knowledge,
                          ReportOptions(timezone="UTC"), now=START)
    paths = render(report, ["html", "md", "json", "xlsx"], tmp_path, "r")
    html = paths["html"].read_text(encoding="utf-8")
    assert "<h2>Assets and configuration</h2>" in html and "<h3>Changed since the previous patrol (3)</h3>" in html
    assert "<td>web01</td><td>Memory</td><td class=\"summary\">32.0 GiB</td><td><strong>64.0 GiB</strong></td>" in html
    assert 'db01 <span class="trend trend-new">new</span>' in html
    md = paths["md"].read_text(encoding="utf-8")
    assert "| web01 | Kernel | 6.1.0-18-amd64 x86_64 | **6.1.0-27-amd64 x86_64** |" in md
    assert "| sw01 | Cisco IOS 15.2(7)E9 (sw01.dc1 1.3.6.1.4.1.9.1.1208) |" in md
    data = json.loads(paths["json"].read_text(encoding="utf-8"))
    assert [(c["target"], c["field"]) for c in data["assets"]["changes"]] == [
        ("sw01", "os"), ("web01", "kernel"), ("web01", "memory")]
    from openpyxl import load_workbook

    book = load_workbook(paths["xlsx"])
    rows = [[c.value for c in row] for row in book["Assets"].iter_rows(min_row=2)]
    assert [r[0] for r in rows] == ["db01", "sw01", "web01"] and rows[2][4] == 64 * GIB
    assert [[c.value for c in row] for row in book["Asset changes"].iter_rows(min_row=2)][0] == [
        "sw01", "Operating system", "Cisco IOS 15.2(7)E4", "Cisco IOS 15.2(7)E9"]


def test_chinese_report_names_the_fields_in_chinese(now_and_before, knowledge):
    now, before = now_and_before
    from collector.report.render import render_text

    report = build_report(run_record(), now, before, TARGETS, knowledge, ReportOptions(language="zh"), now=START)
    html = render_text(report, "html")
    assert "<h2>资产与配置</h2>" in html and "<td>内核</td>" in html and "自上次巡检以来的变更" in html


def test_a_full_json_report_validates_against_the_published_schema(now_and_before, knowledge, tmp_path):
    """docs/report.schema.json is generated from the model; a report with every section must satisfy it."""
    import jsonschema

    from collector.report.capacity import capacity_rows
    from collector.report.events import events_section
    from collector.report.model import DayStatus

    now, before = now_and_before
    day = dt.timedelta(days=1)
    report = build_report(
        run_record(), [*current_results(), *now], before, TARGETS, knowledge, ReportOptions(), now=START,
        events=events_section([], [], START - day, START, {"web01"}),
        capacity=capacity_rows({("web01", "disk", "/"): [(START - n * day, 80.0 - n) for n in range(5)]}),
        trend=[DayStatus(day=START.date(), ok=3, warning=1, critical=0, unknown=0)],
        since={("db01", "swap", ""): START - day},
    )
    data = json.loads(render(report, ["json"], tmp_path, "r")["json"].read_text(encoding="utf-8"))
    schema = json.loads((Path(__file__).resolve().parents[3] / "docs" / "report.schema.json").read_text())
    jsonschema.validate(data, schema)
    assert data["schema"] == "patrol.report/1" and data["assets"] and data["events"] and data["capacity"]
    broken = {**data, "findings": [{**data["findings"][0], "status": "BROKEN"}]}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, schema)
