"""weblogic_threads and weblogic_jdbc against recorded REST answers replayed on loopback.

The answers are constructed from Oracle's documented response shape (no WebLogic can run here):
tests/fixtures/middleware/weblogic/README.md.
"""

import json

import pytest

from checks.middleware.weblogic import WeblogicJdbcCheck, WeblogicThreadsCheck
from checks.status import Status

from .helpers import PASSWORD, creds, run
from .replay import FIXTURES, Replay

RUNTIME = "/management/weblogic/latest/domainRuntime/search"
CONFIG = "/management/weblogic/latest/domainConfig/search"


@pytest.fixture(autouse=True)
def _password(monkeypatch):
    monkeypatch.setenv("MW_TEST_PW", PASSWORD)


def recorded(name):
    return (FIXTURES / "weblogic" / name).read_bytes()


def runtime_search(path, data, headers):
    """As WebLogic does: a POST without X-Requested-By is refused; the query decides the answer."""
    if "x-requested-by" not in headers:
        return 400, "application/json", b'{"status": 400, "detail": "X-Requested-By header is required"}'
    query = json.loads(data)
    children = query["children"]["serverRuntimes"]["children"]
    name = "jdbc-search.json" if "JDBCServiceRuntime" in children else "threads-search.json"
    return 200, "application/json", recorded(name)


def config_search(path, data, headers):
    return 200, "application/json", recorded("jdbc-config-search.json")


@pytest.fixture
def weblogic():
    routes = {("POST", RUNTIME): runtime_search, ("POST", CONFIG): config_search}
    with Replay(routes, user="monitor", password=PASSWORD) as server:
        yield server


def by_item(results):
    return {r.item: r for r in results}


def test_stuck_and_hogging_threads_per_server_and_a_server_not_running(weblogic):
    results = by_item(run(WeblogicThreadsCheck(), creds("weblogic", weblogic.url)))
    assert set(results) == {"AdminServer", "ManagedServer1", "ManagedServer2"}
    admin = results["AdminServer"]
    assert admin.status is Status.OK and admin.metric("stuck_threads").value == 0
    busy = results["ManagedServer1"]
    # 2 stuck > 0 warns, 14 hogging > 10 warns, the server's own health says warn: WARNING
    assert busy.status is Status.WARNING
    assert "stuck_threads 2 > 0" in busy.summary and "hogging_threads 14 > 10" in busy.summary
    assert "health warn" in busy.summary
    assert (results["ManagedServer2"].status, results["ManagedServer2"].summary) == (
        Status.CRITICAL,
        "server state ADMIN",
    )
    (request,) = weblogic.requests
    assert request[3]["x-requested-by"] == "patrol" and request[1] == RUNTIME


def test_stuck_threads_over_the_critical_level(weblogic):
    results = by_item(run(WeblogicThreadsCheck(), creds("weblogic", weblogic.url), {"critical": 1}))
    assert results["ManagedServer1"].status is Status.CRITICAL


def test_jdbc_active_against_max_capacity_waiters_and_a_suspended_pool(weblogic):
    results = by_item(run(WeblogicJdbcCheck(), creds("weblogic", weblogic.url)))
    assert set(results) == {"ManagedServer1/OrdersDS", "ManagedServer1/ReportsDS", "ManagedServer1/LegacyDS",
                            "ManagedServer2"}  # fmt: skip
    orders = results["ManagedServer1/OrdersDS"]
    assert orders.status is Status.CRITICAL and orders.metric("active").value == pytest.approx(96.67)
    assert orders.metric("max_capacity").value == 30 and orders.metric("waiting").value == 4
    reports = results["ManagedServer1/ReportsDS"]
    assert reports.status is Status.OK and reports.metric("active").value == 10.0  # 2 of maxCapacity 20, not of 5
    assert results["ManagedServer1/LegacyDS"].status is Status.CRITICAL  # Suspended
    assert results["ManagedServer2"].status is Status.CRITICAL


def test_without_the_configuration_tree_the_pool_share_is_left_out_not_guessed():
    routes = {
        ("POST", RUNTIME): runtime_search,
        ("POST", CONFIG): lambda *a: (200, "application/json", b'{"JDBCSystemResources": {"items": []}}'),
    }
    with Replay(routes) as server:
        results = by_item(run(WeblogicJdbcCheck(), {"weblogic_url": server.url}))
    orders = results["ManagedServer1/OrdersDS"]
    assert orders.metric("active") is None and "maxCapacity unknown" in orders.summary
    assert orders.status is Status.WARNING  # 4 waiting > 0 still alerts


def test_an_answer_without_server_runtimes_is_unknown():
    routes = {("POST", RUNTIME): lambda *a: (200, "application/json", b'{"items": []}')}
    with Replay(routes) as server:
        (result,) = run(WeblogicThreadsCheck(), {"weblogic_url": server.url})
    assert result.status is Status.UNKNOWN and "no serverRuntimes.items" in result.summary
