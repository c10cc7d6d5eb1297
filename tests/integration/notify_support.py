"""Real receivers for the notification tests, all on 127.0.0.1 and stopped by the test.

- ``Receiver``: a stdlib HTTP server that records every request and answers as the ``respond`` function
  says; ``dingtalk_robot``, ``wecom_robot``, ``feishu_robot`` and ``signed_webhook`` answer as the vendors'
  servers do, checking the signature exactly as each vendor documents it (written here from the vendors'
  documentation, independently of collector/notify). ``HANG`` makes a request wait until the receiver stops.
- ``SmtpServer``: aiosmtpd requiring STARTTLS (a self-signed certificate made with openssl) and AUTH.
- ``Alertmanager``: Debian's prometheus-alertmanager on a free port with a temporary config and storage.

Missing software fails the test with the package to install; nothing is skipped.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from collector.notify.notice import Notice

ALERTMANAGER = "/usr/bin/prometheus-alertmanager"
HANG = object()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def notice(event_id: int = 1, *, target: str = "web-01", check: str = "disk", item: str = "/var",
           severity: str = "CRITICAL", state: str = "firing", change: str = "opened",
           summary: str = "92% used (critical at 90%)", groups: tuple[str, ...] = ("linux", "web"),
           escalation_level: int = 0, actor: str | None = None, comment: str | None = None,
           at: dt.datetime | None = None, labels: dict[str, str] | None = None) -> Notice:
    at = at or dt.datetime.now(dt.UTC)
    return Notice(event_id, f"{target}/{check}/{item}", target, check, item, severity, state, change,  # type: ignore
                  summary, at - dt.timedelta(minutes=3), at, 4, at, groups, escalation_level, actor, comment,
                  labels or {})


# -- HTTP receiver ------------------------------------------------------------------------------------

@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    at: float  # time.monotonic() when it arrived
    answer: int = 0  # the status the receiver answered

    def json(self):
        return json.loads(self.body)


@dataclass
class Receiver:
    """``respond(request) -> (status, body)``: body is a dict (sent as JSON), bytes, or HANG (the request is
    recorded, then never answered)."""

    respond: Callable[[Request], tuple[int, object]] = lambda request: (200, {"ok": True})
    requests: list[Request] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._cond = threading.Condition()
        self._stopping = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
                parts = urllib.parse.urlsplit(self.path)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                request = Request("POST", parts.path, urllib.parse.parse_qs(parts.query), dict(self.headers.items()),
                                  body, time.monotonic())
                status, answer = receiver.respond(request)
                request.answer = status
                with receiver._cond:
                    receiver.requests.append(request)
                    receiver._cond.notify_all()
                if answer is HANG:
                    receiver._stopping.wait(60)
                    return
                data = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Request]:
        """The first ``count`` requests answered, waiting up to ``timeout`` s for them."""
        with self._cond:
            if not self._cond.wait_for(lambda: len(self.requests) >= count, timeout):
                raise AssertionError(f"{self.url}: {len(self.requests)} request(s) within {timeout} s, "
                                     f"expected {count}: {[r.body[:200] for r in self.requests]}")
            return list(self.requests[:count])

    def stop(self) -> None:
        self._stopping.set()
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> Receiver:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


# -- the vendors' checks, from their documentation ----------------------------------------------------

def signed_webhook(secret: str, tolerance: float = 300) -> Callable[[Request], tuple[int, object]]:
    """Patrol's webhook: Patrol-Signature: t=<unix s>,v1=hex(HMAC-SHA256(secret, "<t>.<raw body>"))."""

    def respond(request: Request) -> tuple[int, object]:
        header = request.headers.get("Patrol-Signature", "")
        fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
        if "t" not in fields or "v1" not in fields:
            return 401, {"error": "no signature"}
        if abs(time.time() - int(fields["t"])) > tolerance:
            return 401, {"error": "stale timestamp"}
        expected = hmac.new(secret.encode(), fields["t"].encode() + b"." + request.body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, fields["v1"]):
            return 401, {"error": "bad signature"}
        return 200, {"ok": True}

    return respond


