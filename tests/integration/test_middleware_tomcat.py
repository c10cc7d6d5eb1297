"""tomcat_threads, tomcat_memory and jolokia against a real Tomcat 10.1 with the manager app and Jolokia.

One Tomcat for the module (a JVM on two shared cores is expensive); request threads are made busy for
real by requests to a JSP that holds them until the test releases it. The last test stops the server
and checks that it is reported CRITICAL.
"""

from __future__ import annotations

import concurrent.futures as cf
import secrets
import time

import pytest
import requests

from checks.base import CheckContext
from checks.middleware.jolokia import JolokiaCheck
from checks.middleware.tomcat import TomcatMemoryCheck, TomcatThreadsCheck
from checks.rates import RateTracker
from checks.status import Status
from checks.target import Target

from .tomcat import MAX_THREADS, TomcatError, start_tomcat

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def tomcat():
    try:
        server = start_tomcat(password=secrets.token_urlsafe(12), jolokia=True)
    except TomcatError as exc:
        pytest.fail(f"cannot start Tomcat for the tests: {exc}", pytrace=False)
    yield server
    server.stop()


@pytest.fixture
def env(tomcat, monkeypatch):
    monkeypatch.setenv("TOMCAT_PW", tomcat.password)
    monkeypatch.setenv("WRONG_PW", "not-the-password")


def run(check, variables, params=None, rates=None):
    ctx = CheckContext(target=Target("app1", variables), rates=rates or RateTracker())
    return check.execute(ctx, check.validate(params or {}))


def tomcat_vars(server, password_env="TOMCAT_PW", **extra):
    return {"tomcat_url": server.url, "tomcat_user": server.user, "tomcat_password": {"env": password_env}, **extra}


def jolokia_vars(server):
    return {
        "jolokia_url": server.url + "/jolokia",
        "jolokia_user": server.user,
        "jolokia_password": {"env": "TOMCAT_PW"},
    }


