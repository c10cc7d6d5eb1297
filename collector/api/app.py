"""The collector's HTTP application.

Routes are thin: validation lives in the batch model, storage in the Store, plans in
collector.plans. Blocking work (the database) runs in the thread pool, and an answer to a push is
sent only after the store committed the batch.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import FastAPI, HTTPException, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, PlainTextResponse

from collector.api.auth import authenticate
from collector.api.batch import Batch, check_ownership, parse_batch
from collector.api.body import read_body, require_json
from collector.api.events import events_router
from collector.api.responses import json_body, refusals
from collector.config.site import SiteWatcher
from collector.errors import StoreError
from collector.events.repository import DatabaseRepository
from collector.events.service import build_engine
from collector.events.settings import EventSettings
from collector.notify.settings import NotificationSettings
from collector.plans import agent_plan, plan_etag
from collector.store.store import Store

log = logging.getLogger("patrol.api")

AGENT = ("agent",)
METRICS = ("metrics",)


@dataclass
class ApiSettings:
    max_body_bytes: int = 10 * 1024 * 1024
    timezone: str = "UTC"  # the zone cron schedules are read in, passed to agents in their plans
    events: EventSettings = field(default_factory=EventSettings)  # the engine's rules (silence too)
    notifications: NotificationSettings | None = None  # for the escalation levels of acknowledged events
    report_dir: Path = Path("var/reports")  # the reports the console lists and serves


def _nothing() -> None:
    return None


def agent_statuses(agents: list, policy, now: float) -> list[dict]:
    """Each agent with ``silent``: no batch for longer than the event engine's "no data" limit, so the
    agent list, the console and the events agree."""
    out = []
    for agent in agents:
        interval = agent.expected_interval_seconds
        last = agent.last_seen.timestamp() if agent.last_seen else None
        limit = policy.nodata_limit(dt.timedelta(seconds=interval)).total_seconds() if interval else None
        out.append({
            "name": agent.name,
            "last_seen": agent.last_seen,
            "expected_interval_seconds": interval,
            "results_received": agent.results_received,
            "silent": limit is not None and (last is None or now - last > limit),
        })
    return out


def create_app(store: Store, site: SiteWatcher, settings: ApiSettings | None = None,
               on_change: Callable[[], None] = _nothing, console: Any = None) -> FastAPI:
    """``on_change`` is called after results were stored or an event changed (``patrol serve`` wakes its
    event service with it; worker processes have none: the service finds the results by polling).
    ``console``: the web console's parts (``collector.web.console.Console``; tests inject a clock and
    cheap hashing), built with the store's accounts when not given."""
    from prometheus_client import CollectorRegistry

    from collector.metrics import IngestMetrics, PatrolCollector

    settings = settings or ApiSettings()
    policy = settings.events.policy(settings.notifications)
    app = FastAPI(
        title="Patrol collector",
        version="1",
        description="Agent pushes, agent plans, agent status, health and Prometheus metrics. See docs/api.md.",
        # The OpenAPI document is served below, behind a token like every route but the health checks;
        # the interactive pages would load scripts from the internet, so there are none.
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )
    registry = CollectorRegistry()
    registry.register(PatrolCollector(store))
    app.state.store = store
    app.state.site = site
    app.state.settings = settings
    app.state.registry = registry
    install_store_outage(app)
    app.state.ingest = IngestMetrics(registry)

    @app.get("/healthz", tags=["health"])
    def healthz() -> dict:
        """The process answers."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"], responses=refusals(503))
    def readyz() -> Response:
        """The store answers a query."""
        from collector.store.engine import check_connection

        try:
            check_connection(store.engine)
        except Exception as exc:  # noqa: BLE001 - any failure means not ready
            return JSONResponse({"status": "unavailable", "detail": str(exc)}, status_code=503)
        return JSONResponse({"status": "ok"})

    @app.post("/api/v1/results", tags=["agents"], openapi_extra=json_body(Batch),
              responses=refusals(400, 401, 403, 413, 415, 422, 503))
    async def push_results(request: Request) -> dict:
        """Store a batch of results exactly once; answer only after it is durable."""
        token = await authenticate(request, AGENT)
        started = time.perf_counter()
        try:
            require_json(request)
            batch = parse_batch(await read_body(request, settings.max_body_bytes))
            check_ownership(batch, token.name)
        except HTTPException as exc:
            app.state.ingest.observe("rejected", 0, time.perf_counter() - started)
            log.warning("batch from %s refused (%d): %s", token.name, exc.status_code, exc.detail)
            raise
        outcome = await run_in_threadpool(store.ingest_batch, batch.batch_id, batch.agent, list(batch.results))
        if outcome.stored:
            on_change()
        kind = "duplicate" if outcome.duplicate else "stored"
        app.state.ingest.observe(kind, len(batch.results), time.perf_counter() - started)
        return {"batch_id": batch.batch_id, "stored": outcome.stored, "duplicate": outcome.duplicate}

    @app.get("/api/v1/agents/{name}/plan", tags=["agents"], responses=refusals(304, 401, 403, 404, 422))
    async def get_plan(name: str, request: Request) -> Response:
        """The checks this agent runs, from the inventory and the scheduled playbooks; ETag-cached."""
        token = await authenticate(request, AGENT)
        if token.name != name:
            raise HTTPException(403, f"this token belongs to agent {token.name!r}, not {name!r}")
        await run_in_threadpool(site.reload_if_changed)
        plan = agent_plan(site.site, name, settings.timezone)
        if plan is None:
            raise HTTPException(404, f"{name!r} is not an agent host (patrol_agent: true) in the inventory")
        await run_in_threadpool(store.touch_agent, name, plan["interval_seconds"])
        etag = plan_etag(plan)
        headers = {"ETag": etag, "Cache-Control": "no-cache"}
        if etag in [t.strip() for t in request.headers.get("if-none-match", "").split(",")]:
            return Response(status_code=304, headers=headers)
        return JSONResponse(plan, headers=headers)

    @app.get("/api/v1/agents", tags=["agents"], responses=refusals(401, 403))
    async def list_agents(request: Request) -> list[dict]:
        """Every agent with its last contact; ``silent`` after several missed intervals."""
        await authenticate(request, METRICS)
        agents = await run_in_threadpool(store.agents)
        return [
            {**status, "last_seen": status["last_seen"].isoformat().replace("+00:00", "Z")
             if status["last_seen"] else None}
            for status in agent_statuses(agents, policy, time.time())
        ]

    repository = DatabaseRepository.from_store(store)

    def engine_factory():
        return build_engine(store, settings.events, settings.notifications, site.site.inventory, repository)

    app.include_router(events_router(engine_factory, on_change, lambda: site.site.inventory))
    install_console(app, console, store=store, site=site, engine_factory=engine_factory, policy=policy,
                    settings=settings, on_change=on_change)

    @app.get("/openapi.json", tags=["api"], responses=refusals(401, 403))
    async def openapi_document(request: Request) -> JSONResponse:
        """This API's OpenAPI document (any valid token)."""
        await authenticate(request, AGENT + METRICS + ("viewer", "operator"))
        return JSONResponse(app.openapi())

    # Documented as text: the exposition format is not JSON.
    @app.get("/metrics", tags=["metrics"], response_class=PlainTextResponse, responses=refusals(401, 403))
    async def metrics(request: Request) -> Response:
        """Prometheus exposition of the latest results, agents and the collector's own ingest figures."""
        from collector.metrics import CONTENT_TYPE, render

        await authenticate(request, METRICS)
        body = await run_in_threadpool(render, registry)
        return Response(body, media_type=CONTENT_TYPE)

    return app


