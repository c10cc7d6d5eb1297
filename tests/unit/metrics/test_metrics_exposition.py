"""The /metrics exposition over real Result objects: names, labels, values, agents, failures, promtool."""

import dataclasses
import datetime as dt
import logging
import subprocess

import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.exposition import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from checks.host.disk import DiskCheck
from checks.registry import default_registry
from checks.result import Metric, Result, ThresholdSpec
from checks.status import Status
from collector.metrics import CONTENT_TYPE, PatrolCollector, PatrolFamily, build_registry, render

PROMTOOL = "/usr/bin/promtool"
NOW = dt.datetime(2026, 11, 23, 8, 0, 2, 113000, tzinfo=dt.UTC)


@dataclasses.dataclass(frozen=True)
class Agent:
    """An agent as the store describes it (collector.store's AgentRecord has the same fields)."""

    name: str
    first_seen: dt.datetime | None
    last_seen: dt.datetime | None
    expected_interval_seconds: float | None
    results_received: int


class Site:
    """A source: the newest results and the agents, as the store hands them over."""

    def __init__(self, results=(), agents=()):
        self.results = list(results)
        self.agent_records = list(agents)

    def latest_results(self):
        return self.results

    def agents(self):
        return self.agent_records


class BrokenStore:
    def __init__(self, results_fail=True, agents_fail=True, results=()):
        self.results_fail, self.agents_fail, self.results = results_fail, agents_fail, list(results)

    def latest_results(self):
        if self.results_fail:
            raise OSError("database is locked")
        return self.results

    def agents(self):
        if self.agents_fail:
            raise RuntimeError("no such table: agents")
        return [Agent("web01", NOW, NOW, 60.0, 10)]


def m(name, value, unit="", **labels):
    return Metric(name=name, value=value, unit=unit, labels=labels)


def result(target, check, item="", status=Status.OK, metrics=(), collected=True, started_at=NOW, summary="ok"):
    return Result(
        target=target,
        check=check,
        item=item,
        status=status,
        summary=summary,
        metrics=list(metrics),
        started_at=started_at,
        duration_seconds=0.004,
        collected=collected,
    )


DB01_VAR = Result(
    target="db01",
    check="disk",
    item="/var",
    status=Status.WARNING,
    summary="84.2% used, 15.8 GiB free of 100.0 GiB (xfs), inodes 97.1% free (used 84.2% > 80)",
    metrics=[
        m("used", 84.2, "%"),
        m("free", 16965120000, "B"),
        m("total", 107374182400, "B"),
        m("inodes_free", 97.1, "%"),
    ],
    thresholds=[ThresholdSpec(metric="used", warning="80", critical="90")],
    started_at=NOW,
    duration_seconds=0.004,
)

SITE_RESULTS = [
    DB01_VAR,
    result("db01", "disk", "/", metrics=[m("used", 41.5, "%"), m("free", 5.9e9, "B"), m("total", 1.07e10, "B")]),
    result("db01", "cpu", status=Status.CRITICAL, metrics=[m("utilisation", 97.3, "%"), m("iowait", 12.25, "%")]),
    result(
        "web01",
        "network_interfaces",
        "eth0",
        metrics=[
            m("up", 1),
            m("rx", 1250000.5, "B/s"),
            m("tx", 350000, "B/s"),
            m("errors", 0.2, "/s"),
            m("utilisation", 1.0, "%"),
        ],
    ),
    result("web01", "uptime", metrics=[m("uptime", 864000.5, "s")]),
    result("web01", "processes", metrics=[m("total", 212), m("zombies", 0), m("pid_usage", 0.05, "%")]),
    result("web01", "processes", "sshd", metrics=[m("count", 3)]),
    result(
        "web02",
        "load",
        status=Status.UNKNOWN,
        collected=False,
        summary="timed out after 30 s",
        started_at=NOW - dt.timedelta(minutes=5),
    ),
]

AGENTS = [
    Agent("web01", NOW - dt.timedelta(days=9), NOW - dt.timedelta(seconds=30), 60.0, 18234),
    Agent("web02", NOW - dt.timedelta(days=9), NOW - dt.timedelta(hours=1), 60.0, 9120),
    Agent("web03", None, None, None, 0),  # has a token, never reported
]


def samples(body: bytes) -> dict:
    """The exposition parsed back: {(sample name, frozenset of labels): value}."""
    out = {}
    for family in text_string_to_metric_families(body.decode()):
        for s in family.samples:
            key = (s.name, frozenset(s.labels.items()))
            assert key not in out, f"duplicate series {key}"
            out[key] = s.value
    return out


