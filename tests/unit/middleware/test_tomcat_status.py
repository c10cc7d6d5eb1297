"""Parsing the manager status page, from a real Tomcat 10.1 answer (tests/fixtures/middleware)."""

import pytest

from checks.middleware.http import EndpointError
from checks.middleware.tomcat import TomcatThreadsCheck
from checks.middleware.tomcat_status import parse
from checks.status import Status

from .helpers import PASSWORD, creds, run
from .replay import FIXTURES, Replay


def test_a_real_tomcat_10_status_page_parses_into_connectors_heap_and_pools():
    status = parse((FIXTURES / "tomcat10-status.xml").read_bytes())
    (connector,) = status.connectors
    assert connector.name.startswith("http-nio-127.0.0.1-")  # the quotes Tomcat adds are gone
    assert (connector.max_threads, connector.current_threads, connector.busy_threads) == (50, 10, 1)
    assert status.max == 259522560 and status.used == status.total - status.free
    heap_pools = [p.name for p in status.pools if p.type == "Heap memory"]
    assert heap_pools == ["Eden Space", "Survivor Space", "Tenured Gen"]
    assert next(p for p in status.pools if p.name == "Metaspace").max == -1
    assert any(p.name == "CodeHeap 'non-nmethods'" for p in status.pools)  # &apos; decoded


def test_a_document_type_declaration_is_refused_before_parsing():
    bomb = b'<?xml version="1.0"?><!DOCTYPE status [<!ENTITY a "aaaaaaaa">]><status>&a;</status>'
    with pytest.raises(EndpointError, match="DOCTYPE"):
        parse(bomb)


@pytest.mark.parametrize(
    "body, message",
    [
        (b"<html><body>Login</body></html>", "expected a <status> document, got <html>"),
        (b"<status><jvm><memory free='1' total='x' max='3'/></jvm></status>", "total='x' is not a number"),
        (b"<status></status>", "no <jvm><memory> element"),
        (b"not xml at all", "not the manager's XML status"),
        (b"<status><jvm><memory free='1' total='2' max='3'/></jvm><connector name='c'/></status>", "no <threadInfo>"),
    ],
)
def test_malformed_pages_say_what_is_wrong(body, message):
    with pytest.raises(EndpointError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse(body)


def test_a_status_page_that_fails_once_with_http_500_is_asked_again(monkeypatch):
    """Tomcat fails the page when a request ends while the servlet reads it; the second look counts."""
    monkeypatch.setenv("MW_TEST_PW", PASSWORD)
    page = (FIXTURES / "tomcat10-status.xml").read_bytes()
    answers = [(500, "text/xml", page[:300]), (200, "text/xml", page)]
    with Replay({("GET", "/manager/status"): lambda *a: answers.pop(0)}) as server:
        results = run(TomcatThreadsCheck(), creds("tomcat", server.url))
    assert len(server.requests) == 2 and all(r.collected for r in results), [r.summary for r in results]
    assert {r.status for r in results} == {Status.OK}


def test_a_status_page_that_keeps_failing_with_http_500_is_unknown_after_two_looks(monkeypatch):
    monkeypatch.setenv("MW_TEST_PW", PASSWORD)
    with Replay({("GET", "/manager/status"): lambda *a: (500, "text/plain", b"boom")}) as server:
        (result,) = run(TomcatThreadsCheck(), creds("tomcat", server.url))
    assert len(server.requests) == 2
    assert (result.status, result.collected) == (Status.UNKNOWN, False) and "HTTP 500" in result.summary


def test_other_server_errors_are_not_asked_again(monkeypatch):
    monkeypatch.setenv("MW_TEST_PW", PASSWORD)
    with Replay({("GET", "/manager/status"): lambda *a: (503, "text/plain", b"overloaded")}) as server:
        (result,) = run(TomcatThreadsCheck(), creds("tomcat", server.url))
    assert len(server.requests) == 1 and "HTTP 503" in result.summary