def install_store_outage(app: FastAPI) -> None:
    """A store outage answered 503 with Retry-After on every route, API and console alike."""
    outage = {"logged": 0.0, "refused": 0}

    @app.exception_handler(StoreError)
    async def store_unavailable(request: Request, exc: StoreError) -> Response:
        # The database is away (restarting, failing over) or refused the write: nothing was stored, and
        # agents keep the batch and retry. One log line per 10 s, not a traceback per request.
        outage["refused"] += 1
        now = time.monotonic()
        if now - outage["logged"] >= 10:
            log.error("store unavailable, %d request(s) answered 503 since the last report: %s", outage["refused"],
                      exc)
            outage["logged"], outage["refused"] = now, 0
        return JSONResponse({"detail": f"the store is unavailable, try again: {exc}"}, status_code=503,
                            headers={"Retry-After": "5"})


def install_console(app: FastAPI, console: Any, *, store: Store, site: SiteWatcher, engine_factory: Callable,
                    policy: Any, settings: ApiSettings, on_change: Callable[[], None]) -> None:
    """The web console under /console: its pages, its stylesheet and its error pages."""
    from fastapi.responses import FileResponse, RedirectResponse

    from collector.web.accounts import Accounts
    from collector.web.console import PREFIX, Console, ConsoleDenied, ConsoleRedirect, redirect, secured
    from collector.web.pages import console_router

    console = console or Console(Accounts.from_store(store), timezone=settings.timezone)
    app.state.console = console
    app.include_router(console_router(console, store=store, site=site, engine_factory=engine_factory, policy=policy,
                                      report_dir=settings.report_dir, on_change=on_change,
                                      settings=settings))
    stylesheet = Path(__file__).parent.parent / "web" / "static" / "console.css"

    @app.get(f"{PREFIX}/static/console.css", include_in_schema=False)
    def console_css() -> Response:
        """The console's stylesheet: public, like the sign-in page it dresses (it holds no data)."""
        response = FileResponse(stylesheet, media_type="text/css")
        response.headers["Cache-Control"] = "public, max-age=3600"
        return secured(response)

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return redirect(f"{PREFIX}/")

    @app.get(PREFIX, include_in_schema=False)
    def console_root() -> RedirectResponse:
        return redirect(f"{PREFIX}/")

    @app.exception_handler(ConsoleRedirect)
    async def to_login(_request: Request, exc: ConsoleRedirect) -> Response:
        return redirect(exc.location)

    @app.exception_handler(ConsoleDenied)
    async def denied(request: Request, exc: ConsoleDenied) -> Response:
        return console.denied(request, exc)
