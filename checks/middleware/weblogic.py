"""weblogic_threads and weblogic_jdbc — from the WebLogic REST management API (12.2.1+, 14c).

Inventory: ``weblogic_url`` (the Administration Server, e.g. https://wls-admin:7002), ``weblogic_user``
(a user in the Monitor group is enough), ``weblogic_password`` (a secret reference), optional
``weblogic_ca_file`` and ``weblogic_timeout``. Each poll is one POST to the domain runtime's
``search`` resource, which answers for every running server of the domain at once; weblogic_jdbc adds
one to the domain configuration's for each data source's maxCapacity. WebLogic refuses POSTs
without an ``X-Requested-By`` header (its CSRF guard), so we send one.

Verified against recorded answers only (no WebLogic can run here): their shape follows Oracle's
"RESTful Management Services" reference. See docs/middleware.md.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pydantic import Field

from checks.base import CheckContext, Outcome, metric
from checks.middleware.base import MiddlewareCheck, percent
from checks.middleware.http import EndpointError, HttpClient, join
from checks.params import CheckParams
from checks.status import Status
from checks.thresholds import Levels, UpperLimit

API = "/management/weblogic/latest"
HEADERS = {"X-Requested-By": "patrol", "Accept": "application/json"}
THREAD_FIELDS = ["executeThreadTotalCount", "executeThreadIdleCount", "hoggingThreadCount", "stuckThreadCount",
                 "pendingUserRequestCount", "queueLength", "healthState"]  # fmt: skip
JDBC_FIELDS = ["name", "state", "activeConnectionsCurrentCount", "currCapacity", "waitingForConnectionCurrentCount",
               "leakedConnectionCount"]  # fmt: skip
# WebLogic's HealthState names, lower-cased as the REST API gives them.
HEALTH = {"ok": Status.OK, "warn": Status.WARNING, "critical": Status.CRITICAL, "failed": Status.CRITICAL,
          "overloaded": Status.CRITICAL}  # fmt: skip


def search(client: HttpClient, tree: str, query: Mapping[str, Any]) -> Any:
    url = join(client.endpoint.url, f"{API}/{tree}/search")
    response = client.request("POST", url, json=query, headers=HEADERS)
    try:
        return response.json()
    except ValueError:
        raise EndpointError(f"{url}: the answer is not JSON") from None


def servers(answer: Any, url_hint: str) -> list[Mapping[str, Any]]:
    try:
        items = answer["serverRuntimes"]["items"]
    except (TypeError, KeyError):
        raise EndpointError(f"{url_hint}: no serverRuntimes.items in the answer") from None
    if not isinstance(items, list):
        raise EndpointError(f"{url_hint}: serverRuntimes.items is not a list")
    return [s for s in items if isinstance(s, Mapping)]


def number(bean: Mapping[str, Any], name: str) -> float | None:
    value = bean.get(name)
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def server_state(server: Mapping[str, Any]) -> Outcome | None:
    """A CRITICAL outcome for a server that is not RUNNING (a stopped server answers no runtime beans)."""
    state = str(server.get("state", "RUNNING"))
    if state.upper() != "RUNNING":
        return Outcome(item=str(server.get("name", "?")), summary=f"server state {state}", status=Status.CRITICAL)
    return None


class WeblogicThreadsParams(CheckParams):
    warning: UpperLimit = Field(default=0, description="stuck threads above which to warn (0: any stuck thread)")
    critical: UpperLimit = Field(default=5, description="stuck threads above which the state is critical")
    hogging_warning: UpperLimit | None = Field(default=10, description="hogging threads above which to warn")
    hogging_critical: UpperLimit | None = Field(default=None, description="hogging threads, critical")
    pending_warning: UpperLimit | None = Field(default=None, description="pending user requests to warn at")


class WeblogicThreadsCheck(MiddlewareCheck):
    name = "weblogic_threads"
    title = "WebLogic self-tuning thread pool per server: stuck and hogging threads, health (REST API)"
    Params = WeblogicThreadsParams
    prefix = "weblogic"
    metrics = {
        "stuck_threads": "threads stuck longer than StuckThreadMaxTime; the item is the server",
        "hogging_threads": "threads held by one request for long",
        "execute_threads": "threads in the self-tuning pool",
        "idle_threads": "idle threads of the pool",
        "pending_requests": "user requests waiting for a thread",
    }
    example = "- weblogic_threads: {warning: 0, critical: 5, hogging_warning: 10}"

    def poll(self, ctx: CheckContext, client: HttpClient, params: WeblogicThreadsParams) -> Iterator[Outcome]:
        query = {"links": [], "fields": [], "children": {"serverRuntimes": {
            "links": [], "fields": ["name", "state"],
            "children": {"threadPoolRuntime": {"links": [], "fields": THREAD_FIELDS}},
        }}}  # fmt: skip
        for server in servers(search(client, "domainRuntime", query), client.endpoint.url):
            down = server_state(server)
            if down is not None:
                yield down
                continue
            name = str(server.get("name", "?"))
            pool = server.get("threadPoolRuntime")
            if not isinstance(pool, Mapping):
                yield Outcome(item=name, summary="no threadPoolRuntime in the answer", status=Status.UNKNOWN,
                              collected=False)  # fmt: skip
                continue
            figures = {key: number(pool, field) for key, field in (
                ("stuck_threads", "stuckThreadCount"), ("hogging_threads", "hoggingThreadCount"),
                ("execute_threads", "executeThreadTotalCount"), ("idle_threads", "executeThreadIdleCount"),
                ("pending_requests", "pendingUserRequestCount"))}  # fmt: skip
            if figures["stuck_threads"] is None:
                yield Outcome(item=name, summary="stuckThreadCount is missing from the answer",
                              status=Status.UNKNOWN, collected=False)  # fmt: skip
                continue
            health = str((pool.get("healthState") or {}).get("state", "ok")).lower()
            summary = (f"{figures['stuck_threads']:g} stuck, {figures['hogging_threads'] or 0:g} hogging of "
                       f"{figures['execute_threads'] or 0:g} threads, {figures['pending_requests'] or 0:g} pending; "
                       f"health {health}")  # fmt: skip
            yield Outcome(
                item=name, summary=summary,
                metrics=[metric(k, v) for k, v in figures.items() if v is not None],
                levels={"stuck_threads": Levels(params.warning, params.critical),
                        "hogging_threads": Levels(params.hogging_warning, params.hogging_critical),
                        "pending_requests": Levels(params.pending_warning, None)},
                status=HEALTH.get(health, Status.UNKNOWN),
            )  # fmt: skip


class WeblogicJdbcParams(CheckParams):
    warning: UpperLimit = Field(default=80, description="active connections, % of maxCapacity, to warn at")
    critical: UpperLimit = Field(default=95, description="active connections, % of maxCapacity, critical")
    waiting_warning: UpperLimit | None = Field(default=0, description="requests waiting for a connection to "
                                               "warn above (0: any)")  # fmt: skip
    waiting_critical: UpperLimit | None = Field(default=None, description="requests waiting, critical")


class WeblogicJdbcCheck(MiddlewareCheck):
    name = "weblogic_jdbc"
    title = "WebLogic JDBC data sources per server: active connections vs maxCapacity, waiters, state (REST API)"
    Params = WeblogicJdbcParams
    prefix = "weblogic"
    metrics = {
        "active": "active connections, of the data source's maxCapacity (%); the item is server/data source",
        "active_connections": "connections in use",
        "capacity": "connections in the pool now (currCapacity)",
        "max_capacity": "the data source's configured maxCapacity",
        "waiting": "requests waiting for a connection",
        "leaked": "connections leaked (not returned to the pool)",
    }
    example = "- weblogic_jdbc: {warning: 80, critical: 95}"

    def poll(self, ctx: CheckContext, client: HttpClient, params: WeblogicJdbcParams) -> Iterator[Outcome]:
        query = {"links": [], "fields": [], "children": {"serverRuntimes": {
            "links": [], "fields": ["name", "state"],
            "children": {"JDBCServiceRuntime": {"links": [], "fields": [], "children": {
                "JDBCDataSourceRuntimeMBeans": {"links": [], "fields": JDBC_FIELDS}}}},
        }}}  # fmt: skip
        runtime = servers(search(client, "domainRuntime", query), client.endpoint.url)
        limits = max_capacities(client)
        for server in runtime:
            down = server_state(server)
            if down is not None:
                yield down
                continue
            name = str(server.get("name", "?"))
            beans = ((server.get("JDBCServiceRuntime") or {}).get("JDBCDataSourceRuntimeMBeans") or {}).get("items")
            for ds in beans if isinstance(beans, list) else []:
                yield data_source(f"{name}/{ds.get('name', '?')}", ds, limits.get(str(ds.get("name"))), params)


def max_capacities(client: HttpClient) -> dict[str, float]:
    """maxCapacity per data source from the domain configuration (runtime beans do not carry it)."""
    query = {"links": [], "fields": [], "children": {"JDBCSystemResources": {
        "links": [], "fields": ["name"], "children": {"JDBCResource": {"links": [], "fields": [], "children": {
            "JDBCConnectionPoolParams": {"links": [], "fields": ["maxCapacity"]}}}},
    }}}  # fmt: skip
    answer = search(client, "domainConfig", query)
    out = {}
    for res in (answer.get("JDBCSystemResources") or {}).get("items") or [] if isinstance(answer, Mapping) else []:
        pool = (res.get("JDBCResource") or {}).get("JDBCConnectionPoolParams") or {}
        capacity = number(pool, "maxCapacity")
        if capacity is not None:
            out[str(res.get("name"))] = capacity
    return out


def data_source(item: str, ds: Mapping[str, Any], max_capacity: float | None, params: WeblogicJdbcParams) -> Outcome:
    state = str(ds.get("state", "?"))
    active = number(ds, "activeConnectionsCurrentCount")
    if active is None:
        return Outcome(item=item, summary="activeConnectionsCurrentCount is missing from the answer",
                       status=Status.UNKNOWN, collected=False)  # fmt: skip
    figures = [metric("active_connections", active)]
    for key, field in (("capacity", "currCapacity"), ("waiting", "waitingForConnectionCurrentCount"),
                       ("leaked", "leakedConnectionCount")):  # fmt: skip
        value = number(ds, field)
        if value is not None:
            figures.append(metric(key, value))
    share = percent(active, max_capacity) if max_capacity else None
    if max_capacity:
        figures.append(metric("max_capacity", max_capacity))
    if share is not None:
        figures.insert(0, metric("active", share, "%"))
    waiting = next((m.value for m in figures if m.name == "waiting"), 0)
    of = f"{share:.1f}% of maxCapacity {max_capacity:g}" if share is not None else "maxCapacity unknown"
    return Outcome(
        item=item,
        summary=f"{state}: {active:g} active ({of}), {waiting:g} waiting",
        metrics=figures,
        levels={"active": Levels(params.warning, params.critical),
                "waiting": Levels(params.waiting_warning, params.waiting_critical)},
        # Suspended or Overloaded pools refuse connections: the application is down as far as it knows.
        status=Status.OK if state == "Running" else Status.CRITICAL,
    )  # fmt: skip