class SlowRequests:
    """``count`` requests that each hold a Tomcat request thread until ``finish`` releases them.

    Released by the test rather than after a fixed sleep, so a slow machine cannot let the first batch
    end before the second is counted."""

    def __init__(self, server, count: int, batch: str) -> None:
        self.server, self.batch = server, batch
        self.pool = cf.ThreadPoolExecutor(count)
        url = f"{server.url}/sleep.jsp?ms=120000&batch={batch}"
        self.futures = [self.pool.submit(requests.get, url, timeout=150) for _ in range(count)]

    def wait_busy(self, at_least: int, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            (result,) = run(TomcatThreadsCheck(), tomcat_vars(self.server), {"warning": 100, "critical": 100})
            if result.metric("busy_threads") and result.metric("busy_threads").value >= at_least:
                return
            time.sleep(0.2)
        raise AssertionError(f"Tomcat never had {at_least} busy threads")

    def finish(self) -> None:
        self.server.release(self.batch)
        for future in self.futures:
            assert future.result().status_code == 200
        self.pool.shutdown()


def test_idle_connector_is_ok_with_the_real_figures(tomcat, env):
    (result,) = run(TomcatThreadsCheck(), tomcat_vars(tomcat))
    assert result.status is Status.OK, result.summary
    assert result.item == f"http-nio-127.0.0.1-{tomcat.port}"
    assert result.metric("max_threads").value == MAX_THREADS
    assert 1 <= result.metric("busy_threads").value <= 3  # our own status request is one of them
    assert result.metric("current_threads").value >= result.metric("busy_threads").value


def test_busy_threads_move_and_turn_the_state_warning_then_critical(tomcat, env):
    params = {"warning": 10, "critical": 30}  # % of maxThreads 50: more than 5 busy warns, more than 15 critical
    slow = SlowRequests(tomcat, 8, "first")
    try:
        slow.wait_busy(8)
        (result,) = run(TomcatThreadsCheck(), tomcat_vars(tomcat), params)
        assert result.status is Status.WARNING, result.summary
        assert result.metric("busy").value >= 16 and "% > 10)" in result.summary
        more = SlowRequests(tomcat, 10, "second")
        try:
            more.wait_busy(17)
            (result,) = run(TomcatThreadsCheck(), tomcat_vars(tomcat), params)
            assert result.status is Status.CRITICAL, result.summary
            # the same moment through Jolokia: the tomcat profile reads the same ThreadPool MBean
            monitor = {r.item: r for r in run(JolokiaCheck(), jolokia_vars(tomcat), {
                "profile": "tomcat", "thresholds": {"thread_busy": {"warning": 10, "critical": 30}}})}  # fmt: skip
            threads = monitor[f"threads http-nio-127.0.0.1-{tomcat.port}"]
            assert threads.status is Status.CRITICAL and threads.metric("busy_threads").value >= 17
        finally:
            more.finish()
    finally:
        slow.finish()
    (result,) = run(TomcatThreadsCheck(), tomcat_vars(tomcat), params)
    assert result.status is Status.OK and result.metric("busy_threads").value <= 3


def test_heap_and_heap_pools_from_the_status_page(tomcat, env):
    results = {r.item: r for r in run(TomcatMemoryCheck(), tomcat_vars(tomcat))}
    heap = results["heap"]
    assert heap.status is Status.OK
    assert heap.metric("max_size").value <= 256 * 1024 * 1024  # -Xmx256m
    assert 0 < heap.metric("used").value < 85
    assert {"Eden Space", "Survivor Space", "Tenured Gen"} <= set(results)  # -XX:+UseSerialGC's pools
    (low,) = [r for r in run(TomcatMemoryCheck(), tomcat_vars(tomcat), {"warning": 0.1, "pools": False})]
    assert low.status is Status.WARNING


def test_jolokia_tomcat_profile_reads_pools_heap_and_gc_in_one_request(tomcat, env):
    rates = RateTracker()
    first = {r.item: r for r in run(JolokiaCheck(), jolokia_vars(tomcat), {"profile": "tomcat"}, rates)}
    time.sleep(1.0)
    second = {r.item: r for r in run(JolokiaCheck(), jolokia_vars(tomcat), {"profile": "tomcat"}, rates)}
    assert all(r.status is Status.OK for r in second.values()), [r.summary for r in second.values()]
    assert second["heap"].metric("heap_max_size").value <= 256 * 1024 * 1024
    gc = [item for item in first if item.startswith("gc ")]
    assert gc and "rates from the next poll on" in first[gc[0]].summary
    assert second[gc[0]].metric("gc_time") is not None  # a rate now, 0 or more


def test_a_wrong_password_is_unknown_naming_the_variables(tomcat, env):
    (result,) = run(TomcatThreadsCheck(), tomcat_vars(tomcat, password_env="WRONG_PW"))
    assert (result.status, result.collected) == (Status.UNKNOWN, False)
    assert "HTTP 401" in result.summary and "tomcat_password" in result.summary
    assert "not-the-password" not in result.summary
    (result,) = run(
        JolokiaCheck(), {**jolokia_vars(tomcat), "jolokia_password": {"env": "WRONG_PW"}}, {"profile": "jvm"}
    )
    assert result.status is Status.UNKNOWN and "jolokia_password" in result.summary


def test_a_user_without_the_manager_status_role_is_told_which_role(tomcat, env):
    # "nobody" has the jolokia role only (tests/integration/tomcat.py)
    (result,) = run(TomcatMemoryCheck(), {**tomcat_vars(tomcat), "tomcat_user": "nobody"})
    assert result.status is Status.UNKNOWN and "HTTP 403" in result.summary and "manager-status" in result.summary


def test_zz_a_stopped_tomcat_is_critical_within_the_timeout(tomcat, env):
    """Runs last in the module: it stops the module's server."""
    tomcat.stop()
    for check, variables, params in ((TomcatThreadsCheck(), tomcat_vars(tomcat), {}),
                                     (TomcatMemoryCheck(), tomcat_vars(tomcat), {}),
                                     (JolokiaCheck(), jolokia_vars(tomcat), {"profile": "tomcat"})):  # fmt: skip
        start = time.monotonic()
        (result,) = run(check, variables, {**params, "timeout": 5})
        assert (result.status, result.collected) == (Status.CRITICAL, False), result.summary
        assert "Connection refused" in result.summary and time.monotonic() - start < 5