def dingtalk_robot(token: str, secret: str) -> Callable[[Request], tuple[int, object]]:
    """DingTalk custom robot with 加签: timestamp (ms) and sign = urlencode(base64(HmacSHA256(secret,
    timestamp + "\\n" + secret))) in the query; the timestamp within one hour of the server's time."""

    def respond(request: Request) -> tuple[int, object]:
        if request.path != "/robot/send" or request.query.get("access_token") != [token]:
            return 200, {"errcode": 300001, "errmsg": "token is not exist"}
        timestamp = request.query.get("timestamp", [""])[0]
        sign = request.query.get("sign", [""])[0]
        if not timestamp.isdigit() or abs(time.time() * 1000 - int(timestamp)) > 3600 * 1000:
            return 200, {"errcode": 310000, "errmsg": "sign not match, more: [timestamp is invalid]"}
        string_to_sign = f"{timestamp}\n{secret}".encode()
        expected = base64.b64encode(hmac.new(secret.encode(), string_to_sign, hashlib.sha256).digest()).decode()
        if sign != expected:
            return 200, {"errcode": 310000, "errmsg": "sign not match"}
        body = request.json()
        if body.get("msgtype") != "markdown" or not body["markdown"].get("title") or not body["markdown"].get("text"):
            return 200, {"errcode": 40035, "errmsg": "缺少参数 json"}
        return 200, {"errcode": 0, "errmsg": "ok"}

    return respond


def feishu_robot(token: str, secret: str) -> Callable[[Request], tuple[int, object]]:
    """Feishu custom bot with signature verification: body fields timestamp (s) and sign =
    base64(HmacSHA256(key = timestamp + "\\n" + secret, message = empty)), within one hour."""

    def respond(request: Request) -> tuple[int, object]:
        if request.path != f"/open-apis/bot/v2/hook/{token}":
            return 404, {"code": 19001, "msg": "param invalid: incoming webhook access token invalid"}
        body = request.json()
        timestamp = str(body.get("timestamp", ""))
        if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > 3600:
            return 200, {"code": 19021, "msg": "sign match fail or timestamp is not within one hour from current time"}
        key = f"{timestamp}\n{secret}".encode()
        expected = base64.b64encode(hmac.new(key, digestmod=hashlib.sha256).digest()).decode()
        if body.get("sign") != expected:
            return 200, {"code": 19021, "msg": "sign match fail or timestamp is not within one hour from current time"}
        if body.get("msg_type") not in ("text", "post", "interactive", "image", "share_chat"):
            return 200, {"code": 19002, "msg": "params error, msg_type need"}
        return 200, {"code": 0, "msg": "success", "data": {}}

    return respond


def wecom_robot(key: str) -> Callable[[Request], tuple[int, object]]:
    """WeCom group robot: POST .../cgi-bin/webhook/send?key=KEY; markdown content at most 4096 bytes."""

    def respond(request: Request) -> tuple[int, object]:
        if request.path != "/cgi-bin/webhook/send" or request.query.get("key") != [key]:
            return 200, {"errcode": 93000, "errmsg": "invalid webhook url"}
        body = request.json()
        if body.get("msgtype") != "markdown":
            return 200, {"errcode": 40008, "errmsg": "invalid message type"}
        if len(body["markdown"]["content"].encode()) > 4096:
            return 200, {"errcode": 40058, "errmsg": "markdown.content exceed max length 4096"}
        return 200, {"errcode": 0, "errmsg": "ok"}

    return respond


# -- SMTP -----------------------------------------------------------------------------------------------

@dataclass
class Mail:
    sender: str
    recipients: list[str]
    content: bytes
    login: str | None
    tls: bool


