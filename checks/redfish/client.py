"""A small Redfish client: the service root, resources by ``@odata.id``, collections, sessions.

The BMC is described by the target's inventory variables: ``redfish_url`` (``https://bmc.example``),
``redfish_user``, ``redfish_password`` (a secret reference), ``redfish_auth`` (``basic``, the default,
or ``session``), ``redfish_timeout``, and how its certificate is trusted: ``redfish_ca_file`` (the CA
that signed it) or ``redfish_fingerprint`` (the SHA-256 fingerprint of the certificate itself, for the
self-signed certificate most BMCs ship with). Verification is never simply turned off: with a pinned
fingerprint the certificate chain is not validated, but the connection is refused unless the
certificate the BMC presents is exactly the pinned one.

HTTP is the middleware checks' client (checks.middleware.http): the same timeouts, size cap and
classification of failures (unreachable, denied, unusable answer).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter

from checks.base import CheckContext
from checks.middleware.http import EndpointConfigError, EndpointError, HttpClient, endpoint, json_of

PREFIX = "redfish"
SERVICE_ROOT = "/redfish/v1/"
SESSIONS = "/redfish/v1/SessionService/Sessions"  # where the service root does not say (Links.Sessions)
AUTH_MODES = ("basic", "session")
MAX_MEMBERS = 512  # a collection longer than this is not a server's inventory; stop rather than page forever


def normalise_fingerprint(value: Any) -> str:
    """``AB:CD:...`` (openssl's form) or plain hex, as 64 lower-case hex digits; ValueError otherwise."""
    text = re.sub(r"[\s:]", "", str(value)).lower()
    if not isinstance(value, str) or not re.fullmatch(r"[0-9a-f]{64}", text):
        raise ValueError(
            "expected the certificate's SHA-256 fingerprint: 64 hex digits, colons allowed "
            "(openssl x509 -noout -fingerprint -sha256 -in bmc.pem)"
        )
    return text


def fingerprint_problem(value: Any) -> str | None:
    """For the inventory checks (collector.config.variables)."""
    try:
        normalise_fingerprint(value)
    except ValueError as exc:
        return str(exc)
    return None


class PinnedAdapter(HTTPAdapter):
    """HTTPS that trusts exactly one certificate, by the SHA-256 digest of its DER form.

    The handshake accepts the certificate without validating its chain (a self-signed BMC certificate
    has none), and urllib3 then compares the digest of the certificate actually presented with the pin
    (``assert_fingerprint``), refusing the connection on any difference. The pin and the skipped chain
    validation live in this one adapter, so neither happens without the other.
    """

    def __init__(self, fingerprint: str, **kwargs: Any) -> None:
        self.fingerprint = normalise_fingerprint(fingerprint)
        super().__init__(**kwargs)

    def init_poolmanager(self, connections: int, maxsize: int, block: bool = False, **pool_kwargs: Any) -> None:
        pool_kwargs["assert_fingerprint"] = self.fingerprint
        super().init_poolmanager(connections, maxsize, block, **pool_kwargs)

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        kwargs["verify"] = False  # the pin above replaces chain validation; it is checked on every connection
        return super().send(request, **kwargs)


class RedfishHttp(HttpClient):
    def __init__(self, ctx: CheckContext, ep: Any, fingerprint: str | None, session: requests.Session | None) -> None:
        super().__init__(ctx, ep, session)
        self.fingerprint = fingerprint
        if fingerprint:
            self.session.mount("https://", PinnedAdapter(fingerprint))

    def tls_advice(self) -> str:
        if self.fingerprint:
            return ("the certificate is not the one pinned in redfish_fingerprint; if the BMC's certificate was "
                    "replaced, check the new one and pin its SHA-256 fingerprint")  # fmt: skip
        return ("set redfish_ca_file to the CA that signed the BMC's certificate, or pin a self-signed one with "
                "redfish_fingerprint")  # fmt: skip


class RedfishClient:
    """One BMC for one check run. ``open`` reads the service root and, with session auth, logs in;
    ``close`` logs out again (a BMC allows few sessions, so none is left behind)."""

    def __init__(self, ctx: CheckContext, session: requests.Session | None = None) -> None:
        variables = ctx.target.vars
        ep = endpoint(ctx, PREFIX)
        parts = urlsplit(ep.url)
        if parts.path.rstrip("/") not in ("", "/redfish/v1", "/redfish"):
            raise EndpointConfigError(f"redfish_url is the BMC's address, e.g. https://bmc.example (got {ep.url!r})")
        self.origin = f"{parts.scheme}://{parts.netloc}"
        fingerprint = variables.get("redfish_fingerprint")
        if fingerprint and ep.ca_file:
            raise EndpointConfigError("set one of redfish_ca_file and redfish_fingerprint, not both")
        if fingerprint:
            if parts.scheme != "https":
                raise EndpointConfigError("redfish_fingerprint needs an https:// redfish_url")
            try:
                fingerprint = normalise_fingerprint(fingerprint)
            except ValueError as exc:
                raise EndpointConfigError(f"redfish_fingerprint: {exc}") from None
        self.auth = str(variables.get("redfish_auth") or "basic")
        if self.auth not in AUTH_MODES:
            raise EndpointConfigError(f"redfish_auth must be one of {', '.join(AUTH_MODES)} (got {self.auth!r})")
        if self.auth == "session" and ep.user is None:
            raise EndpointConfigError("redfish_auth: session needs redfish_user and redfish_password")
        self.ctx = ctx
        self.endpoint = ep
        self.http = RedfishHttp(ctx, ep, fingerprint or None, session)
        self.session_url: str | None = None
        self.root: dict[str, Any] = {}

    # -- lifetime -------------------------------------------------------------------------------

    def open(self) -> dict[str, Any]:
        # The service root answers without credentials (the Redfish specification requires it): it
        # proves the BMC is there and says where the sessions live.
        self.root = self.get(SERVICE_ROOT)
        if self.auth == "session":
            self.login()
        return self.root

    def login(self) -> None:
        self.http.session.auth = None  # the token replaces basic auth on every later request
        where = (self.root.get("Links") or {}).get("Sessions", {}).get("@odata.id") or SESSIONS
        url = self.url(where)
        credentials = {"UserName": self.endpoint.user, "Password": self.endpoint.password}
        response = self.http.request("POST", url, ok=(200, 201), json=credentials)
        token = response.headers.get("X-Auth-Token")
        if not token:
            raise EndpointError(f"{url}: the BMC created no session (no X-Auth-Token in its answer)")
        self.ctx.scrubber.add(token)
        self.http.session.headers["X-Auth-Token"] = token
        location = response.headers.get("Location")
        if not location:
            try:
                location = json_of(response, url).get("@odata.id")
            except (EndpointError, AttributeError):
                location = None
        self.session_url = self.url(location) if location else None

    def close(self) -> None:
        try:
            if self.session_url:
                # Best effort: a logout that fails leaves a session the BMC expires itself.
                try:
                    self.http.request("DELETE", self.session_url, ok=(200, 202, 204))
                except Exception:  # noqa: BLE001 - a failed logout must not hide the check's own outcome
                    pass
                self.session_url = None
        finally:
            self.http.close()

    def __enter__(self) -> RedfishClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reading --------------------------------------------------------------------------------

    def url(self, path: str) -> str:
        if path.startswith(("http://", "https://")):
            return path
        return self.origin + "/" + path.lstrip("/")

    def get(self, path: str) -> dict[str, Any]:
        url = self.url(path.split("#", 1)[0])
        document = self.http.get_json(url)
        if not isinstance(document, dict):
            raise EndpointError(f"{url}: expected a JSON object, got {type(document).__name__}")
        return document

    def link(self, document: dict[str, Any], name: str) -> str | None:
        """The ``@odata.id`` a property of ``document`` links to, or None."""
        value = document.get(name)
        if isinstance(value, dict) and isinstance(value.get("@odata.id"), str):
            return value["@odata.id"]
        return None

    def members(self, collection: str) -> Iterator[dict[str, Any]]:
        """Every member resource of a collection, following ``Members@odata.nextLink`` pages."""
        page: str | None = collection
        seen = 0
        while page:
            document = self.get(page)
            for member in document.get("Members") or []:
                if seen >= MAX_MEMBERS:
                    return
                seen += 1
                if isinstance(member, dict) and isinstance(member.get("@odata.id"), str):
                    # Some BMCs expand members inline; a bare reference is fetched.
                    yield member if len(member) > 1 else self.get(member["@odata.id"])
            page = document.get("Members@odata.nextLink")
