"""Events and maintenance windows over HTTP: viewer tokens read, operator tokens change.

The engine call of a change (acknowledge, resolve, comment) commits the change, its history and its
notices (into the outbox) together; the collector's event service delivers the notices.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import ValidationError

from collector.api.auth import authenticate
from collector.api.body import read_body, require_json
from collector.api.responses import json_body, refusals
from collector.events.engine import EventEngine, EventNotFound, EventStateError
from collector.events.views import (
    Acknowledgement,
    CommentIn,
    EventQuery,
    Resolution,
    WindowSpec,
    comment_json,
    event_detail_json,
    event_json,
    query_events,
    window_json,
)

READ = ("viewer", "operator")
CHANGE = ("operator",)
MAX_CHANGE_BYTES = 64 * 1024
# Ids are 64-bit database integers: a larger one in a path was handed to the database and failed there (500).
EventId = Annotated[int, Path(ge=1, le=2**63 - 1, description="an event's id")]
WindowId = Annotated[int, Path(ge=1, le=2**63 - 1, description="a maintenance window's id")]


def events_router(engine_factory: Callable[[], EventEngine], on_change: Callable[[], None],
                  inventory: Callable[[], Any]) -> APIRouter:
    """``engine_factory``: a fresh engine with the site's rules (it follows inventory reloads);
    ``on_change``: wake this process's event service (prompt delivery of the notices)."""
    router = APIRouter(prefix="/api/v1", tags=["events"])

    async def body(request: Request, model: type) -> Any:
        raw = await read_body(request, MAX_CHANGE_BYTES)
        if raw:  # acknowledging or resolving needs no body at all
            require_json(request)
        try:
            return model.model_validate_json(raw or b"{}")
        except ValidationError as exc:
            raise HTTPException(422, _problems(exc)) from None

    @router.get("/events", responses=refusals(401, 403, 422))
    async def list_events(
        request: Request,
        state: str = Query("open", description="open (firing or acknowledged), firing, acknowledged, resolved, "
                                               "closed or all"),
        severity: str | None = Query(None, description="comma-separated: WARNING,CRITICAL,UNKNOWN,NODATA"),
        target: str | None = Query(None, description="host pattern: web*, linux:&prod, ~regex"),
        check: str | None = Query(None, description="check name or glob"),
        since: str | None = Query(None, description="opened at or after (ISO 8601 with a zone)"),
        until: str | None = Query(None, description="opened before (ISO 8601 with a zone)"),
        limit: int = Query(100, description="at most this many, newest first (1 to 10000)"),
    ) -> list[dict]:
        """Events matching every filter given, newest first."""
        await authenticate(request, READ)
        raw = {"state": state, "severity": severity, "target": target, "check": check, "since": since,
               "until": until, "limit": limit}
        try:
            query = EventQuery.model_validate({k: v for k, v in raw.items() if v is not None})
        except ValidationError as exc:
            raise HTTPException(422, _problems(exc)) from None
        engine = engine_factory()
        events = await run_in_threadpool(query_events, engine.repository, query, inventory())
        return [event_json(e) for e in events]

    @router.get("/events/{event_id}", responses=refusals(401, 403, 404, 422))
    async def get_event(event_id: EventId, request: Request) -> dict:
        """One event with its full history and its comments."""
        await authenticate(request, READ)
        repository = engine_factory().repository

        def read() -> dict | None:
            event = repository.get_event(event_id)
            if event is None:
                return None
            return event_detail_json(event, repository.history(event_id), repository.comments(event_id))

        found = await run_in_threadpool(read)
        if found is None:
            raise HTTPException(404, f"no event with id {event_id}")
        return found

    async def change(event_id: int, call: Callable[[EventEngine], Any]) -> dict:
        engine = engine_factory()

        def run() -> dict:
            call(engine)
            event = engine.repository.get_event(event_id)
            assert event is not None
            return event_json(event)

        try:
            out = await run_in_threadpool(run)
        except EventNotFound:
            raise HTTPException(404, f"no event with id {event_id}") from None
        except EventStateError as exc:
            raise HTTPException(409, str(exc)) from None
        except ValueError as exc:
            raise HTTPException(422, str(exc)) from None
        on_change()
        return out

    @router.post("/events/{event_id}/acknowledge", openapi_extra=json_body(Acknowledgement, required=False),
                 responses=refusals(401, 403, 404, 409, 413, 415, 422))
    async def acknowledge(event_id: EventId, request: Request) -> dict:
        """Acknowledge an open event (escalation stops); ``expires_at`` or ``expires_in`` make it fire again
        then. Body: ``{"comment": ..., "expires_in": "2h"}`` (every key optional)."""
        token = await authenticate(request, CHANGE)
        ack: Acknowledgement = await body(request, Acknowledgement)
        expiry = ack.expiry(dt.datetime.now(dt.UTC))
        return await change(event_id, lambda e: e.acknowledge(event_id, token.name, ack.comment, expiry))

    @router.post("/events/{event_id}/resolve", openapi_extra=json_body(Resolution, required=False),
                 responses=refusals(401, 403, 404, 409, 413, 415, 422))
    async def resolve(event_id: EventId, request: Request) -> dict:
        """Resolve an open event by hand. Body: ``{"comment": ...}`` (optional)."""
        token = await authenticate(request, CHANGE)
        resolution: Resolution = await body(request, Resolution)
        return await change(event_id, lambda e: e.resolve(event_id, token.name, resolution.comment))

    @router.post("/events/{event_id}/comments", status_code=201, openapi_extra=json_body(CommentIn),
                 responses=refusals(401, 403, 404, 413, 415, 422))
    async def add_comment(event_id: EventId, request: Request) -> dict:
        """Comment on an event in any state. Body: ``{"text": ...}``."""
        token = await authenticate(request, CHANGE)
        comment: CommentIn = await body(request, CommentIn)
        engine = engine_factory()
        try:
            stored = await run_in_threadpool(engine.comment, event_id, token.name, comment.text)
        except EventNotFound:
            raise HTTPException(404, f"no event with id {event_id}") from None
        except ValueError as exc:
            raise HTTPException(422, str(exc)) from None
        return comment_json(stored)

    @router.get("/maintenance", tags=["maintenance"], responses=refusals(401, 403))
    async def list_windows(request: Request) -> list[dict]:
        """Every maintenance window, with whether it is in force now."""
        await authenticate(request, READ)
        windows = await run_in_threadpool(engine_factory().repository.windows)
        now = dt.datetime.now(dt.UTC)
        return [window_json(w, now) for w in windows]

    @router.post("/maintenance", tags=["maintenance"], status_code=201, openapi_extra=json_body(WindowSpec),
                 responses=refusals(401, 403, 413, 415, 422))
    async def add_window(request: Request) -> dict:
        """Create a maintenance window: ``once`` (starts_at, ends_at or duration), ``cron`` (cron, duration)
        or ``weekly`` (weekdays, start_time, duration), scoped by a host pattern and optionally a check."""
        token = await authenticate(request, CHANGE)
        spec: WindowSpec = await body(request, WindowSpec)
        now = dt.datetime.now(dt.UTC)
        try:
            window = spec.window(token.name, now)
        except ValueError as exc:
            raise HTTPException(422, str(exc)) from None
        stored = await run_in_threadpool(engine_factory().repository.add_window, window)
        on_change()
        return window_json(stored, now)

    @router.delete("/maintenance/{window_id}", tags=["maintenance"], status_code=204,
                   responses=refusals(401, 403, 404, 422))
    async def remove_window(window_id: WindowId, request: Request) -> Response:
        """Remove a maintenance window; events it held are told at the next tick if still open."""
        await authenticate(request, CHANGE)
        removed = await run_in_threadpool(engine_factory().repository.remove_window, window_id)
        if not removed:
            raise HTTPException(404, f"no maintenance window with id {window_id}")
        on_change()
        return Response(status_code=204)

    return router


def _problems(exc: ValidationError) -> list[dict]:
    """Pydantic's errors without the input echoed back (it may be long, or not meant for logs)."""
    return [
        {"field": ".".join(str(p) for p in error["loc"]) or "body", "message": error["msg"]}
        for error in exc.errors(include_url=False)
    ]
