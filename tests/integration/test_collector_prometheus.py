"""A real Prometheus (Debian package) scrapes a real `patrol serve` with a metrics token."""
import pytest

from .collector_support import Collector, batch, result
from .prometheus import start_prometheus

pytestmark = pytest.mark.integration


def test_prometheus_scrapes_the_collector_and_finds_the_series(tmp_path):
    c = Collector(tmp_path)
    c.write_files()
    c.create_token("agent", "web01")
    token = c.create_token("metrics", "prometheus")
    c.start()
    try:
        assert c.push(batch("web01", [result("web01", check="memory", value=91.5),
                                      result("web01", check="disk", item="/var", value=42.0)])).status_code == 200
        with start_prometheus(f"127.0.0.1:{c.port}", "/metrics", token) as prometheus:
            up = prometheus.wait_for("up", until=lambda series: any(s["value"][1] == "1" for s in series))
            assert up[0]["value"][1] == "1"
            [memory] = prometheus.wait_for('patrol_memory_used_ratio{target="web01"}')
            assert float(memory["value"][1]) == pytest.approx(0.915)
            [disk] = prometheus.wait_for('patrol_disk_used_ratio{target="web01",item="/var"}')
            assert float(disk["value"][1]) == pytest.approx(0.42)
            statuses = prometheus.wait_for('patrol_check_status{target="web01"}', until=lambda s: len(s) == 2)
            assert {s["metric"]["check"] for s in statuses} == {"memory", "disk"}
            assert prometheus.wait_for("patrol_agent_last_seen_timestamp_seconds")
    finally:
        c.kill(15)


def test_prometheus_without_a_token_is_refused(tmp_path):
    c = Collector(tmp_path)
    c.write_files()
    c.start()
    try:
        with start_prometheus(f"127.0.0.1:{c.port}", "/metrics", None) as prometheus:
            [up] = prometheus.wait_for("up")
            assert up["value"][1] == "0"
            assert "401" in next(t["lastError"] for t in prometheus.targets())
    finally:
        c.kill(15)
