"""A real Prometheus server for tests: scrapes one target every second with a bearer token.

    prom = start_prometheus("127.0.0.1:8080", "/metrics", token)
    try:
        prom.wait_for('up{job="patrol"} == 1')
        [series] = prom.query('patrol_disk_used_ratio{item="/var"}')
    finally:
        prom.stop()

(or ``with start_prometheus(...) as prom:``). Debian's binary (/usr/bin/prometheus, package
``prometheus``, installed by scripts/test-deps) runs on a free 127.0.0.1 port with its config,
token file and TSDB in a temporary directory, removed by ``stop()``. The first scrape comes about
5 s after the server is ready, so poll with ``wait_for`` rather than sleeping. Any failure (the
server does not start, a query never returns data) raises with the server's log and the target's
last scrape error, never skips.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path

PROMETHEUS = "/usr/bin/prometheus"
JOB = "patrol"

CONFIG = """\
global:
  scrape_interval: {interval}
  scrape_timeout: {interval}
  evaluation_interval: {interval}
scrape_configs:
  - job_name: {job}
    metrics_path: {path}
    scheme: http
{authorization}    static_configs:
      - targets: [{target}]
"""


class PrometheusError(AssertionError):
    """Prometheus did not start, or did not answer as expected; the message carries its log."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PrometheusServer:
    """A running Prometheus: ``url``, ``query(promql)``, ``wait_for(promql)``, ``stop()``."""

    def __init__(self, process: subprocess.Popen, url: str, directory: Path, log_file) -> None:
        self.process = process
        self.url = url
        self.directory = directory
        self._log_file = log_file

    # -- HTTP API -------------------------------------------------------------------------------

    def _get(self, path: str, params: dict | None = None, timeout: float = 10.0) -> dict:
        url = self.url + path + ("?" + urllib.parse.urlencode(params) if params else "")
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:
                body = response.read()
        except urllib.error.HTTPError as exc:
            raise PrometheusError(f"GET {url}: HTTP {exc.code}: {exc.read().decode(errors='replace')}") from None
        answer = json.loads(body)
        if answer.get("status") != "success":
            raise PrometheusError(f"GET {url}: {answer}")
        return answer["data"]

    def query(self, promql: str) -> list[dict]:
        """An instant query: the result vector, ``[{"metric": {...}, "value": [time, "text"]}, ...]``."""
        data = self._get("/api/v1/query", {"query": promql})
        return (
            data["result"] if data["resultType"] in ("vector", "matrix") else [{"metric": {}, "value": data["result"]}]
        )

    def value(self, promql: str) -> float:
        """The value of a query that must return exactly one series."""
        result = self.query(promql)
        if len(result) != 1:
            raise PrometheusError(f"{promql}: expected one series, got {result}")
        return float(result[0]["value"][1])

    def targets(self) -> list[dict]:
        return self._get("/api/v1/targets")["activeTargets"]

    def wait_for(self, promql: str, timeout: float = 45.0, until: Callable[[list[dict]], bool] = bool) -> list[dict]:
        """Poll ``promql`` until ``until(result)`` holds (default: some data); return that result."""
        deadline = time.monotonic() + timeout
        result: list[dict] = []
        while time.monotonic() < deadline:
            self._check_alive()
            result = self.query(promql)
            if until(result):
                return result
            time.sleep(0.25)
        raise PrometheusError(
            f"{promql!r} returned {result} for {timeout:g} s; targets: {self._target_health()}\n--- log ---\n"
            + self.log()[-4000:]
        )

    # -- life cycle -----------------------------------------------------------------------------

    def log(self) -> str:
        self._log_file.flush()
        return (self.directory / "prometheus.log").read_text(errors="replace")

    def _target_health(self) -> str:
        try:
            return "; ".join(
                f"{t['scrapeUrl']} health={t['health']} lastError={t['lastError']!r}" for t in self.targets()
            )
        except Exception as exc:  # noqa: BLE001 - this only decorates an error message
            return f"(cannot list targets: {exc})"

    def _check_alive(self) -> None:
        if self.process.poll() is not None:
            raise PrometheusError(f"prometheus exited with code {self.process.returncode}:\n{self.log()[-4000:]}")

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._check_alive()
            try:
                with urllib.request.urlopen(self.url + "/-/ready", timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.1)
        raise PrometheusError(f"prometheus not ready after {timeout:g} s:\n{self.log()[-4000:]}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)
        self._log_file.close()
        shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> PrometheusServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def start_prometheus(
    target_host_port: str,
    metrics_path: str = "/metrics",
    token: str | None = None,
    *,
    scrape_interval: str = "1s",
    binary: str = PROMETHEUS,
    ready_timeout: float = 60.0,
) -> PrometheusServer:
    """Start Prometheus scraping ``http://<target_host_port><metrics_path>``, sending ``token`` as a bearer
    token (read from a file, as ``authorization: {credentials_file: ...}`` in production; ``None``: no token).
    """
    if not os.access(binary, os.X_OK):
        raise PrometheusError(f"{binary} is missing: install the Debian package 'prometheus' (scripts/test-deps)")
    last_error: PrometheusError | None = None
    for _attempt in range(3):  # a free port may be taken between choosing it and binding it
        directory = Path(tempfile.mkdtemp(prefix="patrol-prometheus-"))
        authorization = ""
        if token is not None:
            token_file = directory / "token"
            token_file.write_text(token)
            token_file.chmod(0o600)
            authorization = (
                f"    authorization:\n      type: Bearer\n      credentials_file: {json.dumps(str(token_file))}\n"
            )
        (directory / "prometheus.yml").write_text(
            CONFIG.format(
                interval=scrape_interval,
                job=JOB,
                path=json.dumps(metrics_path),
                authorization=authorization,
                target=json.dumps(target_host_port),
            )
        )
        port = free_port()
        log_file = open(directory / "prometheus.log", "wb")  # noqa: SIM115 - closed by stop()
        process = subprocess.Popen(
            [
                binary,
                f"--config.file={directory / 'prometheus.yml'}",
                f"--storage.tsdb.path={directory / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--log.level=info",
            ],
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            cwd=directory,
        )
        server = PrometheusServer(process, f"http://127.0.0.1:{port}", directory, log_file)
        try:
            server._wait_ready(ready_timeout)
            return server
        except PrometheusError as exc:
            log = server.log()
            server.stop()
            last_error = exc
            if "address already in use" not in log:
                raise
    assert last_error is not None
    raise last_error
