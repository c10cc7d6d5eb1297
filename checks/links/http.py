"""http — an HTTP(S) endpoint answers with an expected status, in time, with the expected content,
and (for HTTPS) with a trusted certificate that is not about to expire.

TLS verification is on by default; ``ca_file`` trusts a private CA (or a pinned self-signed
certificate) instead of turning it off. Basic auth takes the user from ``user`` (or the inventory's
``http_user``) and the password from the inventory variable named by ``password_var``
(``http_password`` by default), which must be a secret reference; it is scrubbed from every message.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from typing import Literal

from pydantic import Field, PositiveFloat, PositiveInt, field_validator

from checks.base import Check, CheckContext, Outcome, metric
from checks.errors import CheckUnavailable
from checks.links.endpoints import HOST_PLACEHOLDER, Family, probe_budget
from checks.links.http_probe import Exchange, ProbeError, Request, fetch
from checks.params import CheckParams
from checks.status import Status
from checks.thresholds import Levels, LowerLimit, Range, UpperLimit
from checks.units import format_value

DAY = 86400.0


class HttpParams(CheckParams):
    url: str = Field(description="http:// or https:// URL; '{host}' becomes the target's address")
    method: Literal["GET", "HEAD"] = Field(default="GET", description="GET or HEAD")
    expected_status: list[int | str] = Field(
        default_factory=lambda: ["2xx", "3xx"],
        description="status codes that are OK: numbers such as 200 or classes such as '2xx'",
    )
    contains: str | None = Field(default=None, description="text the body must contain")
    regex: str | None = Field(default=None, description="regular expression the body must match (re.search)")
    max_redirects: int = Field(
        default=0, ge=0, le=20, description="redirects to follow (0: the first answer is judged, 3xx included)"
    )
    request_timeout: PositiveFloat = Field(default=10.0, description="seconds for the whole exchange")
    warning: UpperLimit | None = Field(default=None, description="response time (seconds) above which to warn")
    critical: UpperLimit | None = Field(default=None, description="response time (seconds) above which critical")
    cert_warning: LowerLimit | None = Field(default=30, description="certificate days left below which to warn")
    cert_critical: LowerLimit | None = Field(default=7, description="certificate days left below which critical")
    verify: bool = Field(default=True, description="verify the server's TLS certificate and name")
    ca_file: str | None = Field(default=None, description="PEM file of the CA(s) to trust instead of the system's")
    user: str | None = Field(default=None, description="basic auth user (default: the inventory's http_user)")
    password_var: str = Field(
        default="http_password", description="inventory variable holding the basic auth password (a secret reference)"
    )
    headers: dict[str, str] = Field(default_factory=dict, description="extra request headers")
    max_body: PositiveInt = Field(default=1024 * 1024, description="bytes of the body read for content matching")
    family: Family = Field(default="auto", description="address family: auto, ipv4 or ipv6")
    item: str | None = Field(default=None, max_length=200, description="item name (default: the URL)")

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not re.match(r"(?i)^https?://[^/]+", value):
            raise ValueError("must be an http:// or https:// URL with a host")
        return value

    @field_validator("expected_status")
    @classmethod
    def _codes(cls, values: list[int | str]) -> list[int | str]:
        if not values:
            raise ValueError("list at least one status code")
        for value in values:
            text = str(value).lower()
            if not re.fullmatch(r"[1-5]\d\d|[1-5]xx", text):
                raise ValueError(f"{value!r} is not a status code (200) or class ('2xx')")
        return values

    @field_validator("headers")
    @classmethod
    def _one_line(cls, values: dict[str, str]) -> dict[str, str]:
        for name, value in values.items():
            if not re.fullmatch(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+", name) or re.search(r"[\r\n]", value):
                raise ValueError(f"header {name!r}: a token name and a one-line value are expected")
        return values

    @field_validator("regex")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a valid regular expression: {exc}") from None
        return value


def in_seconds(days: Range | None) -> Range | None:
    return None if days is None else Range(days.start * DAY, days.end * DAY, days.inside)


def status_expected(code: int, expected: list[int | str]) -> bool:
    text = str(code)
    return any(str(e).lower() in (text, text[0] + "xx") for e in expected)


class HttpCheck(Check):
    name = "http"
    title = "HTTP(S) endpoint: status, response time, content match and TLS certificate days left"
    Params = HttpParams
    own_connection = True
    default_timeout = 30.0
    metrics = {
        "status_code": "HTTP status of the (final) answer",
        "response_time": "seconds from connecting to the last byte read, redirects included",
        "connect_time": "seconds the TCP handshake took (last exchange)",
        "tls_time": "seconds the TLS handshake took (last exchange; HTTPS only)",
        "first_byte_time": "seconds from sending the request to the status line (last exchange)",
        "size": "bytes of body read (at most max_body)",
        "cert_expires_in": "seconds until the verified server certificate expires (HTTPS with verify only; "
        "cert_warning and cert_critical are in days)",
    }
    example = (
        "- http: {url: 'https://{host}/health', contains: 'ok', warning: 1.0, cert_warning: 30, cert_critical: 7}"
    )

    def run(self, ctx: CheckContext, params: HttpParams) -> Iterable[Outcome]:
        url = params.url.replace(HOST_PLACEHOLDER, ctx.target.address)
        item = params.item or url
        request = Request(
            url=url,
            method=params.method,
            headers=params.headers,
            auth=self.credentials(ctx, params),
            verify=params.verify,
            ca_file=params.ca_file,
            max_redirects=params.max_redirects,
            max_body=params.max_body,
            family=params.family,
        )
        budget = probe_budget(ctx, params.request_timeout)
        try:
            exchange = fetch(request, time.monotonic() + budget)
        except ProbeError as exc:
            yield Outcome(item=item, summary=str(exc), status=Status.CRITICAL, metrics=[metric("status_code", 0)])
            return
        yield self.evaluate(item, exchange, params)

    @staticmethod
    def credentials(ctx: CheckContext, params: HttpParams) -> tuple[str, str] | None:
        user = params.user or ctx.target.vars.get("http_user")
        if not user:
            return None
        password = ctx.secret(params.password_var)  # registered with the scrubber when resolved
        if password is None:
            raise CheckUnavailable(
                f"basic auth user {user!r} is set but the inventory variable {params.password_var!r} "
                "(password_var) is not; write it as {env: NAME} or {file: PATH}"
            )
        return str(user), password

    @staticmethod
    def evaluate(item: str, ex: Exchange, params: HttpParams) -> Outcome:
        figures = [
            metric("status_code", ex.status),
            metric("response_time", round(ex.total_time, 6), "s"),
            metric("connect_time", round(ex.connect_time, 6), "s"),
            metric("first_byte_time", round(ex.first_byte_time, 6), "s"),
            metric("size", len(ex.body), "B"),
        ]
        levels = {"response_time": Levels(params.warning, params.critical)}
        parts = [f"HTTP {ex.status} {ex.reason}".rstrip() + f" in {format_value(ex.total_time, 's')}"]
        if ex.redirects:
            parts.append(f"after {len(ex.redirects)} redirect(s) to {ex.url}")
        problems = []
        if not status_expected(ex.status, params.expected_status):
            problems.append(f"status {ex.status} is not expected ({', '.join(map(str, params.expected_status))})")
        text = ex.body.decode("utf-8", "replace")
        cut = f" in the first {len(ex.body)} bytes" if ex.truncated else ""
        if params.contains is not None and params.contains not in text:
            problems.append(f"body does not contain {params.contains!r}{cut}")
        if params.regex is not None and not re.search(params.regex, text):
            problems.append(f"body does not match /{params.regex}/{cut}")
        if ex.tls_time is not None:
            figures.append(metric("tls_time", round(ex.tls_time, 6), "s"))
        if ex.cert_not_after is not None:
            left = ex.cert_not_after - time.time()
            days = left / DAY
            figures.append(metric("cert_expires_in", round(left), "s"))
            # Thresholds are written in days (how people think of certificates), the figure is in the base unit.
            levels["cert_expires_in"] = Levels(in_seconds(params.cert_warning), in_seconds(params.cert_critical))
            expires = time.strftime("%Y-%m-%d", time.gmtime(ex.cert_not_after))
            parts.append(f"certificate expires in {days:.1f} days ({expires})")
        elif ex.url.startswith("https") and not params.verify:
            parts.append("certificate not verified (verify: false), its expiry is not checked")
        summary = ", ".join(parts)
        if problems:
            summary = "; ".join(problems) + " — " + summary
        return Outcome(
            item=item,
            summary=summary,
            metrics=figures,
            levels=levels,
            status=Status.CRITICAL if problems else None,
        )