def families(body: bytes) -> dict:
    return {f.name: f for f in text_string_to_metric_families(body.decode())}


def key(name, **labels):
    return (name, frozenset(labels.items()))


def scrape(source, **kwargs) -> bytes:
    registry = CollectorRegistry()
    registry.register(PatrolCollector(source, **kwargs))
    return render(registry)


def promtool(body: bytes) -> subprocess.CompletedProcess:
    return subprocess.run([PROMTOOL, "check", "metrics"], input=body, capture_output=True, timeout=60)


# -- per result ---------------------------------------------------------------------------------


def test_status_collected_and_last_run_per_result():
    got = samples(scrape(Site(SITE_RESULTS)))
    var = {"target": "db01", "check": "disk", "item": "/var"}
    assert got[key("patrol_store_up")] == 1
    assert got[key("patrol_check_status", **var)] == 1  # WARNING
    assert got[key("patrol_check_status", target="db01", check="disk", item="/")] == 0
    assert got[key("patrol_check_status", target="db01", check="cpu", item="")] == 2
    assert got[key("patrol_check_status", target="web02", check="load", item="")] == 3
    assert got[key("patrol_check_collected", **var)] == 1
    assert got[key("patrol_check_collected", target="web02", check="load", item="")] == 0
    assert got[key("patrol_check_last_run_timestamp_seconds", **var)] == pytest.approx(NOW.timestamp())
    assert got[key("patrol_check_last_run_timestamp_seconds", target="web02", check="load", item="")] == (
        pytest.approx((NOW - dt.timedelta(minutes=5)).timestamp())
    )
    assert NOW.timestamp() == pytest.approx(1795420802.113)
    statuses = [k for k in got if k[0] == "patrol_check_status"]
    assert len(statuses) == len(SITE_RESULTS)


def test_figures_by_unit_with_percent_as_ratio():
    got = samples(scrape(Site(SITE_RESULTS)))
    var = {"target": "db01", "check": "disk", "item": "/var"}
    assert got[key("patrol_disk_used_ratio", **var)] == pytest.approx(0.842)
    assert got[key("patrol_disk_inodes_free_ratio", **var)] == pytest.approx(0.971)
    assert got[key("patrol_disk_free_bytes", **var)] == 16965120000
    assert got[key("patrol_disk_total_bytes", **var)] == 107374182400
    assert got[key("patrol_disk_used_ratio", target="db01", check="disk", item="/")] == pytest.approx(0.415)
    eth0 = {"target": "web01", "check": "network_interfaces", "item": "eth0"}
    assert got[key("patrol_network_interfaces_rx_bytes_per_second", **eth0)] == 1250000.5
    assert got[key("patrol_network_interfaces_tx_bytes_per_second", **eth0)] == 350000
    assert got[key("patrol_network_interfaces_errors_per_second", **eth0)] == pytest.approx(0.2)
    assert got[key("patrol_network_interfaces_utilisation_ratio", **eth0)] == pytest.approx(0.01)
    assert got[key("patrol_network_interfaces_up", **eth0)] == 1
    assert got[key("patrol_uptime_uptime_seconds", target="web01", check="uptime", item="")] == 864000.5
    web01 = {"target": "web01", "check": "processes"}
    assert got[key("patrol_processes_total_value", item="", **web01)] == 212
    assert got[key("patrol_processes_count_value", item="sshd", **web01)] == 3
    assert got[key("patrol_processes_pid_usage_ratio", item="", **web01)] == pytest.approx(0.0005)
    # A result that collected nothing has its status series and no figures.
    assert not [k for k in got if dict(k[1]).get("target") == "web02" and not k[0].startswith("patrol_check_")]


def test_every_family_is_a_gauge_with_help_from_the_check_registry():
    fams = families(scrape(Site(SITE_RESULTS)))
    for name, family in fams.items():
        assert family.type == ("counter" if name == "patrol_agent_results_received" else "gauge"), name
        assert family.documentation, name
    assert fams["patrol_disk_used_ratio"].documentation.startswith(DiskCheck.metrics["used"])
    assert "ratio" in fams["patrol_disk_used_ratio"].documentation
    assert fams["patrol_disk_free_bytes"].documentation == DiskCheck.metrics["free"]
    processes = default_registry().get("processes")
    assert fams["patrol_processes_total_value"].documentation == processes.metrics["total"]