class SmtpServer:
    """aiosmtpd on a free port: STARTTLS required before AUTH, AUTH required before mail."""

    def __init__(self, directory: Path, user: str = "patrol", password: str = "s3cret-pass") -> None:
        try:
            from aiosmtpd.controller import Controller
            from aiosmtpd.smtp import AuthResult, LoginPassword
        except ImportError:
            pytest.fail("the e-mail tests need aiosmtpd: pip install aiosmtpd (the test extra)", pytrace=False)
        if shutil.which("openssl") is None:
            pytest.fail("the e-mail tests need openssl (Debian package 'openssl')", pytrace=False)
        self.cert = directory / "smtp-cert.pem"
        key = directory / "smtp-key.pem"
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", str(key), "-out", str(self.cert), "-days", "1", "-subj", "/CN=127.0.0.1",
             "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
            check=True, capture_output=True, timeout=30,
        )
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, key)
        self.user, self.password = user, password
        self.mails: list[Mail] = []
        self.logins: list[tuple[str, bool]] = []
        self._cond = threading.Condition()
        server = self

        def authenticator(smtp, session, envelope, mechanism, auth_data):
            ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user \
                and auth_data.password.decode() == password
            server.logins.append((auth_data.login.decode() if isinstance(auth_data, LoginPassword) else "?", ok))
            return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

        class Handler:
            async def handle_DATA(self, smtp, session, envelope):  # noqa: N802 - aiosmtpd's name
                login = session.auth_data.login.decode() if session.authenticated else None
                with server._cond:
                    server.mails.append(Mail(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content
                                             or envelope.content, login, getattr(session, "ssl", None) is not None))
                    server._cond.notify_all()
                return "250 OK"

        self.port = free_port()
        self.controller = Controller(
            Handler(), hostname="127.0.0.1", port=self.port, tls_context=context, require_starttls=True,
            authenticator=authenticator, auth_required=True, auth_require_tls=True,
        )
        self.controller.start()

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Mail]:
        with self._cond:
            if not self._cond.wait_for(lambda: len(self.mails) >= count, timeout):
                raise AssertionError(f"{len(self.mails)} mail(s) within {timeout} s, expected {count}")
            return list(self.mails[:count])

    def stop(self) -> None:
        self.controller.stop()


# -- Alertmanager -------------------------------------------------------------------------------------------

ALERTMANAGER_CONFIG = """\
route:
  receiver: nowhere
  group_wait: 1h
receivers:
  - name: nowhere
"""


class Alertmanager:
    """Debian's prometheus-alertmanager on a free 127.0.0.1 port, clustering off, in a temporary directory."""

    def __init__(self, binary: str = ALERTMANAGER, ready_timeout: float = 30.0) -> None:
        if not Path(binary).exists():
            pytest.fail(f"{binary} is missing: install the Debian package 'prometheus-alertmanager' "
                        "(scripts/test-deps)", pytrace=False)
        self.directory = Path(tempfile.mkdtemp(prefix="patrol-alertmanager-"))
        (self.directory / "alertmanager.yml").write_text(ALERTMANAGER_CONFIG)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._log = open(self.directory / "alertmanager.log", "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [binary, f"--config.file={self.directory / 'alertmanager.yml'}",
             f"--storage.path={self.directory / 'data'}", f"--web.listen-address=127.0.0.1:{self.port}",
             "--cluster.listen-address=", "--log.level=warn"],
            stdout=self._log, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + ready_timeout
        while True:
            if self.process.poll() is not None:
                raise AssertionError(f"alertmanager exited with {self.process.returncode}:\n{self.log()}")
            try:
                with urllib.request.urlopen(self.url + "/-/ready", timeout=2) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise AssertionError(f"alertmanager not ready after {ready_timeout} s:\n{self.log()}")
            time.sleep(0.1)

    def alerts(self) -> list[dict]:
        """Active alerts (Alertmanager leaves out alerts whose endsAt has passed)."""
        with urllib.request.urlopen(self.url + "/api/v2/alerts", timeout=5) as response:
            return json.loads(response.read())

    def wait_until(self, condition: Callable[[list[dict]], bool], timeout: float = 15.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        alerts: list[dict] = []
        while time.monotonic() < deadline:
            alerts = self.alerts()
            if condition(alerts):
                return alerts
            time.sleep(0.1)
        raise AssertionError(f"alertmanager: condition not met within {timeout} s; alerts: {alerts}\n{self.log()}")

    def log(self) -> str:
        self._log.flush()
        return (self.directory / "alertmanager.log").read_text(errors="replace")[-4000:]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._log.close()
        shutil.rmtree(self.directory, ignore_errors=True)
