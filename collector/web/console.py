"""What every console page shares: who is asking (the session cookie), what their role allows, the CSRF
check of every form, login throttling, rendering and the security headers.

No page runs a script: the console is server-rendered HTML and CSS, charts are SVG pictures drawn on
the server, so the Content-Security-Policy forbids scripts altogether. Session cookies are HttpOnly,
SameSite=Lax, scoped to /console, and Secure whenever the request came over HTTPS. Every form carries
its session's CSRF token; the sign-in form (before any session) a double-submit token in a cookie of
its own. A form whose Origin is another site is refused too.
"""

from __future__ import annotations

import collections
import datetime as dt
import secrets
import threading
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from collector.web.accounts import ROLE_RANK, Accounts, Session
from collector.web.words import browser_language, words

PREFIX = "/console"
SESSION_COOKIE = "patrol_session"
LOGIN_COOKIE = "patrol_login"  # the sign-in form's double-submit token
MAX_FORM_BYTES = 64 * 1024
PAGE_CSP = ("default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; "
            "base-uri 'none'")
# SVG charts and HTML reports carry their own inline styles; they still run nothing.
PICTURE_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'; sandbox"
TEMPLATES = Path(__file__).parent / "templates"


class ConsoleRedirect(Exception):
    """Not signed in: the page answers with the sign-in page."""

    def __init__(self, location: str) -> None:
        self.location = location


class ConsoleDenied(Exception):
    """403: the role does not allow it, or the form failed the CSRF check; ``key`` names the message."""

    def __init__(self, key: str, status: int = 403, **args: str) -> None:
        self.key = key
        self.status = status
        self.args_ = args


@dataclass(frozen=True)
class Visitor:
    session: Session
    words: dict[str, str]

    @property
    def user(self):
        return self.session.user

    @property
    def csrf(self) -> str:
        return self.session.csrf_token

    def can(self, role: str) -> bool:
        return self.session.user.can(role)


class LoginThrottle:
    """Failed logins per client address in a sliding window; past ``limit``, that address waits.

    Per process: with several workers or replicas an address gets ``limit`` tries in each, and the
    per-account lock (in the database) still holds for all of them."""

    def __init__(self, limit: int = 20, window_seconds: float = 600, clock=time.monotonic) -> None:
        self.limit = limit
        self.window = window_seconds
        self._clock = clock
        self._failures: dict[str, collections.deque[float]] = {}
        self._lock = threading.Lock()

    def wait_seconds(self, address: str) -> float:
        """0 when ``address`` may try; else how long until it may."""
        with self._lock:
            times = self._trim(address)
            if len(times) < self.limit:
                return 0.0
            return max(times[0] + self.window - self._clock(), 1.0)

    def failed(self, address: str) -> None:
        with self._lock:
            self._trim(address).append(self._clock())
            if len(self._failures) > 10_000:  # a spray from many addresses must not grow memory for ever
                for key in [k for k, v in self._failures.items() if not v][:5000]:
                    del self._failures[key]

    def _trim(self, address: str) -> collections.deque[float]:
        times = self._failures.setdefault(address, collections.deque())
        cutoff = self._clock() - self.window
        while times and times[0] < cutoff:
            times.popleft()
        return times


