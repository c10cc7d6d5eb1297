"""The collector's HTTP API as the agent uses it (docs/api.md): fetch the plan, push a batch.

``requests`` with certificate verification always on (``ca_file`` for a private CA, else the
system's CAs). The token is sent in the ``Authorization`` header and appears in no message.
Redirects are not followed: a POST must reach the collector itself, and a token must not follow a
redirect to another host.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from agent import __version__

CONNECT_TIMEOUT = 10.0
READ_TIMEOUT = 30.0


class TransportError(Exception):
    """The collector could not be reached or did not answer (connection, TLS, timeout)."""


@dataclass
class Answer:
    status: int
    data: Any = None  # the parsed JSON body, if there was one
    detail: str = ""  # the collector's message ("detail"), or the start of the body
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def retry_after(self) -> float:
        try:
            return max(0.0, float(self.headers.get("retry-after", "")))
        except ValueError:
            return 0.0


class CollectorClient:
    def __init__(
        self,
        base_url: str,
        agent: str,
        token: Callable[[], str],
        ca_file: Path | None = None,
        session: Any = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.agent = agent
        self.token = token
        self.session = session or requests.Session()
        # Passed with every request: requests lets REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE override a
        # session-level setting, which would silently ignore the agent's own ca_file.
        self.verify: str | bool = str(ca_file) if ca_file else True
        self.session.headers["User-Agent"] = f"patrol-agent/{__version__}"

    @property
    def plan_url(self) -> str:
        return f"{self.base_url}/api/v1/agents/{requests.utils.quote(self.agent, safe='')}/plan"

    @property
    def results_url(self) -> str:
        return f"{self.base_url}/api/v1/results"

    def fetch_plan(self, etag: str | None, timeout: float = READ_TIMEOUT) -> Answer:
        headers = {"Accept": "application/json"}
        if etag:
            headers["If-None-Match"] = etag
        return self._request("GET", self.plan_url, headers, None, timeout)

    def push(self, body: bytes, compress: bool = True, timeout: float = READ_TIMEOUT) -> Answer:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if compress:
            body = gzip.compress(body, compresslevel=6)
            headers["Content-Encoding"] = "gzip"
        return self._request("POST", self.results_url, headers, body, timeout)

    def _request(self, method: str, url: str, headers: dict[str, str], body: bytes | None, timeout: float) -> Answer:
        headers["Authorization"] = f"Bearer {self.token()}"
        try:
            response = self.session.request(
                method, url, headers=headers, data=body, allow_redirects=False, verify=self.verify,
                timeout=(min(CONNECT_TIMEOUT, timeout), timeout),
            )
            content = response.content
        except requests.exceptions.SSLError as exc:
            raise TransportError(f"TLS with {self.base_url} failed: {_reason(exc)} (is ca_file the CA that signed "
                                 "the collector's certificate?)") from None
        except requests.exceptions.Timeout:
            raise TransportError(f"{self.base_url} did not answer within {timeout:g} s") from None
        except requests.exceptions.RequestException as exc:
            raise TransportError(f"cannot reach {self.base_url}: {_reason(exc)}") from None
        answer = Answer(response.status_code, headers={k.lower(): v for k, v in response.headers.items()})
        if content:
            try:
                answer.data = json.loads(content)
            except ValueError:
                answer.detail = content[:200].decode("utf-8", "replace").strip()
        if isinstance(answer.data, dict) and "detail" in answer.data:
            answer.detail = _detail(answer.data["detail"])
        if 300 <= answer.status < 400:
            answer.detail = f"redirected to {answer.headers.get('location', '?')}; set collector to the final URL"
        return answer


def _detail(detail: Any) -> str:
    if isinstance(detail, list):  # validation errors: [{"loc": [...], "msg": "..."}]
        parts = []
        for item in detail[:5]:
            if isinstance(item, dict):
                loc = ".".join(str(p) for p in item.get("loc", []))
                parts.append(f"{loc}: {item.get('msg', '')}" if loc else str(item.get("msg", "")))
            else:
                parts.append(str(item))
        more = f" (and {len(detail) - 5} more)" if len(detail) > 5 else ""
        return "; ".join(parts) + more
    return str(detail)[:500]


def _reason(exc: BaseException) -> str:
    """The innermost useful reason of a requests/urllib3 error, without the URL noise."""
    reason: BaseException | None = exc
    text = str(exc)
    seen = 0
    while reason is not None and seen < 6:
        inner = getattr(reason, "reason", None) or (reason.args[0] if reason.args else None)
        if isinstance(inner, BaseException):
            reason = inner
            text = str(inner)
        else:
            break
        seen += 1
    for marker in ("Failed to establish a new connection: ", "] "):
        if marker in text:
            text = text.split(marker, 1)[1]
    return text.strip(" ')\"") or exc.__class__.__name__
