"""Prometheus names: the unit mapping and the sanitising rules (docs/metrics.md, "Naming")."""

import subprocess

import pytest

from collector.metrics.names import OWN_NAMES, family_name, label_name, snake

PROMTOOL = "/usr/bin/promtool"


@pytest.mark.parametrize(
    ("check", "metric", "unit", "expected"),
    [
        ("disk", "used", "%", "patrol_disk_used_ratio"),
        ("disk", "free", "B", "patrol_disk_free_bytes"),
        ("uptime", "uptime", "s", "patrol_uptime_uptime_seconds"),
        ("network_interfaces", "rx", "B/s", "patrol_network_interfaces_rx_bytes_per_second"),
        ("network_interfaces", "errors", "/s", "patrol_network_interfaces_errors_per_second"),
        ("load", "load15", "", "patrol_load_load15"),
    ],
)
def test_unit_suffixes(check, metric, unit, expected):
    assert family_name(check, metric, unit) == expected


def test_odd_check_names_become_snake_case_ascii():
    assert snake("diskUsed.Free-space") == "disk_used_free_space"
    assert snake("HTTPStatus") == "http_status"
    assert family_name("check_http", "time", "s") == "patrol_check_http_time_seconds"
    assert family_name("My Web-Check", "responseTime", "s") == "patrol_my_web_check_response_time_seconds"
    assert family_name("磁盘", "used", "%") == "patrol_unnamed_used_ratio"
    assert family_name("oracle::tablespace", "used", "%") == "patrol_oracle_tablespace_used_ratio"


def test_a_unit_already_in_the_name_is_not_repeated():
    assert family_name("disk", "free_bytes", "B") == "patrol_disk_free_bytes"
    assert family_name("pool", "used_ratio", "%") == "patrol_pool_used_ratio"


def test_reserved_suffixes_and_patrol_names_get_value():
    # The processes check really has unitless figures named total and count.
    assert family_name("processes", "total", "") == "patrol_processes_total_value"
    assert family_name("processes", "count", "") == "patrol_processes_count_value"
    assert family_name("queue", "latency_sum", "") == "patrol_queue_latency_sum_value"
    assert family_name("swap", "total", "B") == "patrol_swap_total_bytes"  # a unit suffix ends it: fine
    # A check called "check" or "store" must not take over Patrol's own families.
    assert family_name("check", "status", "") == "patrol_check_status_value"
    assert family_name("store", "up", "") == "patrol_store_up_value"
    assert family_name("ingest", "duration", "s") == "patrol_ingest_duration_value_seconds"
    assert family_name("check_last", "run_timestamp", "s") == "patrol_check_last_run_timestamp_value_seconds"


def test_words_promtool_rejects_are_joined_to_a_neighbour():
    assert family_name("http", "response_ms", "") == "patrol_http_responsems"
    assert family_name("fuel", "gauge", "") == "patrol_fuelgauge"
    assert family_name("backup", "age_minutes", "") == "patrol_backup_ageminutes"
    assert family_name("s", "used", "%") == "patrol_sused_ratio"
    assert family_name("k", "b", "") == "patrol_kbvalue"


def test_an_unknown_unit_is_treated_as_none():
    assert family_name("power", "draw", "kWh") == "patrol_power_draw"
    assert family_name("power", "draw", "W") == "patrol_power_draw_watts"


def test_label_names():
    assert label_name("device") == "device"
    assert label_name("Mount Point") == "mount_point"
    assert label_name("fooBar") == "foo_bar"
    assert label_name("__name__") == "name"
    assert label_name("0day") == "label_0day"
    assert label_name("!!!") == "label"
    for taken in ("target", "check", "item", "le", "quantile", "job", "instance"):
        assert label_name(taken) == f"exported_{taken}"


def test_promtool_finds_nothing_in_odd_names():
    """Every name the rules produce for hostile input passes promtool's linter."""
    checks = [
        "disk",
        "check",
        "store",
        "agent",
        "ingest",
        "HTTPCheck",
        "my-check.v2",
        "s",
        "ms",
        "counter",
        "磁盘",
        "_",
    ]
    metrics = [
        "used",
        "total",
        "count",
        "sum",
        "bucket",
        "status",
        "up",
        "response_ms",
        "gauge",
        "age_days",
        "kilobytes_free",
        "last_seen_timestamp",
        "results_received",
        "duration",
        "batch_size",
        "b",
    ]
    lines = []
    names = set()
    for check in checks:
        for metric in metrics:
            for unit in ("", "%", "B", "s", "B/s", "/s"):
                name = family_name(check, metric, unit)
                assert name not in OWN_NAMES
                if name in names:
                    continue
                names.add(name)
                label = label_name(metric + "Label")
                lines += [f"# HELP {name} a figure", f"# TYPE {name} gauge", f'{name}{{{label}="x"}} 1']
    proc = subprocess.run(
        [PROMTOOL, "check", "metrics"], input="\n".join(lines) + "\n", capture_output=True, text=True, timeout=60
    )
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", "")
    assert len(names) > 500