def test_help_of_a_check_the_registry_does_not_know():
    site = Site([result("db01", "oracle_tablespace", "USERS", metrics=[m("used", 71.0, "%")])])
    fams = families(scrape(site))
    assert fams["patrol_oracle_tablespace_used_ratio"].documentation == (
        "used reported by the oracle_tablespace check (%, exported as a 0-1 ratio)"
    )
    fams = families(scrape(site, descriptions=lambda check: {"used": "tablespace space used (%)"}))
    assert fams["patrol_oracle_tablespace_used_ratio"].documentation == (
        "tablespace space used (%) (exported as a 0-1 ratio)"
    )


def test_a_figures_own_labels_are_added_and_sanitised():
    site = Site(
        [
            result(
                "db01",
                "cpu",
                metrics=[m("core_utilisation", 12.5, "%", core="0"), m("core_utilisation", 80.0, "%", core="1")],
            ),
            result(
                "db01", "smart", "sda", metrics=[m("temperature", 38, "", **{"Sensor Name": "drive", "target": "x"})]
            ),
        ]
    )
    got = samples(scrape(site))
    cpu = {"target": "db01", "check": "cpu", "item": ""}
    assert got[key("patrol_cpu_core_utilisation_ratio", core="0", **cpu)] == pytest.approx(0.125)
    assert got[key("patrol_cpu_core_utilisation_ratio", core="1", **cpu)] == pytest.approx(0.8)
    smart = {"target": "db01", "check": "smart", "item": "sda"}
    assert got[key("patrol_smart_temperature", sensor_name="drive", exported_target="x", **smart)] == 38


def test_label_values_are_escaped():
    item = 'C:\\data "main"\nsecond line'
    body = scrape(Site([result("win01", "disk", item, metrics=[m("used", 50, "%")])]))
    assert samples(body)[key("patrol_disk_used_ratio", target="win01", check="disk", item=item)] == 0.5
    assert promtool(body).returncode == 0


def test_the_same_series_twice_is_exposed_once():
    first = result("db01", "disk", "/var", metrics=[m("used", 84.2, "%"), m("used", 10.0, "%")])
    second = result("db01", "disk", "/var", status=Status.CRITICAL, metrics=[m("used", 95.0, "%")])
    got = samples(scrape(Site([first, second])))  # samples() fails on a duplicate series
    var = {"target": "db01", "check": "disk", "item": "/var"}
    assert got[key("patrol_disk_used_ratio", **var)] == pytest.approx(0.842)
    assert got[key("patrol_check_status", **var)] == 0


# -- agents -------------------------------------------------------------------------------------


def test_agents():
    body = scrape(Site(agents=AGENTS))
    got = samples(body)
    assert got[key("patrol_agent_last_seen_timestamp_seconds", agent="web01")] == pytest.approx(NOW.timestamp() - 30)
    assert got[key("patrol_agent_last_seen_timestamp_seconds", agent="web02")] == pytest.approx(NOW.timestamp() - 3600)
    assert got[key("patrol_agent_expected_interval_seconds", agent="web01")] == 60
    assert got[key("patrol_agent_results_received_total", agent="web01")] == 18234
    assert got[key("patrol_agent_results_received_total", agent="web03")] == 0
    # Never seen, no plan: no last-seen or interval series rather than a made-up value.
    assert key("patrol_agent_last_seen_timestamp_seconds", agent="web03") not in got
    assert key("patrol_agent_expected_interval_seconds", agent="web03") not in got
    assert families(body)["patrol_agent_results_received"].type == "counter"


def test_naive_datetimes_from_a_store_are_utc():
    naive = NOW.replace(tzinfo=None)
    got = samples(scrape(Site(agents=[Agent("web01", naive, naive, 60.0, 1)])))
    assert got[key("patrol_agent_last_seen_timestamp_seconds", agent="web01")] == pytest.approx(NOW.timestamp())


# -- failures -----------------------------------------------------------------------------------


def test_a_failing_store_gives_store_up_0_not_a_failed_scrape(caplog):
    with caplog.at_level(logging.WARNING):
        got = samples(scrape(BrokenStore()))
    assert got == {key("patrol_store_up"): 0}
    assert "database is locked" in caplog.text


def test_what_could_be_read_is_still_published():
    got = samples(scrape(BrokenStore(results_fail=False, agents_fail=True, results=[DB01_VAR])))
    assert got[key("patrol_store_up")] == 0
    assert got[key("patrol_disk_used_ratio", target="db01", check="disk", item="/var")] == pytest.approx(0.842)
    got = samples(scrape(BrokenStore(results_fail=True, agents_fail=False)))
    assert got[key("patrol_store_up")] == 0
    assert got[key("patrol_agent_results_received_total", agent="web01")] == 10


