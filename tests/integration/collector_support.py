"""A real `patrol serve` process for tests: its files, its tokens, start, kill and restart."""
from __future__ import annotations

import datetime as dt
import gzip
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import requests

PATROL = Path(sys.executable).with_name("patrol")

INVENTORY = """\
all:
  children:
    agents:
      hosts:
        web01: {patrol_agent: true}
        web02: {patrol_agent: true}
    local:
      hosts:
        here: {connection: local}
"""

PLAYBOOK = """\
name: {name}
schedule: "{schedule}"
report: {{formats: [json, html]}}
tasks:
  - name: host health
    hosts: {hosts}
    checks:
      - memory
      - uptime
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, as a site's private CA would issue (here: self-signed)."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
         "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )
    return cert, key


def result(target: str, check: str = "memory", item: str = "", value: float = 42.0, **extra) -> dict:
    return {
        "schema": "patrol.result/1",
        "target": target,
        "check": check,
        "item": item,
        "status": "OK",
        "summary": f"{value}% used",
        "metrics": [{"name": "used", "value": value, "unit": "%", "labels": {}}],
        "thresholds": [{"metric": "used", "warning": "85", "critical": "95"}],
        "started_at": dt.datetime.now(dt.UTC).isoformat(),
        "duration_seconds": 0.01,
        **extra,
    }


def batch(agent: str, results: list[dict], batch_id: str | None = None) -> dict:
    return {"schema": "patrol.batch/1", "batch_id": batch_id or f"{agent}-{uuid.uuid4().hex}", "agent": agent,
            "results": results}


@dataclass
class Collector:
    root: Path
    port: int = field(default_factory=free_port)
    settings: dict = field(default_factory=dict)
    process: subprocess.Popen | None = None
    tokens: dict = field(default_factory=dict)
    database: str | None = None  # a shared store (PostgreSQL) for replicas; default: this root's SQLite file

    @property
    def url(self) -> str:
        scheme = "https" if "tls_cert" in self.settings else "http"
        return f"{scheme}://127.0.0.1:{self.port}"

    @property
    def verify(self) -> str | bool:
        """What a client needs to trust this collector: its own certificate when it serves HTTPS."""
        return str(self.settings["tls_cert"]) if "tls_cert" in self.settings else True

    @property
    def db(self) -> str:
        return self.database or f"sqlite:///{self.root}/patrol.db"

    def write_files(self, playbooks: dict[str, str] | None = None) -> None:
        (self.root / "inventory.yaml").write_text(INVENTORY)
        (self.root / "playbooks").mkdir(exist_ok=True)
        for name, text in (playbooks or {}).items():
            (self.root / "playbooks" / f"{name}.yaml").write_text(text)
        lines = [f"{k}: {json.dumps(v)}" for k, v in {"listen": f"127.0.0.1:{self.port}", **self.settings}.items()]
        (self.root / "serve.yaml").write_text("\n".join(lines) + "\n")

    def patrol(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(PATROL), *args], cwd=self.root, capture_output=True, text=True, timeout=60,
                              env={**os.environ, "PATROL_DB": self.db})

    def create_token(self, kind: str, name: str) -> str:
        done = self.patrol("token", "create", f"--{kind}", name)
        assert done.returncode == 0, done.stderr
        token = done.stdout.strip().splitlines()[-1]
        self.tokens[(kind, name)] = token
        return token

    def start(self) -> None:
        log = open(self.root / "serve.log", "ab")  # noqa: SIM115 - closed with the process
        self.process = subprocess.Popen(
            [str(PATROL), "serve", "--config", "serve.yaml"], cwd=self.root, stdout=log, stderr=log,
            env={**os.environ, "PATROL_DB": self.db},
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"patrol serve exited {self.process.returncode}:\n{self.log()}")
            try:
                if requests.get(self.url + "/healthz", timeout=1, verify=self.verify).status_code == 200:
                    return
            except requests.ConnectionError:
                time.sleep(0.1)
        raise AssertionError(f"patrol serve did not answer within 30 s:\n{self.log()}")

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(timeout=30)

    def log(self) -> str:
        path = self.root / "serve.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def headers(self, kind: str = "agent", name: str = "web01") -> dict:
        return {"Authorization": f"Bearer {self.tokens[(kind, name)]}"}

    def push(self, body: dict | bytes, kind="agent", name="web01", gzipped=False, headers=None) -> requests.Response:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        hdrs = {"Content-Type": "application/json", **self.headers(kind, name), **(headers or {})}
        if gzipped:
            data = gzip.compress(data)
            hdrs["Content-Encoding"] = "gzip"
        return requests.post(self.url + "/api/v1/results", data=data, headers=hdrs, timeout=30, verify=self.verify)