class Console:
    """The console's shared parts, built once per application."""

    def __init__(self, accounts: Accounts, timezone: str = "UTC", throttle: LoginThrottle | None = None) -> None:
        from zoneinfo import ZoneInfo

        self.accounts = accounts
        self.throttle = throttle or LoginThrottle()
        self.zone = ZoneInfo(timezone)
        self.templates = Environment(
            loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(default=True, default_for_string=True),
            trim_blocks=True, lstrip_blocks=True,
        )
        self.templates.filters["when"] = self.when
        self.templates.filters["ago"] = ago
        self.templates.filters["q"] = lambda value: urllib.parse.quote(str(value), safe="")  # a path segment

    # -- who is asking -------------------------------------------------------------------------------

    async def visitor(self, request: Request, role: str) -> Visitor:
        """The signed-in visitor if their role is ``role`` or above; else the sign-in page (no session)
        or 403 (a lower role)."""
        session = await run_in_threadpool(self.accounts.session, request.cookies.get(SESSION_COOKIE))
        if session is None:
            if request.method in ("GET", "HEAD"):
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                raise ConsoleRedirect(f"{PREFIX}/login?next={urllib.parse.quote(target, safe='')}")
            raise ConsoleDenied("login_expired", status=403)
        visitor = Visitor(session, words(session.user.language))
        if ROLE_RANK[session.user.role] < ROLE_RANK[role]:
            raise ConsoleDenied("forbidden", role=session.user.role, needed=role)
        return visitor

    async def form(self, request: Request, visitor: Visitor | None = None) -> dict[str, str]:
        """A posted form, after its CSRF check: the session's token (or the sign-in form's cookie) must
        come back in the ``csrf_token`` field, and an Origin header, when sent, must be this site."""
        origin = request.headers.get("origin")
        if origin is not None and origin != _own_origin(request):
            raise ConsoleDenied("csrf_failed")
        if request.headers.get("sec-fetch-site") == "cross-site":
            raise ConsoleDenied("csrf_failed")
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_FORM_BYTES:
                raise ConsoleDenied("bad_input", status=413, problem=f"a form has at most {MAX_FORM_BYTES} bytes")
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if body and ctype != "application/x-www-form-urlencoded":
            raise ConsoleDenied("csrf_failed", status=415)
        try:
            pairs = urllib.parse.parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
        except UnicodeDecodeError:
            raise ConsoleDenied("bad_input", status=400, problem="the form is not UTF-8") from None
        fields = {key: value for key, value in pairs}
        expected = visitor.csrf if visitor is not None else request.cookies.get(LOGIN_COOKIE, "")
        given = fields.pop("csrf_token", "")
        if not expected or not secrets.compare_digest(given.encode(), expected.encode()):
            raise ConsoleDenied("csrf_failed")
        return fields

    # -- answers ---------------------------------------------------------------------------------------

    def page(self, template: str, visitor: Visitor | None, status: int = 200, language: str | None = None,
             **context: Any) -> HTMLResponse:
        w = visitor.words if visitor is not None else words(language or "en")
        html = self.templates.get_template(template).render(
            visitor=visitor, w=w, prefix=PREFIX, lang="zh-CN" if w is words("zh") else "en", **context
        )
        return secured(HTMLResponse(html, status_code=status))

    def denied(self, request: Request, exc: ConsoleDenied) -> HTMLResponse:
        language = browser_language(request.headers.get("accept-language", ""))
        w = words(language)
        message = w[exc.key].format(**exc.args_)
        return self.page("message.html", None, status=exc.status, language=language, message=message)

    def when(self, value: dt.datetime | None, seconds: bool = False) -> str:
        if value is None:
            return "-"
        local = value.astimezone(self.zone)
        return local.strftime("%Y-%m-%d %H:%M:%S %Z" if seconds else "%Y-%m-%d %H:%M %Z")


def secured(response: Response, csp: str = PAGE_CSP) -> Response:
    """The headers of every console answer: no scripts, no framing, no caching of what a user saw."""
    response.headers["Content-Security-Policy"] = csp
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY" if csp == PAGE_CSP else "SAMEORIGIN"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def redirect(location: str) -> RedirectResponse:
    return secured(RedirectResponse(location, status_code=303))  # type: ignore[return-value]


def set_cookie(request: Request, response: Response, name: str, value: str, max_age: int | None,
               same_site: str = "lax") -> None:
    response.set_cookie(
        name, value, max_age=max_age, path=PREFIX, httponly=True, samesite=same_site,
        secure=request.url.scheme == "https",
    )


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def safe_next(value: str | None) -> str:
    """Where to go after signing in: a console path of this site only (no open redirect)."""
    if value and value.startswith(PREFIX + "/") and not value.startswith("//") and "\\" not in value:
        return value
    return PREFIX + "/"


def ago(value: dt.datetime | None, now: dt.datetime | None = None) -> str:
    if value is None:
        return "-"
    seconds = max(((now or dt.datetime.now(dt.UTC)) - value).total_seconds(), 0)
    for size, unit in ((86400, "d"), (3600, "h"), (60, "min")):
        if seconds >= size:
            return f"{seconds / size:.0f} {unit}"
    return f"{seconds:.0f} s"


def _own_origin(request: Request) -> str:
    host = request.headers.get("host", "")
    return f"{request.url.scheme}://{host}"
