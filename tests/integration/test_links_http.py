"""http against local servers on 127.0.0.1: plain HTTP, HTTPS with self-signed certificates made by
openssl (one expiring in 5 days), basic auth with the password as a secret reference, a server that
never answers."""

from __future__ import annotations

import base64
import http.server
import socket
import ssl
import subprocess
import threading
import time

import pytest

from checks.registry import default_registry
from checks.target import Target
from collector.planner import Assignment
from collector.runner import Runner

PASSWORD = "s3cret-Pa55"


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - http.server's naming
        if self.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", "/")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if self.path == "/error":
            return self._answer(500, b"boom")
        if self.path == "/auth":
            expected = "Basic " + base64.b64encode(f"monitor:{PASSWORD}".encode()).decode()
            given = self.headers.get("Authorization", "")
            if given != expected:
                sent = base64.b64decode(given.split()[-1]).decode() if given else "nothing"
                # The reason phrase repeats what was sent: the check must scrub the password from it.
                self.send_response(401, f"denied {sent}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
        self._answer(200, b"<html>hello patrol, status: green</html>")

    def _answer(self, code, body):
        self.send_response(code)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def serve(tls_cert=None):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    if tls_cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(tls_cert[0], tls_cert[1])
        server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def make_cert(directory, name, days):
    cert, key = directory / f"{name}.pem", directory / f"{name}.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
         "-days", str(days), "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    directory = tmp_path_factory.mktemp("certs")
    soon = make_cert(directory, "soon", 5)
    later = make_cert(directory, "later", 90)
    plain, tls_soon, tls_later = serve(), serve(soon), serve(later)
    hang = socket.socket()
    hang.bind(("127.0.0.1", 0))
    hang.listen(8)  # accepts connections (the kernel's backlog) and never says a word
    yield {
        "plain": f"http://127.0.0.1:{plain.server_port}",
        "soon": f"https://127.0.0.1:{tls_soon.server_port}",
        "later": f"https://127.0.0.1:{tls_later.server_port}",
        "hang": f"http://127.0.0.1:{hang.getsockname()[1]}",
        "soon_ca": str(soon[0]),
        "later_ca": str(later[0]),
    }
    for server in (plain, tls_soon, tls_later):
        server.shutdown()
        server.server_close()
    hang.close()


def run(params, target_vars=None):
    check = default_registry().get("http")
    target = Target("web", target_vars or {})
    [result] = Runner().run([Assignment("test", target, check, check.validate(params))])
    return result


def test_plain_http_ok_with_timings_and_content_match(servers):
    r = run({"url": servers["plain"] + "/", "contains": "hello patrol", "regex": r"status: \w+"})
    assert r.status.value == "OK", r.summary
    assert r.metric("status_code").value == 200 and r.metric("size").value > 0
    assert 0 < r.metric("connect_time").value <= r.metric("response_time").value < 5
    assert r.metric("tls_time") is None and r.metric("cert_expires_in") is None
    assert r.item == servers["plain"] + "/"


def test_content_mismatch_is_critical(servers):
    r = run({"url": servers["plain"] + "/", "contains": "maintenance"})
    assert r.status.value == "CRITICAL" and "body does not contain 'maintenance'" in r.summary
    r = run({"url": servers["plain"] + "/", "regex": "status: red"})
    assert r.status.value == "CRITICAL" and "does not match /status: red/" in r.summary


def test_unexpected_status_is_critical_and_expected_codes_are_configurable(servers):
    r = run({"url": servers["plain"] + "/error"})
    assert r.status.value == "CRITICAL" and "status 500 is not expected (2xx, 3xx)" in r.summary
    assert run({"url": servers["plain"] + "/error", "expected_status": [500]}).status.value == "OK"


def test_redirect_policy(servers):
    first = run({"url": servers["plain"] + "/redirect"})
    assert first.status.value == "OK" and first.metric("status_code").value == 302  # judged as it is
    strict = run({"url": servers["plain"] + "/redirect", "expected_status": [200]})
    assert strict.status.value == "CRITICAL"
    followed = run({"url": servers["plain"] + "/redirect", "expected_status": [200], "max_redirects": 2})
    assert followed.status.value == "OK" and "after 1 redirect(s)" in followed.summary
    assert followed.metric("status_code").value == 200


def test_a_hanging_server_is_critical_within_the_request_timeout(servers):
    start = time.monotonic()
    r = run({"url": servers["hang"] + "/", "request_timeout": 1})
    assert r.status.value == "CRITICAL" and "no answer within the timeout" in r.summary, r.summary
    assert r.duration_seconds < 10 and time.monotonic() - start < 30


def test_certificate_expiring_in_5_days_warns(servers):
    r = run({"url": servers["soon"] + "/", "ca_file": servers["soon_ca"], "cert_warning": 14, "cert_critical": 3})
    assert r.status.value == "WARNING", r.summary
    assert 4 * 86400 < r.metric("cert_expires_in").value <= 5 * 86400
    assert r.metric("cert_expires_in").unit == "s"
    # 5 days less the seconds since openssl made it, rounded to a tenth of a day
    assert "cert_expires_in" in r.summary and "certificate expires in 5.0 days" in r.summary
    assert r.metric("tls_time").value > 0
    # The defaults (warn below 30 days, critical below 7) make the same certificate critical.
    assert run({"url": servers["soon"] + "/", "ca_file": servers["soon_ca"]}).status.value == "CRITICAL"


def test_a_trusted_certificate_far_from_expiry_is_ok(servers):
    r = run({"url": servers["later"] + "/", "ca_file": servers["later_ca"]})
    assert r.status.value == "OK" and 89 * 86400 < r.metric("cert_expires_in").value <= 90 * 86400


def test_verification_is_on_by_default(servers):
    r = run({"url": servers["later"] + "/"})
    assert r.status.value == "CRITICAL" and "not trusted" in r.summary and "self-signed" in r.summary
    wrong_ca = run({"url": servers["later"] + "/", "ca_file": servers["soon_ca"]})
    assert wrong_ca.status.value == "CRITICAL" and "not trusted" in wrong_ca.summary
    unverified = run({"url": servers["later"] + "/", "verify": False})
    assert unverified.status.value == "OK" and "not verified" in unverified.summary
    assert unverified.metric("cert_expires_in") is None


def test_basic_auth_password_from_a_secret_reference_is_never_shown(servers, monkeypatch):
    monkeypatch.setenv("PATROL_TEST_HTTP_PASSWORD", PASSWORD)
    good = {"http_user": "monitor", "http_password": {"env": "PATROL_TEST_HTTP_PASSWORD"}}
    r = run({"url": servers["plain"] + "/auth", "expected_status": [200]}, good)
    assert r.status.value == "OK", r.summary
    monkeypatch.setenv("PATROL_TEST_WRONG", PASSWORD + "-wrong")
    wrong = {"http_user": "monitor", "http_password": {"env": "PATROL_TEST_WRONG"}}
    r = run({"url": servers["plain"] + "/auth", "expected_status": [200]}, wrong)
    assert r.status.value == "CRITICAL" and "401" in r.summary
    assert PASSWORD not in r.summary and "***" in r.summary


def test_a_user_without_password_variable_is_unknown_naming_it(servers):
    r = run({"url": servers["plain"] + "/auth", "user": "monitor", "password_var": "web_password"})
    assert r.status.value == "UNKNOWN" and "'web_password'" in r.summary


def test_host_placeholder_and_refused_port(servers):
    port = servers["plain"].rsplit(":", 1)[1]
    r = run({"url": f"http://{{host}}:{port}/"}, {"ansible_host": "127.0.0.1"})
    assert r.status.value == "OK" and r.item == f"http://127.0.0.1:{port}/"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        free = s.getsockname()[1]
    r = run({"url": f"http://127.0.0.1:{free}/"})
    assert r.status.value == "CRITICAL" and "refused" in r.summary