def test_a_malformed_record_is_skipped_and_the_others_published(caplog):
    class NotAResult:
        target, check, item = "db01", "disk", "/x"

    with caplog.at_level(logging.WARNING):
        got = samples(scrape(Site([NotAResult(), DB01_VAR])))
    assert got[key("patrol_store_up")] == 1
    assert got[key("patrol_disk_used_ratio", target="db01", check="disk", item="/var")] == pytest.approx(0.842)
    assert "skipped 1 result" in caplog.text


def test_a_source_is_read_at_every_scrape():
    site = Site([DB01_VAR])
    registry, _ingest = build_registry(site)
    assert len([k for k in samples(render(registry)) if k[0] == "patrol_check_status"]) == 1
    site.results.append(result("db02", "disk", "/", metrics=[m("used", 5.0, "%")]))
    assert len([k for k in samples(render(registry)) if k[0] == "patrol_check_status"]) == 2


# -- the exposition as a whole ------------------------------------------------------------------


def test_render_says_what_generate_latest_says():
    registry, ingest = build_registry(Site(SITE_RESULTS, AGENTS))
    ingest.observe("stored", 4, 0.012)
    fast, generic = render(registry), generate_latest(registry)
    assert samples(fast) == samples(generic)
    assert {n: (f.type, f.documentation) for n, f in families(fast).items()} == {
        n: (f.type, f.documentation) for n, f in families(generic).items()
    }
    assert registry.get_sample_value("patrol_disk_used_ratio", {"target": "db01", "check": "disk", "item": "/var"}) == (
        pytest.approx(0.842)
    )
    assert CONTENT_TYPE == "text/plain; version=0.0.4; charset=utf-8"


def test_values_that_are_not_finite_are_written_as_prometheus_spells_them():
    family = PatrolFamily("patrol_test_value", "a test")
    family.add('a="1"', float("inf"))
    family.add('a="2"', float("-inf"))
    family.add('a="3"', float("nan"))
    family.add('a="4"', 3)
    assert family.text().splitlines()[2:] == [
        'patrol_test_value{a="1"} +Inf',
        'patrol_test_value{a="2"} -Inf',
        'patrol_test_value{a="3"} NaN',
        'patrol_test_value{a="4"} 3.0',
    ]


def test_promtool_finds_nothing_in_a_realistic_exposition(host_data, make_ctx, required_params):
    """Every built-in check run on a real host's figures, the hand-made site, agents and ingest counters."""
    from_checks = []
    for name in default_registry().names():
        check = default_registry().get(name)
        from_checks += check.execute(make_ctx(host_data), check.validate(required_params.get(name, {})))
    units = {metric.unit for r in from_checks + SITE_RESULTS for metric in r.metrics}
    assert units == {"", "%", "B", "s", "B/s", "/s"}
    registry, ingest = build_registry(Site(from_checks + SITE_RESULTS, AGENTS))
    for outcome, size, seconds in (("stored", 12, 0.02), ("duplicate", 12, 0.001), ("rejected", 0, 0.0005)):
        ingest.observe(outcome, size, seconds)
    body = render(registry)
    got = samples(body)
    assert key("patrol_cpu_utilisation_ratio", target="vm1", check="cpu", item="") in got
    assert key("patrol_ingest_batches_total", outcome="stored") in got
    proc = promtool(body)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, b"", b""), body.decode()


def test_records_built_as_the_store_builds_them():
    """The store skips validation (model_construct) and SQLite hands back naive UTC datetimes."""
    naive = NOW.replace(tzinfo=None)
    stored = Result.model_construct(
        target="db01", check="disk", item="/var", status=Status.WARNING, summary="84.2% used",
        metrics=[Metric.model_construct(name="used", value=84.2, unit="%", labels={}),
                 Metric.model_construct(name="free", value=16965120000, unit="B", labels={})],
        started_at=naive, duration_seconds=0.004, collected=True,
    )  # fmt: skip
    got = samples(scrape(Site([stored])))
    var = {"target": "db01", "check": "disk", "item": "/var"}
    assert got[key("patrol_check_status", **var)] == 1
    assert got[key("patrol_check_last_run_timestamp_seconds", **var)] == pytest.approx(NOW.timestamp())
    assert got[key("patrol_disk_used_ratio", **var)] == pytest.approx(0.842)
    assert got[key("patrol_disk_free_bytes", **var)] == 16965120000
