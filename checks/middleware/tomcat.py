"""tomcat_threads and tomcat_memory — from Tomcat's manager status page (a ``manager-status`` user).

Inventory: ``tomcat_url`` (the server's base URL, e.g. http://app1:8080), ``tomcat_user``,
``tomcat_password`` (a secret reference), optional ``tomcat_ca_file`` and ``tomcat_timeout``.
"""

from __future__ import annotations

from collections.abc import Iterator
from fnmatch import fnmatchcase

from pydantic import Field

from checks.base import CheckContext, Outcome, metric
from checks.middleware import tomcat_status
from checks.middleware.base import MiddlewareCheck, percent
from checks.middleware.http import HttpClient
from checks.params import CheckParams
from checks.status import Status
from checks.thresholds import Levels, UpperLimit
from checks.units import format_bytes


class TomcatThreadsParams(CheckParams):
    warning: UpperLimit = Field(default=75, description="busy threads, % of maxThreads, at which to warn")
    critical: UpperLimit = Field(default=90, description="busy threads, % of maxThreads, critical")
    connectors: list[str] = Field(
        default_factory=list, description="connector name patterns to check, e.g. 'http-nio-*' (default: all)"
    )
    status_path: str = Field(default=tomcat_status.STATUS_PATH, description="path of the XML status page")


class TomcatThreadsCheck(MiddlewareCheck):
    name = "tomcat_threads"
    title = "Tomcat busy threads vs maxThreads per connector (manager status page)"
    Params = TomcatThreadsParams
    prefix = "tomcat"
    metrics = {
        "busy": "busy request threads, of maxThreads (%); the item is the connector",
        "busy_threads": "request threads serving a request",
        "current_threads": "request threads in the pool (busy or idle)",
        "max_threads": "the connector's maxThreads",
    }
    example = "- tomcat_threads: {warning: 75, critical: 90}"

    def poll(self, ctx: CheckContext, client: HttpClient, params: TomcatThreadsParams) -> Iterator[Outcome]:
        status = tomcat_status.fetch(client, params.status_path)
        chosen = [c for c in status.connectors
                  if not params.connectors or any(fnmatchcase(c.name, p) for p in params.connectors)]  # fmt: skip
        if not chosen:
            known = ", ".join(c.name for c in status.connectors) or "none"
            yield Outcome(summary=f"no connector matches {params.connectors} (connectors: {known})",
                          status=Status.UNKNOWN, collected=False)  # fmt: skip
            return
        for c in chosen:
            figures = [metric("busy_threads", c.busy_threads), metric("current_threads", c.current_threads),
                       metric("max_threads", c.max_threads)]  # fmt: skip
            busy = percent(c.busy_threads, c.max_threads)
            if busy is None:
                yield Outcome(item=c.name, metrics=figures, summary=f"{c.busy_threads} busy of "
                              f"{c.current_threads} threads; maxThreads not reported ({c.max_threads})")  # fmt: skip
                continue
            yield Outcome(
                item=c.name,
                summary=f"{busy:.1f}% busy: {c.busy_threads} of maxThreads {c.max_threads} "
                f"({c.current_threads} threads in the pool)",
                metrics=[metric("busy", busy, "%"), *figures],
                levels={"busy": Levels(params.warning, params.critical)},
            )


class TomcatMemoryParams(CheckParams):
    warning: UpperLimit = Field(default=85, description="JVM heap used, % of its maximum (-Xmx), at which to warn")
    critical: UpperLimit = Field(default=95, description="JVM heap used %, critical")
    pools: bool = Field(default=True, description="also report each heap memory pool (Eden, Old Gen ...)")
    pool_warning: UpperLimit | None = Field(default=None, description="pool used % of its maximum to warn at")
    pool_critical: UpperLimit | None = Field(default=None, description="pool used %, critical")
    status_path: str = Field(default=tomcat_status.STATUS_PATH, description="path of the XML status page")


class TomcatMemoryCheck(MiddlewareCheck):
    name = "tomcat_memory"
    title = "Tomcat JVM heap used vs its maximum, and heap memory pools (manager status page)"
    Params = TomcatMemoryParams
    prefix = "tomcat"
    metrics = {
        "used": "heap used, of the maximum heap (%); item 'heap', or a pool's name",
        "used_size": "heap (or pool) used (bytes)",
        "max_size": "maximum heap (or pool) size (bytes)",
        "committed_size": "heap (or pool) committed by the JVM (bytes)",
    }
    example = "- tomcat_memory: {warning: 85, critical: 95}"

    def poll(self, ctx: CheckContext, client: HttpClient, params: TomcatMemoryParams) -> Iterator[Outcome]:
        status = tomcat_status.fetch(client, params.status_path)
        used = percent(status.used, status.max)
        figures = [metric("used_size", status.used, "B"), metric("max_size", status.max, "B"),
                   metric("committed_size", status.total, "B")]  # fmt: skip
        if used is None:
            yield Outcome(item="heap", metrics=figures,
                          summary=f"{format_bytes(status.used)} used; the JVM reports no maximum heap")  # fmt: skip
        else:
            yield Outcome(
                item="heap",
                summary=f"{used:.1f}% of the heap used: {format_bytes(status.used)} of {format_bytes(status.max)}",
                metrics=[metric("used", used, "%"), *figures],
                levels={"used": Levels(params.warning, params.critical)},
            )
        if not params.pools:
            return
        for pool in status.pools:
            if pool.type != "Heap memory":
                continue  # code cache and metaspace have their own limits and rarely matter in a patrol
            share = percent(pool.used, pool.max)
            sizes = [metric("used_size", pool.used, "B"), metric("committed_size", pool.committed, "B")]
            if share is None:
                yield Outcome(item=pool.name, metrics=sizes, summary=f"{format_bytes(pool.used)} used, no maximum")
                continue
            yield Outcome(
                item=pool.name,
                summary=f"{share:.1f}% used: {format_bytes(pool.used)} of {format_bytes(pool.max)}",
                metrics=[metric("used", share, "%"), *sizes, metric("max_size", pool.max, "B")],
                levels={"used": Levels(params.pool_warning, params.pool_critical)},
            )
