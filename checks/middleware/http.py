"""HTTP for checks that read a management endpoint (Tomcat manager, Jolokia, WebLogic REST).

The endpoint of a target comes from its inventory variables, named by a prefix: ``tomcat_url``,
``tomcat_user``, ``tomcat_password`` (a secret reference), ``tomcat_ca_file`` (a CA bundle for a
private CA; verification is never turned off) and ``tomcat_timeout`` (seconds per request). The
password is resolved through ``Target.secret`` so the scrubber knows it before any message is made.

Failures are classified once, here, so every check reports them the same way:

- ``EndpointUnreachable``: refused, reset, unresolvable or silent within the timeout. The server is
  down as far as we can tell: CRITICAL, ``collected: false``.
- ``EndpointDenied``: 401/403. The server is up, our credentials are not good enough: UNKNOWN,
  naming the variables to fix.
- ``EndpointError``: any other unusable answer (status, redirect, size, not the expected format):
  UNKNOWN with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests

from checks.base import CheckContext
from checks.timeouts import CallTimedOut, call_with_timeout

DEFAULT_TIMEOUT = 10.0
MAX_BODY = 16 * 1024 * 1024  # a status page or bulk answer is kilobytes; more means something is wrong
USER_AGENT = "patrol-check"


class EndpointProblem(Exception):
    """Base of the failures below; the message is safe to show (no secrets, one line)."""


class EndpointUnreachable(EndpointProblem):
    pass


class EndpointDenied(EndpointProblem):
    pass


class EndpointError(EndpointProblem):
    def __init__(self, message: str, http_status: int | None = None) -> None:
        super().__init__(message)
        self.http_status = http_status  # the server's answer, where it gave one that is not usable


class EndpointConfigError(EndpointProblem):
    """An inventory variable is missing or wrong; the message names it."""


@dataclass(frozen=True)
class Endpoint:
    prefix: str  # "tomcat", "jolokia", "weblogic": the inventory variables' prefix
    url: str
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    ca_file: str | None = None
    timeout: float = DEFAULT_TIMEOUT

    def credentials_hint(self) -> str:
        if self.user is None:
            return f"set {self.prefix}_user and {self.prefix}_password"
        return f"check {self.prefix}_user ({self.user}) and {self.prefix}_password"


def endpoint(ctx: CheckContext, prefix: str, url_var: str | None = None) -> Endpoint:
    """The endpoint described by the target's ``<prefix>_*`` variables (``url_var`` overrides the URL's)."""
    variables = ctx.target.vars
    url_key = url_var or f"{prefix}_url"
    url = variables.get(url_key)
    if not url:
        raise EndpointConfigError(f"{url_key} is not set for {ctx.target.name}")
    parts = urlsplit(str(url))
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise EndpointConfigError(f"{url_key} must be an http:// or https:// URL with a host (got {url!r})")
    if parts.username or parts.password:
        raise EndpointConfigError(f"{url_key} may not carry credentials; use {prefix}_user and {prefix}_password")
    user = variables.get(f"{prefix}_user")
    password = ctx.secret(f"{prefix}_password") if variables.get(f"{prefix}_password") is not None else None
    if (user is None) != (password is None):
        raise EndpointConfigError(f"{prefix}_user and {prefix}_password go together: set both or neither")
    ca_file = variables.get(f"{prefix}_ca_file")
    timeout = variables.get(f"{prefix}_timeout", DEFAULT_TIMEOUT)
    try:
        timeout = float(timeout)
        if timeout <= 0:
            raise ValueError
    except (TypeError, ValueError):
        raise EndpointConfigError(f"{prefix}_timeout must be a positive number of seconds (got {timeout!r})") from None
    return Endpoint(prefix, str(url), str(user) if user is not None else None, password,
                    str(ca_file) if ca_file else None, timeout)  # fmt: skip


def join(base: str, path: str) -> str:
    return base.rstrip("/") + "/" + path.lstrip("/")


class HttpClient:
    """One requests session per check run; every call bounded by the endpoint's and the check's time."""

    def __init__(self, ctx: CheckContext, ep: Endpoint, session: requests.Session | None = None) -> None:
        self.ctx = ctx
        self.endpoint = ep
        self.session = session or requests.Session()
        self.session.headers["User-Agent"] = USER_AGENT
        if ep.user is not None:
            self.session.auth = (ep.user, ep.password or "")
        # TLS verification stays on: a private CA is given as a file, never by turning checks off.
        self.session.verify = ep.ca_file or True

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def budget(self) -> float:
        """Seconds the next request may take: the endpoint's timeout, within the check's own."""
        return max(0.1, min(self.endpoint.timeout, self.ctx.remaining() - 0.5))

    def tls_advice(self) -> str:
        """What to do about a failed TLS handshake (a client that pins certificates says otherwise)."""
        return f"set {self.endpoint.prefix}_ca_file to the CA that signed the server's certificate"

    def request(self, method: str, url: str, role_hint: str = "", ok: tuple[int, ...] = (200,),
                **kwargs: Any) -> requests.Response:  # fmt: skip
        """``ok``: the statuses that are an answer (a login that creates a session answers 201)."""
        budget = self.budget()
        # Per request, because requests lets REQUESTS_CA_BUNDLE in the environment override a session's
        # verify: a configured CA file must win over it.
        kwargs.setdefault("verify", self.session.verify)

        def call() -> requests.Response:
            # requests' timeout bounds each socket wait, not the whole exchange, so the body is read
            # here, in the bounded call, with a size cap.
            response = self.session.request(method, url, timeout=budget, allow_redirects=False, stream=True,
                                            **kwargs)  # fmt: skip
            body = b""
            for chunk in response.iter_content(65536):
                body += chunk
                if len(body) > MAX_BODY:
                    response.close()
                    raise EndpointError(f"{url}: the answer is larger than {MAX_BODY // 1048576} MiB")
            response._content = body  # noqa: SLF001 - what requests itself does after reading
            return response

        try:
            response = call_with_timeout(call, budget + 0.2, f"http:{url}")
        except (CallTimedOut, requests.Timeout):
            raise EndpointUnreachable(f"{url}: no answer within {budget:g} s") from None
        except requests.exceptions.SSLError as exc:
            raise EndpointError(f"{url}: TLS failed ({_root_cause(exc)}); {self.tls_advice()}") from None
        except requests.ConnectionError as exc:
            raise EndpointUnreachable(f"{url}: {_root_cause(exc)}") from None
        except requests.RequestException as exc:
            raise EndpointError(f"{url}: {exc.__class__.__name__}: {_root_cause(exc)}") from None
        status = response.status_code
        if status in (401, 403):
            role = f"; the user needs the {role_hint} role" if role_hint and status == 403 else ""
            hint = self.endpoint.credentials_hint()
            raise EndpointDenied(f"{url}: HTTP {status}, the credentials were refused ({hint}{role})")
        if 300 <= status < 400:
            raise EndpointError(f"{url}: HTTP {status}, redirected to {response.headers.get('Location', '?')}; "
                                f"give {self.endpoint.prefix}_url the final address")  # fmt: skip
        if status not in ok:
            # The start of the body usually says why (a servlet's error page, a JSON error document).
            said = " ".join(response.content[:200].decode("utf-8", "replace").split())
            raise EndpointError(
                f"{url}: HTTP {status} {response.reason or ''}".rstrip() + (f": {said}" if said else ""), status
            )
        return response

    def get(self, url: str, role_hint: str = "", **kwargs: Any) -> requests.Response:
        return self.request("GET", url, role_hint, **kwargs)

    def post_json(self, url: str, document: Any, role_hint: str = "") -> Any:
        response = self.request("POST", url, role_hint, json=document)
        return json_of(response, url)

    def get_json(self, url: str, role_hint: str = "", **kwargs: Any) -> Any:
        response = self.get(url, role_hint, headers={"Accept": "application/json"}, **kwargs)
        return json_of(response, url)


def json_of(response: requests.Response, url: str) -> Any:
    try:
        return response.json()
    except ValueError:
        start = " ".join(response.text[:80].split())
        raise EndpointError(f"{url}: the answer is not JSON (starts with {start!r})") from None


def _root_cause(exc: BaseException) -> str:
    """The innermost reason ('Connection refused'), not urllib3's nested retry wrapper."""
    seen = exc
    while True:
        inner = seen.__cause__ or seen.__context__ or (seen.args[0] if seen.args and
                                                        isinstance(seen.args[0], BaseException) else None)  # fmt: skip
        reason = getattr(seen, "reason", None)
        if isinstance(reason, BaseException):
            inner = reason
        if inner is None or inner is seen:
            break
        seen = inner
    text = str(seen)
    if "] " in text and text.startswith("["):
        text = text.split("] ", 1)[1]  # "[Errno 111] Connection refused" -> "Connection refused"
    if ": " in text and "object at 0x" in text:
        text = text.rsplit(": ", 1)[1]  # urllib3's "<...Connection object at 0x..>: Failed to ..."
    return text or seen.__class__.__name__


# Inventory variables that make a target a management endpoint polled over HTTP (a BMC's Redfish
# service, checks.redfish, is one too).
URL_VARS = ("tomcat_url", "jolokia_url", "weblogic_url", "redfish_url")


def is_http_service(target: Any) -> bool:
    """A target polled over HTTP only: ``connection: http``, or a middleware (or Redfish) URL without another
    connection.

    Like an SNMP device, such a target (an application server, often without SSH access for the
    monitoring account) is not probed on the SSH port; each check reports an unreachable server
    itself, within its timeout. A host that is also checked over SSH sets ``connection: ssh``.
    """
    explicit = target.vars.get("connection") or target.vars.get("ansible_connection")
    if explicit:
        return explicit == "http"
    return any(target.vars.get(name) for name in URL_VARS)
