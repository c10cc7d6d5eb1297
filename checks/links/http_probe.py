"""One HTTP(S) exchange with the timing of each phase and the certificate of the verified connection.

http.client rather than requests: the probe opens the TCP connection and the TLS session itself and
lets http.client's HTTPResponse parse the answer, so it can time connect, handshake and first byte
separately, and read the peer certificate's notAfter from the very connection that was verified
(``getpeercert()`` on the wrapped socket) without turning verification off. requests hides the socket
behind its connection pool and connects lazily. No proxy from the
environment is used: the probe measures the direct path.
"""

from __future__ import annotations

import base64
import http.client
import socket
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from checks.links.endpoints import Family, ResolveError, resolve

REDIRECTS = (301, 302, 303, 307, 308)


class ProbeError(Exception):
    """The exchange failed; the message says at which phase and why."""


@dataclass
class Exchange:
    url: str  # the URL finally answered (after any redirects followed)
    status: int
    reason: str
    body: bytes
    truncated: bool  # the body was longer than the limit and only its start was read
    connect_time: float = 0.0
    tls_time: float | None = None
    first_byte_time: float = 0.0
    total_time: float = 0.0
    cert_not_after: float | None = None  # epoch seconds; None for plain HTTP or unverified TLS
    redirects: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Request:
    url: str
    method: str = "GET"
    headers: Mapping[str, str] = field(default_factory=dict)
    auth: tuple[str, str] | None = None
    verify: bool = True
    ca_file: str | None = None
    max_redirects: int = 0
    max_body: int = 1024 * 1024
    family: Family = "auto"


def tls_context(verify: bool, ca_file: str | None) -> ssl.SSLContext:
    if not verify:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    return ssl.create_default_context(cafile=ca_file)


def fetch(request: Request, deadline: float) -> Exchange:
    """Perform the request, following up to ``max_redirects`` redirects, all before ``deadline``."""
    start = time.monotonic()
    context = tls_context(request.verify, request.ca_file) if request.url.startswith("https") else None
    url, method, auth = request.url, request.method, request.auth
    redirects: list[str] = []
    while True:
        if context is None and url.startswith("https"):
            context = tls_context(request.verify, request.ca_file)
        answer = _exchange(url, method, request, auth, context, deadline)
        location = answer.pop("location")
        exchange = Exchange(url=url, redirects=list(redirects), **answer)
        if exchange.status not in REDIRECTS or not location or len(redirects) >= request.max_redirects:
            exchange.total_time = time.monotonic() - start
            return exchange
        following = urljoin(url, location)
        if urlsplit(following).scheme not in ("http", "https"):
            raise ProbeError(f"redirect to {following!r}: not an http(s) URL")
        if _origin(following) != _origin(url):
            auth = None  # credentials go only to the origin they were configured for
        if exchange.status == 303:
            method = "GET"
        redirects.append(following)
        url = following


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    return parts.scheme, (parts.hostname or "").lower(), parts.port


def _exchange(url, method, request: Request, auth, context, deadline) -> dict:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ProbeError(f"{url!r} is not an http(s) URL")
    host = parts.hostname
    port = parts.port or (443 if parts.scheme == "https" else 80)
    phase = "connect"
    try:
        sock, connect_time = _connect(host, port, request.family, deadline)
        tls_time = None
        cert_not_after = None
        if parts.scheme == "https":
            phase = "TLS handshake"
            t0 = time.monotonic()
            sock.settimeout(_left(deadline))
            try:
                sock = context.wrap_socket(sock, server_hostname=host)
            except BaseException:
                sock.close()
                raise
            tls_time = time.monotonic() - t0
            cert = sock.getpeercert()  # parsed only when verified; {} with verification off
            if cert and cert.get("notAfter"):
                cert_not_after = ssl.cert_time_to_seconds(cert["notAfter"])
        try:
            phase = "request"
            path = parts.path or "/"
            if parts.query:
                path += "?" + parts.query
            default_port = 443 if parts.scheme == "https" else 80
            host_header = f"[{host}]" if ":" in host else host
            if port != default_port:
                host_header += f":{port}"
            headers = {"Host": host_header, "User-Agent": "patrol-http-check", "Accept": "*/*",
                       "Connection": "close", **request.headers}  # fmt: skip
            if auth is not None:
                token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
                headers["Authorization"] = f"Basic {token}"
            head = f"{method} {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
            t0 = time.monotonic()
            sock.settimeout(_left(deadline))
            sock.sendall(head.encode("latin-1"))
            phase = "response"
            # The socket we connected, timed and verified is read directly (http.client parses the
            # answer), so nothing reconnects behind our back and the deadline applies to every read.
            response = http.client.HTTPResponse(sock, method=method)
            try:
                response.begin()
                first_byte = time.monotonic() - t0
                body, truncated = _read_body(response, sock, request.max_body if method != "HEAD" else 0, deadline)
            finally:
                response.close()
            return {
                "status": response.status,
                "reason": response.reason,
                "body": body,
                "truncated": truncated,
                "connect_time": connect_time,
                "tls_time": tls_time,
                "first_byte_time": first_byte,
                "cert_not_after": cert_not_after,
                "location": response.getheader("Location"),
            }
        finally:
            sock.close()
    except ssl.SSLCertVerificationError as exc:
        raise ProbeError(f"TLS certificate of {host} not trusted: {exc.verify_message}") from None
    except ssl.SSLError as exc:
        raise ProbeError(f"TLS handshake with {host}:{port} failed: {exc.reason or exc}") from None
    except TimeoutError:
        raise ProbeError(f"no answer within the timeout ({phase} phase, {host}:{port})") from None
    except ConnectionRefusedError:
        raise ProbeError(f"connection to {host}:{port} refused") from None
    except (http.client.HTTPException, ConnectionError) as exc:
        raise ProbeError(f"{phase} failed: {exc.__class__.__name__}: {exc or 'connection closed'}") from None
    except ResolveError as exc:
        raise ProbeError(str(exc)) from None
    except OSError as exc:
        raise ProbeError(f"{phase} to {host}:{port} failed: {exc.strerror or exc}") from None


def _connect(host: str, port: int, family: Family, deadline: float) -> tuple[socket.socket, float]:
    last: OSError = TimeoutError()
    for fam, sockaddr in resolve(host, port, family):
        sock = socket.socket(fam, socket.SOCK_STREAM)
        sock.settimeout(_left(deadline))
        t0 = time.monotonic()
        try:
            sock.connect(sockaddr)
        except OSError as exc:
            sock.close()
            last = exc
            continue
        return sock, time.monotonic() - t0
    raise last


def _read_body(response, sock, limit: int, deadline: float) -> tuple[bytes, bool]:
    chunks: list[bytes] = []
    size = 0
    while size < limit:
        sock.settimeout(_left(deadline))  # a server trickling bytes is held to the same deadline
        chunk = response.read(min(65536, limit - size))
        if not chunk:
            return b"".join(chunks), False
        chunks.append(chunk)
        size += len(chunk)
    # At the limit: one more byte tells whether anything was left out.
    more = response.read(1) if limit else b""
    return b"".join(chunks), bool(more)


def _left(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError()
    return left
