"""A real HTTP collector stand-in for the agent's integration tests, and a helper to run the agent.

``StandInCollector`` implements the agent side of docs/api.md faithfully with the standard library:
bearer tokens (401 unknown, 403 another agent's), ``POST /api/v1/results`` with gzip or identity
encoding, JSON and schema validation (every result against ``checks.result.Result``, unknown fields
refused), exactly-once storage by ``batch_id`` (a known id answers ``duplicate: true`` and stores
nothing), and ``GET /api/v1/agents/{name}/plan`` with an ETag and ``304`` on ``If-None-Match``.
Failures are injected on demand; it can be stopped and started again on the same port, keeping
what it stored (as a collector's database would). Until the collector's FastAPI app exists, this is
what the agent is tested against.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from checks.result import Result

AGENT = Path(sys.executable).with_name("patrol-agent")
BATCH_ID = re.compile(r"^[A-Za-z0-9._:-]{1,100}$")
MAX_BODY_BYTES = 10 * 1024 * 1024


@dataclass
class CollectorState:
    """What the collector holds; it outlives a stop and start of the server."""

    tokens: dict[str, str] = field(default_factory=dict)  # token -> agent name
    plans: dict[str, dict] = field(default_factory=dict)  # agent name -> plan
    batches: dict[str, int] = field(default_factory=dict)  # batch_id -> results stored
    results: list[dict] = field(default_factory=list)  # every stored result, in arrival order
    fail_next: list[int] = field(default_factory=list)  # statuses for the next pushes (nothing stored)
    lose_next_acks: int = 0  # store the next pushes but answer 503, as if the answer was lost
    ack_delay_seconds: float = 0.0  # between storing a batch and answering (a kill then loses the answer)
    duplicates_answered: int = 0  # pushes answered duplicate: true
    log: list[tuple[str, str, int]] = field(default_factory=list)  # (method, path, status)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def stored_keys(self) -> list[tuple[str, str, str, str | None]]:
        with self.lock:
            return [(r["target"], r["check"], r["item"], r.get("scheduled_at")) for r in self.results]

    def duplicates(self) -> dict:
        return {key: n for key, n in Counter(self.stored_keys()).items() if n > 1}

    def statuses(self, method: str = "POST") -> list[int]:
        with self.lock:
            return [status for m, _, status in self.log if m == method]


def plan(agent: str, checks: list[tuple[str, dict, str]], playbook: str = "monitor") -> dict:
    """A ``patrol.plan/1`` document running ``(check, params, schedule)`` entries."""
    entries = []
    shortest = None
    for check, params, schedule in checks:
        digest = hashlib.sha256(json.dumps([playbook, check, params], sort_keys=True).encode()).hexdigest()[:16]
        entries.append({"id": digest, "playbook": playbook, "task": "agent checks", "check": check, "params": params,
                        "schedule": schedule})
        if schedule.startswith("@every"):
            seconds = float(schedule.split()[1].rstrip("s"))
            shortest = seconds if shortest is None else min(shortest, seconds)
    return {"schema": "patrol.plan/1", "agent": agent, "interval_seconds": shortest or 60, "checks": entries}


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.0"  # one request per connection: a stopped collector really is gone

    def log_message(self, *args: Any) -> None:  # quiet
        pass

    # -- plumbing --------------------------------------------------------------------------------

    def _answer(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        if body is not None:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        state = self.server.state
        with state.lock:
            state.log.append((self.command, self.path, status))

    def _agent(self) -> str | None:
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("Bearer "):
            return None
        return self.server.state.tokens.get(auth[len("Bearer "):])

    # -- routes ----------------------------------------------------------------------------------

    def do_GET(self) -> None:
        match = re.fullmatch(r"/api/v1/agents/([^/]+)/plan", self.path)
        if not match:
            return self._answer(404, {"detail": "Not Found"})
        agent = self._agent()
        if agent is None:
            return self._answer(401, {"detail": "missing, unknown or revoked token"})
        name = match.group(1)
        if name != agent:
            return self._answer(403, {"detail": f"this token belongs to agent {agent!r}"})
        document = self.server.state.plans.get(name)
        if document is None:
            return self._answer(404, {"detail": f"{name!r} is not an agent host (patrol_agent: true) in the inventory"})
        etag = '"' + hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()[:16] + '"'
        if self.headers.get("If-None-Match") == etag:
            return self._answer(304, None, {"ETag": etag})
        return self._answer(200, document, {"ETag": etag})

    def do_POST(self) -> None:
        if self.path != "/api/v1/results":
            return self._answer(404, {"detail": "Not Found"})
        state = self.server.state
        agent = self._agent()
        if agent is None:
            return self._answer(401, {"detail": "missing, unknown or revoked token"})
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            return self._answer(413, {"detail": "body above the limit"})
        raw = self.rfile.read(length)
        with state.lock:
            injected = state.fail_next.pop(0) if state.fail_next else None
        if injected is not None:
            return self._answer(injected, {"detail": f"injected failure {injected}"})
        if self.headers.get("Content-Type", "").split(";")[0].strip() != "application/json":
            return self._answer(415, {"detail": "content type must be application/json"})
        encoding = self.headers.get("Content-Encoding", "identity").strip().lower()
        if encoding not in ("gzip", "identity"):
            return self._answer(415, {"detail": f"content encoding {encoding!r} not supported"})
        try:
            if encoding == "gzip":
                raw = gzip.decompress(raw)
            if len(raw) > MAX_BODY_BYTES:
                return self._answer(413, {"detail": "decompressed body above the limit"})
            body = json.loads(raw)
        except (OSError, EOFError, ValueError) as exc:
            return self._answer(400, {"detail": f"malformed body: {exc}"})
        problems = _batch_problems(body)
        if problems:
            return self._answer(422, {"detail": problems})
        if body["agent"] != agent:
            return self._answer(403, {"detail": f"this token belongs to agent {agent!r}"})
        for index, result in enumerate(body["results"]):
            if result.get("target") != agent:
                return self._answer(422, {"detail": [{"loc": ["body", "results", index, "target"],
                                                      "msg": "target must equal agent"}]})
        with state.lock:
            if body["batch_id"] in state.batches:
                duplicate = True
            else:
                duplicate = False
                state.batches[body["batch_id"]] = len(body["results"])
                state.results.extend(body["results"])
            lose = not duplicate and state.lose_next_acks > 0
            if lose:
                state.lose_next_acks -= 1
            if duplicate:
                state.duplicates_answered += 1
            delay = state.ack_delay_seconds
        if delay:
            time.sleep(delay)
        if lose:
            return self._answer(503, {"detail": "stored, but the answer is lost (injected)"})
        stored = 0 if duplicate else len(body["results"])
        return self._answer(200, {"batch_id": body["batch_id"], "stored": stored, "duplicate": duplicate})


def _batch_problems(body: Any) -> list[dict]:
    if not isinstance(body, dict):
        return [{"loc": ["body"], "msg": "expected an object"}]
    problems = []
    for key in set(body) - {"schema", "batch_id", "agent", "results"}:
        problems.append({"loc": ["body", key], "msg": "extra fields not permitted"})
    if body.get("schema") != "patrol.batch/1":
        problems.append({"loc": ["body", "schema"], "msg": "expected 'patrol.batch/1'"})
    if not isinstance(body.get("batch_id"), str) or not BATCH_ID.match(body["batch_id"]):
        problems.append({"loc": ["body", "batch_id"], "msg": "1-100 characters [A-Za-z0-9._:-]"})
    if not isinstance(body.get("agent"), str) or not body["agent"]:
        problems.append({"loc": ["body", "agent"], "msg": "expected a string"})
    results = body.get("results")
    if not isinstance(results, list) or not 1 <= len(results) <= 10_000:
        problems.append({"loc": ["body", "results"], "msg": "expected 1 to 10000 results"})
        return problems
    for index, result in enumerate(results):
        try:
            Result.model_validate(result)
        except ValidationError as exc:
            for error in exc.errors(include_url=False):
                problems.append({"loc": ["body", "results", index, *error["loc"]], "msg": error["msg"]})
        if len(problems) > 20:
            break
    return problems


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], state: CollectorState) -> None:
        self.state = state
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that went away (a killed agent) while its answer was on the way


class StandInCollector:
    def __init__(self, state: CollectorState | None = None, port: int | None = None) -> None:
        self.state = state or CollectorState()
        self.port = port or free_port()
        self._server: _Server | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> StandInCollector:
        self._server = _Server(("127.0.0.1", self.port), self.state)
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def running(self) -> bool:
        return self._server is not None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class AgentProcess:
    """``patrol-agent`` as a real subprocess, its log in a file."""

    def __init__(self, args: list[str], log_path: Path, env: dict[str, str] | None = None) -> None:
        self.log_path = log_path
        self._log = open(log_path, "ab")  # noqa: SIM115 - closed in wait()
        self.started = time.monotonic()
        self.proc = subprocess.Popen([str(AGENT), *args], stdout=self._log, stderr=self._log,
                                     env={**os.environ, **(env or {})})

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for(self, text: str, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.log():
                return
            if self.proc.poll() is not None:
                raise AssertionError(f"agent exited {self.proc.returncode} before {text!r}:\n{self.log()}")
            time.sleep(0.05)
        raise AssertionError(f"no {text!r} within {timeout} s:\n{self.log()}")

    def terminate(self, timeout: float = 15.0) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.wait(timeout)

    def kill(self) -> int:
        self.proc.send_signal(signal.SIGKILL)
        return self.wait(10)

    def wait(self, timeout: float) -> int:
        try:
            return self.proc.wait(timeout)
        finally:
            self._log.close()


def wait_until(predicate, timeout: float = 20.0, what: str = "condition", interval: float = 0.05):
    """Poll ``predicate`` until it returns something true; that value, or AssertionError naming ``what``."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached within {timeout} s")
        time.sleep(interval)


def spooled_keys(spool: Path) -> list[tuple[str, str, str, str | None]]:
    """The results waiting in an agent's spool (segments/*.jsonl, lines ``<crc32> <json>``)."""
    keys = []
    for path in sorted((spool / "segments").glob("*.jsonl")):
        for line in path.read_bytes().splitlines():
            try:
                record = json.loads(line.split(b" ", 1)[1])
            except (IndexError, ValueError):
                continue
            keys.append((record["target"], record["check"], record["item"], record.get("scheduled_at")))
    return keys


def run_counts(log_text: str) -> tuple[int, int]:
    """(spooled, delivered) from the agent's last 'stopped' status line."""
    match = re.findall(r"stopped; .*this run: (\d+) spooled, (\d+) delivered", log_text)
    assert match, f"no final status line in:\n{log_text}"
    spooled, delivered = match[-1]
    return int(spooled), int(delivered)
