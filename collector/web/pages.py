"""The console's pages: overview, events, targets, patrols and reports, maintenance, users and tokens.

Every route asks ``console.visitor(request, ROLE)`` first: viewer pages read, operator forms change
events, maintenance windows and start patrols, admin pages manage users and tokens. Forms go through
``console.form`` (the CSRF check) before anything is read from them. Changes go through the same engine
and repositories as the HTTP API and the commands, so a change made here is the change made there.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, Response
from pydantic import ValidationError

from checks.status import Status
from collector.events.engine import EventEngine, EventNotFound, EventStateError
from collector.events.views import Acknowledgement, EventQuery, WindowSpec, query_events
from collector.report.model import CATEGORIES
from collector.web.accounts import ROLE_RANK, AccountError, LoginRefused
from collector.web.charts import history_svg, period_start
from collector.web.console import (
    LOGIN_COOKIE,
    PICTURE_CSP,
    PREFIX,
    SESSION_COOKIE,
    Console,
    ConsoleDenied,
    client_address,
    redirect,
    safe_next,
    secured,
    set_cookie,
)
from collector.web.words import browser_language, words

STATUSES = [s.value for s in (Status.CRITICAL, Status.WARNING, Status.UNKNOWN, Status.OK)]
SEVERITY_ORDER = {"CRITICAL": 0, "NODATA": 1, "UNKNOWN": 2, "WARNING": 3}
SEVERITIES = tuple(SEVERITY_ORDER)
HISTORY_HOURS = 24
CHARTS_PER_TARGET = 16
REPORT_FILE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,200}\.(html|pdf|xlsx|md|json)$")
DOWNLOAD_TYPES = {"html": "text/html; charset=utf-8", "pdf": "application/pdf", "json": "application/json",
                  "md": "text/markdown; charset=utf-8",
                  "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def console_router(console: Console, *, store: Any, site: Any, engine_factory: Callable[[], EventEngine],
                   policy: Any, report_dir: Path, on_change: Callable[[], None], settings: Any = None) -> APIRouter:
    """``settings``: the collector's ApiSettings, shown read-only to admins."""
    from collector.patrol import category_of
    from collector.store.run_requests import RunRequests

    router = APIRouter(prefix=PREFIX, include_in_schema=False)
    requests_queue = RunRequests(store)
    accounts = console.accounts

    def inventory():
        return site.site.inventory

    # -- sign in and out -----------------------------------------------------------------------------

    @router.get("/login")
    async def login_page(request: Request, next: str | None = None) -> Response:
        language = browser_language(request.headers.get("accept-language", ""))
        token = request.cookies.get(LOGIN_COOKIE) or _new_token()
        has_users = await run_in_threadpool(lambda: bool(accounts.users()))
        response = console.page("login.html", None, language=language, login_token=token, next=safe_next(next),
                                has_users=has_users, error=None)
        set_cookie(request, response, LOGIN_COOKIE, token, max_age=3600, same_site="strict")
        return response

    @router.post("/login")
    async def login(request: Request) -> Response:
        fields = await console.form(request)  # the double-submit check of the sign-in form
        language = browser_language(request.headers.get("accept-language", ""))
        w = words(language)
        address = client_address(request)
        token = request.cookies.get(LOGIN_COOKIE, "")
        next_page = safe_next(fields.get("next"))

        def again(message: str, status: int) -> Response:
            return console.page("login.html", None, status=status, language=language, login_token=token,
                                next=next_page, has_users=True, error=message)

        wait = console.throttle.wait_seconds(address)
        if wait:
            response = again(w["login_throttled"].format(minutes=max(1, round(wait / 60))), 429)
            response.headers["Retry-After"] = str(int(wait))
            return response
        try:
            signed_in = await run_in_threadpool(accounts.login, fields.get("name", ""), fields.get("password", ""))
        except LoginRefused as refused:
            console.throttle.failed(address)
            if refused.retry_after:
                return again(w["login_locked"].format(minutes=max(1, round(refused.retry_after / 60))), 403)
            return again(w["login_failed"], 401)
        # A new session whatever cookie came in: a session id planted before the login is never used.
        response = redirect(next_page)
        _session_cookie(request, response, signed_in)
        response.delete_cookie(LOGIN_COOKIE, path=PREFIX)
        return response

    @router.post("/logout")
    async def logout(request: Request) -> Response:
        visitor = await console.visitor(request, "viewer")
        await console.form(request, visitor)
        await run_in_threadpool(accounts.logout, request.cookies.get(SESSION_COOKIE))
        response = redirect(f"{PREFIX}/login")
        response.delete_cookie(SESSION_COOKIE, path=PREFIX)
        return response

    # -- overview ------------------------------------------------------------------------------------

    @router.get("/")
    async def overview(request: Request) -> Response:
        visitor = await console.visitor(request, "viewer")

        def read() -> dict:
            from collector.api.app import agent_statuses

            latest = store.latest_results()
            worst = _worst_by_target(latest)
            hosts = inventory().hosts
            by_category: dict[str, Counter] = {c: Counter() for c in CATEGORIES}
            unhealthy = []
            for target, status in worst.items():
                host = hosts.get(target)
                category = category_of(host) if host is not None else "hosts"
                by_category[category][status] += 1
                if status != "OK":
                    unhealthy.append((target, category, status))
            unhealthy.sort(key=lambda row: (STATUSES.index(row[2]), row[0]))
            counts = store.open_event_counts()
            severities = [(s, counts.get((s, "firing"), 0), counts.get((s, "acknowledged"), 0)) for s in SEVERITIES]
            agents = agent_statuses(store.agents(), policy, time.time())
            return {
                "categories": [(c, by_category[c]) for c in CATEGORIES if by_category[c]],
                "unhealthy": unhealthy[:20], "severities": severities,
                "silent": [a for a in agents if a["silent"]], "agent_count": len(agents),
                "runs": store.latest_runs(8), "statuses": STATUSES,
            }

        return console.page("overview.html", visitor, page="overview", **await run_in_threadpool(read))

    # -- events ----------------------------------------------------------------------------------------

    @router.get("/events")
    async def events(request: Request, state: str = "open", severity: str | None = None, target: str | None = None,
                     check: str | None = None, sort: str = "newest", notice: str | None = None) -> Response:
        visitor = await console.visitor(request, "viewer")
        raw = {"state": state, "severity": severity or None, "target": target or None, "check": check or None,
               "limit": 500}
        try:
            query = EventQuery.model_validate({k: v for k, v in raw.items() if v is not None})
        except ValidationError as exc:
            return _invalid(console, visitor, exc)
        found = await run_in_threadpool(query_events, engine_factory().repository, query, inventory())
        if sort == "severity":
            found.sort(key=lambda e: (SEVERITY_ORDER.get(e.severity, 9), -e.opened_at.timestamp()))
        elif sort == "target":
            found.sort(key=lambda e: (e.target, e.check, e.item))
        return console.page("events.html", visitor, page="events", events=found, filters=raw | {"sort": sort},
                            severities=SEVERITIES, notice=_notice(visitor, notice))

    @router.get("/events/{event_id}")
    async def event(request: Request, event_id: int, notice: str | None = None) -> Response:
        visitor = await console.visitor(request, "viewer")
        repository = engine_factory().repository

        def read() -> tuple | None:
            found = repository.get_event(event_id)
            if found is None:
                return None
            return found, repository.history(event_id), repository.comments(event_id)

        found = await run_in_threadpool(read)
        if found is None:
            raise ConsoleDenied("not_found", status=404)
        item, history, comments = found
        return console.page("event.html", visitor, page="events", event=item, history=history, comments=comments,
                            notice=_notice(visitor, notice))

    async def change_event(request: Request, event_id: int, act: Callable[[EventEngine, Any, dict], Any]) -> Response:
        visitor = await console.visitor(request, "operator")
        fields = await console.form(request, visitor)
        engine = engine_factory()
        try:
            await run_in_threadpool(act, engine, visitor, fields)
        except EventNotFound:
            raise ConsoleDenied("not_found", status=404) from None
        except (EventStateError, ValueError) as exc:
            return _problem(console, visitor, str(exc), 409 if isinstance(exc, EventStateError) else 422)
        on_change()
        back = fields.get("back", "")
        if back == "list":
            return redirect(f"{PREFIX}/events?notice=done")
        return redirect(f"{PREFIX}/events/{event_id}?notice=done")

    @router.post("/events/{event_id}/acknowledge")
    async def acknowledge(request: Request, event_id: int) -> Response:
        def act(engine: EventEngine, visitor, fields: dict) -> None:
            try:
                ack = Acknowledgement.model_validate({"comment": fields.get("comment") or None,
                                                      "expires_in": fields.get("expires_in") or None})
            except ValidationError as exc:
                raise ValueError(_first_problem(exc)) from None
            engine.acknowledge(event_id, visitor.user.name, ack.comment, ack.expiry(dt.datetime.now(dt.UTC)))

        return await change_event(request, event_id, act)

    @router.post("/events/{event_id}/resolve")
    async def resolve(request: Request, event_id: int) -> Response:
        def act(engine: EventEngine, visitor, fields: dict) -> None:
            comment = (fields.get("comment") or "").strip() or None
            if comment and len(comment) > 2000:
                raise ValueError("a comment has at most 2000 characters")
            engine.resolve(event_id, visitor.user.name, comment)

        return await change_event(request, event_id, act)

    @router.post("/events/{event_id}/comment")
    async def comment(request: Request, event_id: int) -> Response:
        def act(engine: EventEngine, visitor, fields: dict) -> None:
            text = (fields.get("text") or "").strip()
            if not text or len(text) > 2000:
                raise ValueError("a comment needs 1 to 2000 characters")
            engine.comment(event_id, visitor.user.name, text)

        return await change_event(request, event_id, act)

    # -- targets ---------------------------------------------------------------------------------------

    @router.get("/targets")
    async def targets(request: Request) -> Response:
        visitor = await console.visitor(request, "viewer")

        def read() -> list[tuple]:
            latest = store.latest_results()
            worst = _worst_by_target(latest)
            checks = Counter(r.target for r in latest)
            hosts = inventory().hosts
            names = sorted(set(worst) | set(hosts))
            rows = []
            for name in names:
                host = hosts.get(name)
                rows.append((name, host.address if host is not None else "", category_of(host) if host else "hosts",
                             worst.get(name), checks.get(name, 0)))
            rows.sort(key=lambda r: (STATUSES.index(r[3]) if r[3] else 9, r[0]))
            return rows

        return console.page("targets.html", visitor, page="targets", rows=await run_in_threadpool(read))

    @router.get("/targets/{name}")
    async def target(request: Request, name: str) -> Response:
        visitor = await console.visitor(request, "viewer")

        def read() -> dict:
            latest = store.latest_results(target=name)
            host = inventory().hosts.get(name)
            if not latest and host is None:
                return {}
            found = query_events(engine_factory().repository,
                                 EventQuery(state="all", target=_literal_pattern(name), limit=50), inventory())
            latest.sort(key=lambda r: (STATUSES.index(r.status.value), r.check, r.item))
            charted = [r for r in latest if r.collected and r.metrics][:CHARTS_PER_TARGET]
            return {"latest": latest, "host": host, "events": found, "charted": charted,
                    "category": category_of(host) if host is not None else "hosts"}

        context = await run_in_threadpool(read)
        if not context:
            raise ConsoleDenied("not_found", status=404)
        return console.page("target.html", visitor, page="targets", name=name, hours=HISTORY_HOURS, **context)

    @router.get("/targets/{name}/chart.svg")
    async def chart(request: Request, name: str, check: str = "", item: str = "") -> Response:
        visitor = await console.visitor(request, "viewer")  # before any input is judged
        if not check:
            raise ConsoleDenied("not_found", status=404)
        history = await run_in_threadpool(store.item_history, name, period_start(HISTORY_HOURS), check, item)
        title = f"{name} {check} {item}".strip()
        svg = await run_in_threadpool(history_svg, history, title) if history else None
        if svg is None:
            svg = _empty_svg(visitor.words["no_history"])
        response = Response(svg, media_type="image/svg+xml")
        response.headers["Cache-Control"] = "private, max-age=60"
        return secured(response, PICTURE_CSP)

    # -- patrols and reports -----------------------------------------------------------------------------

    @router.get("/patrols")
    async def patrols(request: Request, notice: str | None = None, playbook: str | None = None) -> Response:
        visitor = await console.visitor(request, "viewer")

        def read() -> dict:
            runs = store.latest_runs(50)
            files = _report_files(report_dir)
            per_run: dict[int, list[str]] = {}
            claimed: set[str] = set()
            for run in runs:
                prefix = f"{run.playbook}-{run.id}-"
                mine = sorted(f for f in files if f.startswith(prefix))
                per_run[run.id] = mine
                claimed.update(mine)
            others = sorted((f for f in files if f not in claimed and not _run_report(f)), reverse=True)[:30]
            playbooks = sorted(site.site.playbooks.values(), key=lambda p: p.name)
            return {"runs": runs, "reports": per_run, "others": others, "playbooks": playbooks,
                    "requests": requests_queue.recent(10)}

        context = await run_in_threadpool(read)
        message = visitor.words["run_requested"].format(playbook=playbook) if notice == "requested" and playbook \
            else _notice(visitor, notice)
        return console.page("patrols.html", visitor, page="patrols", notice=message, **context)

    @router.get("/reports/{filename}")
    async def report_file(request: Request, filename: str, download: bool = False) -> Response:
        await console.visitor(request, "viewer")
        match = REPORT_FILE.match(filename)
        path = report_dir / filename
        if match is None or not path.is_file() or path.resolve().parent != report_dir.resolve():
            raise ConsoleDenied("not_found", status=404)
        fmt = match.group(1)
        inline = fmt == "html" and not download
        response = FileResponse(path, media_type=DOWNLOAD_TYPES[fmt], filename=filename,
                                content_disposition_type="inline" if inline else "attachment")
        return secured(response, PICTURE_CSP)

    @router.post("/patrols/run")
    async def run_now(request: Request) -> Response:
        visitor = await console.visitor(request, "operator")
        fields = await console.form(request, visitor)
        name = fields.get("playbook", "")
        if name not in site.site.playbooks:
            return _problem(console, visitor, f"no playbook named {name!r}", 422)
        await run_in_threadpool(requests_queue.add, name, visitor.user.name)
        return redirect(f"{PREFIX}/patrols?notice=requested&playbook={_quote(name)}")

    # -- maintenance -----------------------------------------------------------------------------------

    @router.get("/maintenance")
    async def maintenance(request: Request, notice: str | None = None) -> Response:
        visitor = await console.visitor(request, "viewer")
        windows = await run_in_threadpool(engine_factory().repository.windows)
        return console.page("maintenance.html", visitor, page="maintenance", windows=windows,
                            now=dt.datetime.now(dt.UTC), notice=_notice(visitor, notice), zone=console.zone.key)

    @router.post("/maintenance")
    async def add_window(request: Request) -> Response:
        visitor = await console.visitor(request, "operator")
        fields = await console.form(request, visitor)
        spec_fields: dict[str, Any] = {k: v.strip() for k, v in fields.items() if v.strip()}
        if "weekdays" in spec_fields:
            spec_fields["weekdays"] = [d.strip() for d in spec_fields["weekdays"].split(",") if d.strip()]
        try:
            spec = WindowSpec.model_validate(spec_fields)
            window = spec.window(visitor.user.name, dt.datetime.now(dt.UTC))
        except ValidationError as exc:
            return _problem(console, visitor, _first_problem(exc), 422)
        except ValueError as exc:
            return _problem(console, visitor, str(exc), 422)
        await run_in_threadpool(engine_factory().repository.add_window, window)
        on_change()
        return redirect(f"{PREFIX}/maintenance?notice=window_added")

    @router.post("/maintenance/{window_id}/remove")
    async def remove_window(request: Request, window_id: int) -> Response:
        visitor = await console.visitor(request, "operator")
        await console.form(request, visitor)
        removed = await run_in_threadpool(engine_factory().repository.remove_window, window_id)
        if not removed:
            raise ConsoleDenied("not_found", status=404)
        on_change()
        return redirect(f"{PREFIX}/maintenance?notice=window_removed")

    # -- account (every role) --------------------------------------------------------------------------

    @router.get("/account")
    async def account(request: Request, notice: str | None = None) -> Response:
        visitor = await console.visitor(request, "viewer")
        return console.page("account.html", visitor, page="account", notice=_notice(visitor, notice))

    @router.post("/account/language")
    async def set_language(request: Request) -> Response:
        visitor = await console.visitor(request, "viewer")
        fields = await console.form(request, visitor)
        try:
            await run_in_threadpool(accounts.set_language, visitor.user.name, fields.get("language", ""))
        except AccountError as exc:
            return _problem(console, visitor, str(exc), 422)
        return redirect(f"{PREFIX}/account?notice=language_saved")

    @router.post("/account/password")
    async def set_password(request: Request) -> Response:
        visitor = await console.visitor(request, "viewer")
        fields = await console.form(request, visitor)
        w = visitor.words
        if fields.get("new_password", "") != fields.get("repeat_password", ""):
            return _problem(console, visitor, w["passwords_differ"], 422)
        try:  # the current password again: a session left open must not be enough to take the account
            await run_in_threadpool(accounts.login, visitor.user.name, fields.get("current_password", ""))
        except LoginRefused:
            return _problem(console, visitor, w["wrong_password"], 403)
        try:
            await run_in_threadpool(accounts.set_password, visitor.user.name, fields.get("new_password", ""))
            signed_in = await run_in_threadpool(accounts.login, visitor.user.name, fields["new_password"])
        except AccountError as exc:
            return _problem(console, visitor, str(exc), 422)
        response = redirect(f"{PREFIX}/account?notice=password_changed")
        _session_cookie(request, response, signed_in)
        return response

    # -- admin: users and tokens -----------------------------------------------------------------------

    @router.get("/admin/users")
    async def users(request: Request, notice: str | None = None) -> Response:
        visitor = await console.visitor(request, "admin")
        return console.page("users.html", visitor, page="users", users=await run_in_threadpool(accounts.users),
                            roles=list(ROLE_RANK), notice=_notice(visitor, notice), now=dt.datetime.now(dt.UTC))

    @router.post("/admin/users")
    async def add_user(request: Request) -> Response:
        visitor = await console.visitor(request, "admin")
        fields = await console.form(request, visitor)
        try:
            await run_in_threadpool(accounts.add_user, fields.get("name", ""), fields.get("role", ""),
                                    fields.get("password", ""), fields.get("language", "en"))
        except AccountError as exc:
            return _problem(console, visitor, str(exc), 422)
        return redirect(f"{PREFIX}/admin/users?notice=done")

    async def change_user(request: Request, call: Callable[[dict], Any], missing_status: int = 422) -> Response:
        """An admin's change of one user: ``call(fields)`` with the form's fields; an AccountError is shown."""
        visitor = await console.visitor(request, "admin")
        fields = await console.form(request, visitor)
        try:
            await run_in_threadpool(call, fields)
        except AccountError as exc:
            return _problem(console, visitor, str(exc), missing_status)
        return redirect(f"{PREFIX}/admin/users?notice=done")

    @router.post("/admin/users/{name}/role")
    async def change_role(request: Request, name: str) -> Response:
        return await change_user(request, lambda fields: accounts.set_role(name, fields.get("role", "")))

    @router.post("/admin/users/{name}/unlock")
    async def unlock(request: Request, name: str) -> Response:
        return await change_user(request, lambda _fields: accounts.unlock(name), missing_status=404)

    @router.post("/admin/users/{name}/remove")
    async def remove_user(request: Request, name: str) -> Response:
        return await change_user(request, lambda _fields: accounts.remove_user(name))

    @router.get("/admin/settings")
    async def settings_page(request: Request) -> Response:
        visitor = await console.visitor(request, "admin")
        return console.page("settings.html", visitor, page="settings", settings=settings_view(settings, report_dir),
                            inventory=str(site.inventory_path), playbooks=str(site.playbooks_dir))

    @router.get("/admin/tokens")
    async def tokens(request: Request, notice: str | None = None) -> Response:
        visitor = await console.visitor(request, "admin")
        return console.page("tokens.html", visitor, page="tokens", tokens=await run_in_threadpool(store.list_tokens),
                            kinds=TOKEN_KINDS, created=None, notice=_notice(visitor, notice))

    @router.post("/admin/tokens")
    async def create_token(request: Request) -> Response:
        visitor = await console.visitor(request, "admin")
        fields = await console.form(request, visitor)
        kind, name = fields.get("kind", ""), fields.get("name", "").strip()
        if kind not in TOKEN_KINDS:
            return _problem(console, visitor, f"unknown token kind {kind!r}: expected {', '.join(TOKEN_KINDS)}", 422)
        try:
            token_id, plaintext = await run_in_threadpool(store.create_token, kind, name)
        except ValueError as exc:
            return _problem(console, visitor, str(exc), 422)
        # Shown once, in this answer only (never in a URL, a log or the store); no-store keeps it out of caches.
        return console.page("tokens.html", visitor, page="tokens", tokens=await run_in_threadpool(store.list_tokens),
                            kinds=TOKEN_KINDS, created={"id": token_id, "kind": kind, "name": name,
                                                        "token": plaintext}, notice=None)

    @router.post("/admin/tokens/{token_id}/revoke")
    async def revoke_token(request: Request, token_id: int) -> Response:
        visitor = await console.visitor(request, "admin")
        await console.form(request, visitor)
        count = await run_in_threadpool(lambda: store.revoke_tokens(token_id=token_id))
        if not count:
            raise ConsoleDenied("not_found", status=404)
        return redirect(f"{PREFIX}/admin/tokens?notice=revoked")

    return router


