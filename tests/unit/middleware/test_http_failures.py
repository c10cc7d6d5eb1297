"""How every middleware check reports a server that is down, hangs, refuses us or answers nonsense."""

import time

import pytest

from checks.middleware.jolokia import JolokiaCheck
from checks.middleware.tomcat import TomcatMemoryCheck, TomcatThreadsCheck
from checks.middleware.weblogic import WeblogicJdbcCheck, WeblogicThreadsCheck
from checks.status import Status
from checks.target import Target
from collector import reach

from .helpers import PASSWORD, creds, run
from .replay import HangingSocket, Replay, closed_port_url

CHECKS = [
    (TomcatThreadsCheck(), "tomcat", {}),
    (TomcatMemoryCheck(), "tomcat", {}),
    (JolokiaCheck(), "jolokia", {"profile": "tomcat"}),
    (WeblogicThreadsCheck(), "weblogic", {}),
    (WeblogicJdbcCheck(), "weblogic", {}),
]


@pytest.fixture(autouse=True)
def _password(monkeypatch):
    monkeypatch.setenv("MW_TEST_PW", PASSWORD)


@pytest.mark.parametrize("check, prefix, params", CHECKS, ids=[c[0].name for c in CHECKS])
def test_a_refused_connection_is_critical_and_not_collected(check, prefix, params):
    (result,) = run(check, creds(prefix, closed_port_url()), params)
    assert (result.status, result.collected) == (Status.CRITICAL, False)
    assert result.summary.startswith("unreachable: ") and "Connection refused" in result.summary


@pytest.mark.parametrize("check, prefix, params", CHECKS, ids=[c[0].name for c in CHECKS])
def test_a_server_that_accepts_and_never_answers_is_critical_within_its_timeout(check, prefix, params):
    with HangingSocket() as hanging:
        start = time.monotonic()
        (result,) = run(check, {**creds(prefix, hanging.url), f"{prefix}_timeout": 1}, params)
        took = time.monotonic() - start
    assert (result.status, result.collected) == (Status.CRITICAL, False)
    assert "no answer within 1 s" in result.summary
    assert took < 3.0, (took, result.summary)  # 1 s, 0.2 s grace, slack for two busy shared cores


def test_the_check_timeout_bounds_the_request_when_it_is_shorter_than_the_endpoints():
    with HangingSocket() as hanging:
        start = time.monotonic()
        (result,) = run(TomcatThreadsCheck(), creds("tomcat", hanging.url), {"timeout": 1.5})
        took = time.monotonic() - start
    assert result.status is Status.CRITICAL and took < 2.5, result.summary


@pytest.mark.parametrize("check, prefix, params", CHECKS, ids=[c[0].name for c in CHECKS])
def test_refused_credentials_are_unknown_and_name_the_variables(check, prefix, params):
    with Replay({}, user="monitor", password="another-password") as server:
        (result,) = run(check, creds(prefix, server.url), params)
    assert (result.status, result.collected) == (Status.UNKNOWN, False)
    assert (
        "HTTP 401" in result.summary and f"{prefix}_user" in result.summary and f"{prefix}_password" in result.summary
    )
    assert PASSWORD not in result.summary


@pytest.mark.parametrize("check, prefix, params", CHECKS, ids=[c[0].name for c in CHECKS])
def test_an_html_page_instead_of_the_api_is_unknown_with_the_reason(check, prefix, params):
    html = lambda *a: (200, "text/html", b"<html><body>Welcome to nginx!</body></html>")  # noqa: E731
    routes = {(m, p): html for m in ("GET", "POST") for p in (
        "/manager/status", "/", "/management/weblogic/latest/domainRuntime/search")}  # fmt: skip
    with Replay(routes) as server:
        (result,) = run(check, {f"{prefix}_url": server.url}, params)
    assert (result.status, result.collected) == (Status.UNKNOWN, False)
    assert result.summary.startswith("unusable answer: ")
    assert "not JSON" in result.summary or "got <html>" in result.summary or "not a Jolokia" in result.summary


def test_a_redirect_is_not_followed_and_says_where_it_went():
    moved = lambda *a: (302, "text/plain", b"")  # noqa: E731
    with Replay({("GET", "/manager/status"): moved}) as server:
        (result,) = run(TomcatThreadsCheck(), {"tomcat_url": server.url})
    assert result.status is Status.UNKNOWN and "HTTP 302" in result.summary and "tomcat_url" in result.summary


@pytest.mark.parametrize(
    "variables, message",
    [
        ({}, "tomcat_url is not set for app1"),
        ({"tomcat_url": "ftp://x"}, "tomcat_url must be an http:// or https:// URL"),
        ({"tomcat_url": "http://u:p@127.0.0.1:1"}, "tomcat_url may not carry credentials"),
        ({"tomcat_url": "http://127.0.0.1:1", "tomcat_user": "u"}, "tomcat_user and tomcat_password go together"),
        ({"tomcat_url": "http://127.0.0.1:1", "tomcat_timeout": "soon"}, "tomcat_timeout must be a positive number"),
    ],
)
def test_bad_inventory_variables_are_unknown_naming_the_variable(variables, message):
    (result,) = run(TomcatThreadsCheck(), variables)
    assert (result.status, result.collected) == (Status.UNKNOWN, False)
    assert result.summary.startswith("cannot check: ") and message in result.summary


def test_a_password_in_an_error_is_scrubbed(monkeypatch):
    """The password reaches the scrubber before any request, so even an echo of it is removed."""
    echo = lambda path, data, headers: (500, "text/plain", PASSWORD.encode())  # noqa: E731
    with Replay({("GET", "/manager/status"): echo}) as server:
        (result,) = run(TomcatThreadsCheck(), creds("tomcat", server.url))
    assert result.status is Status.UNKNOWN and "HTTP 500" in result.summary and "***" in result.summary
    assert PASSWORD not in result.summary


def test_middleware_targets_are_not_probed_over_ssh_and_get_no_ssh_connection():
    app = Target("app1", {"ansible_host": "127.0.0.1", "ansible_port": 1, "tomcat_url": "http://127.0.0.1:1"})
    assert reach.blocked(app, timeout=0.5) is None  # port 1 is closed: an SSH probe would have said CRITICAL
    with reach.RunConnections() as opened:
        assert "ssh" not in reach.connections_for(app, opened)
    explicit = Target("app2", {"connection": "http", "ansible_host": "127.0.0.1", "ansible_port": 1})
    assert reach.blocked(explicit, timeout=0.5) is None
    both = Target("web1", {"connection": "ssh", "ansible_host": "127.0.0.1", "ansible_port": 1,
                           "tomcat_url": "http://127.0.0.1:1"})  # fmt: skip
    assert reach.blocked(both, timeout=0.5)[0] is Status.CRITICAL  # also an SSH host: probed as before
