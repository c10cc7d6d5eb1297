"""A real Prometheus scrapes Patrol's exposition over HTTP with a bearer token.

The exposition comes from ``collector.metrics`` over real Result objects, served by a tiny
stdlib HTTP server that answers 401 without the token (as ``patrol serve`` does); Prometheus is
Debian's binary, started by tests/integration/prometheus.py. The queries are the ones
docs/metrics.md gives.
"""

from __future__ import annotations

import datetime as dt
import secrets
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from checks.result import Metric, Result
from checks.status import Status
from collector.metrics import CONTENT_TYPE, build_registry, render

try:  # tests/integration as a package, or as a plain directory on sys.path (pytest's default)
    from .prometheus import start_prometheus
except ImportError:
    from prometheus import start_prometheus

pytestmark = pytest.mark.integration


@dataclass(frozen=True)
class Agent:
    name: str
    first_seen: dt.datetime | None
    last_seen: dt.datetime | None
    expected_interval_seconds: float | None
    results_received: int


class Site:
    def __init__(self, results, agents):
        self.results, self.agent_records = results, agents

    def latest_results(self):
        return self.results

    def agents(self):
        return self.agent_records


def disk(target, mount, used, total, status):
    return Result(
        target=target,
        check="disk",
        item=mount,
        status=status,
        summary=f"{used}% used of {total / 2**30:.1f} GiB",
        metrics=[
            Metric(name="used", value=used, unit="%"),
            Metric(name="free", value=round(total * (100 - used) / 100), unit="B"),
            Metric(name="total", value=total, unit="B"),
            Metric(name="inodes_free", value=97.1, unit="%"),
        ],
        started_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=20),
        duration_seconds=0.004,
    )


class MetricsServer:
    """GET /metrics with ``Authorization: Bearer <token>``; 401 otherwise; counts what it answered."""

    def __init__(self, registry, token: str) -> None:
        self.answers: list[int] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                if self.headers.get("Authorization") != f"Bearer {token}":
                    self._answer(401, b"missing or wrong token\n", "text/plain", {"WWW-Authenticate": "Bearer"})
                elif self.path != "/metrics":
                    self._answer(404, b"not found\n", "text/plain")
                else:
                    self._answer(200, render(registry), CONTENT_TYPE)

            def _answer(self, code: int, body: bytes, content_type: str, headers: dict | None = None) -> None:
                outer.answers.append(code)
                self.send_response(code)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.host_port = f"127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=10)


@pytest.fixture
def site():
    now = dt.datetime.now(dt.UTC)
    return Site(
        results=[
            disk("db01", "/var", 84.2, 107374182400, Status.WARNING),
            disk("db01", "/", 41.5, 21474836480, Status.OK),
            disk("db01", "/data", 93.7, 536870912000, Status.CRITICAL),
            Result(
                target="web01",
                check="network_interfaces",
                item="eth0",
                status=Status.OK,
                summary="up",
                metrics=[Metric(name="rx", value=1250000.5, unit="B/s"), Metric(name="errors", value=0.2, unit="/s")],
                started_at=now,
                duration_seconds=0.01,
            ),
        ],
        agents=[
            Agent("web01", now - dt.timedelta(days=3), now - dt.timedelta(seconds=5), 60.0, 5120),
            Agent("web02", now - dt.timedelta(days=3), now - dt.timedelta(hours=1), 60.0, 880),
        ],
    )


def test_prometheus_scrapes_the_exposition_with_a_bearer_token(site):
    token = "pat_" + secrets.token_urlsafe(32)
    registry, ingest = build_registry(site)
    ingest.observe("stored", 4, 0.012)
    server = MetricsServer(registry, token)
    try:
        url = f"http://{server.host_port}/metrics"
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(url, timeout=5)
        assert refused.value.code == 401
        request = urllib.request.Request(url, headers={"Authorization": "Bearer not-the-token"})
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=5)
        assert refused.value.code == 401

        with start_prometheus(server.host_port, "/metrics", token) as prom:
            [up] = prom.wait_for('up{job="patrol"}')
            assert up["value"][1] == "1", prom.targets()

            [status] = prom.wait_for('patrol_check_status{target="db01",check="disk",item="/var"}')
            assert status["value"][1] == "1"  # WARNING
            assert status["metric"]["job"] == "patrol" and status["metric"]["instance"] == server.host_port
            assert prom.value('patrol_check_status{item="/data"}') == 2
            assert prom.value('patrol_disk_used_ratio{target="db01",item="/var"}') == pytest.approx(0.842)
            assert prom.value('patrol_disk_free_bytes{item="/var"}') == round(107374182400 * 15.8 / 100)
            assert prom.value("patrol_network_interfaces_rx_bytes_per_second") == 1250000.5
            assert prom.value("patrol_store_up") == 1
            assert prom.value('patrol_ingest_batches_total{outcome="stored"}') == 1

            # The example queries of docs/metrics.md.
            full = prom.query("patrol_disk_used_ratio > 0.9")
            assert [s["metric"]["item"] for s in full] == ["/data"]
            silent = prom.query(
                "time() - patrol_agent_last_seen_timestamp_seconds > 3 * patrol_agent_expected_interval_seconds"
            )
            assert [s["metric"]["agent"] for s in silent] == ["web02"]
    finally:
        server.stop()
    assert server.answers.count(401) == 2
    assert server.answers.count(200) >= 1  # Prometheus scraped with the token
    assert set(server.answers) == {200, 401}