TOKEN_KINDS = ("agent", "metrics", "viewer", "operator")


def settings_view(settings: Any, report_dir: Path) -> str:
    """The collector's settings as JSON for the admin's Settings page. Secrets are references already
    ({env: NAME}, {file: PATH}); URLs lose their query (robot URLs carry access tokens there) and
    headers their values."""
    import json

    if settings is None:
        return "{}"
    view = {"timezone": settings.timezone, "report_dir": str(report_dir), "max_body_bytes": settings.max_body_bytes,
            "events": settings.events.model_dump(mode="json"),
            "notifications": settings.notifications.model_dump(mode="json") if settings.notifications else None}
    return json.dumps(_scrubbed(view), indent=2, ensure_ascii=False)


def _scrubbed(value: Any, key: str = "") -> Any:
    if isinstance(value, dict):
        if key == "headers":
            return {name: "…" for name in value}
        return {k: _scrubbed(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrubbed(v, key) for v in value]
    if isinstance(value, str) and key.endswith("url") and ("?" in value or "@" in value):
        import urllib.parse

        parts = urllib.parse.urlsplit(value)
        host = parts.hostname or ""
        return urllib.parse.urlunsplit((parts.scheme, host + (f":{parts.port}" if parts.port else ""), parts.path,
                                        "…" if parts.query else "", ""))
    return value


def _session_cookie(request: Request, response: Response, signed_in: Any) -> None:
    """The new session's cookie, kept by the browser as long as the session can live."""
    lifetime = signed_in.session.expires_at - signed_in.session.created_at
    set_cookie(request, response, SESSION_COOKIE, signed_in.token, max_age=int(lifetime.total_seconds()))


def _worst_by_target(results: list) -> dict[str, str]:
    worst: dict[str, Status] = {}
    for result in results:
        current = worst.get(result.target)
        worst[result.target] = result.status if current is None else Status.worst([current, result.status])
    return {target: status.value for target, status in worst.items()}


def _literal_pattern(name: str) -> str:
    """A host pattern matching exactly ``name`` (names may hold pattern characters)."""
    return "~^" + re.escape(name) + "$"


def _report_files(report_dir: Path) -> list[str]:
    if not report_dir.is_dir():
        return []
    return [p.name for p in report_dir.iterdir() if p.is_file() and REPORT_FILE.match(p.name)]


def _run_report(filename: str) -> bool:
    """A run report's name (PLAYBOOK-RUNID-YYYYmmdd-HHMMSS.ext) of a run no longer in the list."""
    return re.match(r"^.+-\d+-\d{8}-\d{6}\.[a-z]+$", filename) is not None


def _notice(visitor, key: str | None) -> str | None:
    if key in ("done", "window_added", "window_removed", "language_saved", "password_changed", "revoked"):
        return visitor.words[key]
    return None


def _problem(console: Console, visitor, message: str, status: int) -> Response:
    return console.page("message.html", visitor, status=status,
                        message=visitor.words["bad_input"].format(problem=message))


def _invalid(console: Console, visitor, exc: ValidationError) -> Response:
    return _problem(console, visitor, _first_problem(exc), 422)


def _first_problem(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors(include_url=False):
        where = ".".join(str(p) for p in error["loc"])
        parts.append(f"{where}: {error['msg']}" if where else error["msg"])
    return "; ".join(parts)


def _quote(value: str) -> str:
    import urllib.parse

    return urllib.parse.quote(value, safe="")


def _new_token() -> str:
    import secrets

    return secrets.token_urlsafe(32)


def _empty_svg(text: str) -> str:
    from markupsafe import escape

    return ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 600 60" role="img">'
            f'<text x="10" y="35" font-family="sans-serif" font-size="14" fill="#6b7280">{escape(text)}</text></svg>')
