"""What every channel shares: resolved secrets, a timeout, HTTP posting with failures turned into reasons."""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Callable, Mapping
from typing import Any

import requests

from checks.errors import Path, Problem
from checks.secrets import Scrubber, SecretError, describe, resolve
from collector.notify.delivery import DeliveryError
from collector.notify.settings import ChannelBase
from collector.notify.templates import Message

USER_AGENT = "Patrol-Notifier/1"
RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
MAX_REASON = 300  # characters of a receiver's answer kept in a reason


class Secrets:
    """Resolves a channel's secret references once, registering each value with the scrubber.

    A reference that cannot be resolved becomes a Problem at the field's path; the channel is then not built.
    """

    def __init__(self, scrubber: Scrubber, path: Path, environ: Mapping[str, str] | None = None) -> None:
        self.scrubber = scrubber
        self.path = path
        self.environ = environ
        self.problems: list[Problem] = []

    def get(self, reference: Mapping[str, str] | None, *field: str | int) -> str | None:
        if reference is None:
            return None
        try:
            value = resolve(reference, self.environ)
        except SecretError as exc:
            self.problems.append(Problem(self.path + field, f"cannot read the secret ({describe(reference)}): {exc}"))
            return None
        self.scrubber.add(value)
        return value

    def url(self, value: str | Mapping[str, str] | None, *field: str | int) -> str | None:
        """A URL written inline or by reference; a secret URL's token parts are scrubbed as well."""
        if not isinstance(value, Mapping):
            return value
        url = self.get(value, *field)
        if url is None:
            return None
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            self.problems.append(Problem(self.path + field,
                                         f"the secret ({describe(value)}) is not an http:// or https:// URL"))
            return None
        # Error texts quote the path and the query, not the whole URL: those carry the token.
        for _, token in urllib.parse.parse_qsl(parts.query):
            self.scrubber.add(token)
        if parts.path.count("/") > 1:
            self.scrubber.add(parts.path.rsplit("/", 1)[-1])
        return url


class Channel:
    """Delivers the messages of one configured channel; runs in that channel's own worker thread only."""

    formats: tuple[str, ...] = ("subject", "text")

    def __init__(self, settings: ChannelBase, secrets: Secrets,
                 session_factory: Callable[[], requests.Session] = requests.Session) -> None:
        self.settings = settings
        self.name = settings.name
        self.timeout = settings.timeout.total_seconds()
        self._session_factory = session_factory
        self._session: requests.Session | None = None

    # A channel that must repeat itself (Alertmanager forgets alerts not sent again) says how often.
    refresh_seconds: float | None = None

    def send(self, message: Message) -> None:
        """Deliver ``message``; raise DeliveryError with the reason when the receiver did not take it."""
        raise NotImplementedError

    def refresh(self) -> None:
        """Repeat what the receiver must keep hearing (only channels with ``refresh_seconds``)."""

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None

    @property
    def session(self) -> requests.Session:
        if self._session is None:
            self._session = self._session_factory()
        return self._session

    def post(self, url: str, body: bytes, headers: Mapping[str, str] | None = None,
             auth: Any = None) -> requests.Response:
        """POST ``body``; any answer but 2xx, and any network failure, raises DeliveryError with the reason."""
        all_headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT, **(headers or {})}
        try:
            response = self.session.post(url, data=body, headers=all_headers, timeout=self.timeout,
                                         allow_redirects=False, auth=auth)
        except requests.Timeout:
            raise DeliveryError(f"no answer within {self.timeout:g} s") from None
        except requests.ConnectionError as exc:
            raise DeliveryError(f"cannot connect: {_root_cause(exc)}") from None
        except requests.RequestException as exc:
            raise DeliveryError(f"request failed: {exc.__class__.__name__}: {exc}") from None
        if 300 <= response.status_code < 400:
            location = response.headers.get("Location", "?")
            raise DeliveryError(f"HTTP {response.status_code}: redirected to {location}; give the final URL",
                                retry=False)
        if not 200 <= response.status_code < 300:
            raise DeliveryError(f"HTTP {response.status_code}: {answer_text(response)}",
                                retry=response.status_code in RETRY_STATUSES)
        return response


def json_bytes(document: Any) -> bytes:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def answer_text(response: requests.Response) -> str:
    text = " ".join(response.text.split())
    return (text[:MAX_REASON] + "…") if len(text) > MAX_REASON else (text or response.reason or "no body")


def answer_json(response: requests.Response) -> dict:
    try:
        document = response.json()
    except ValueError:
        text = answer_text(response)
        raise DeliveryError(f"HTTP {response.status_code} but the answer is not JSON: {text}") from None
    if not isinstance(document, dict):
        raise DeliveryError(f"unexpected answer: {answer_text(response)}")
    return document


def truncate_bytes(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` UTF-8 bytes, marked with an ellipsis when cut."""
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    return data[: limit - len("\n…".encode())].decode("utf-8", errors="ignore") + "\n…"


def _root_cause(exc: BaseException) -> str:
    # requests nests urllib3's errors several levels deep; the innermost says what happened.
    seen = exc
    for _ in range(10):
        inner = getattr(seen, "reason", None)
        if not isinstance(inner, BaseException):
            inner = next((a for a in seen.args if isinstance(a, BaseException)), None)
        inner = inner or seen.__cause__ or seen.__context__
        if inner is None:
            break
        seen = inner
    text = str(seen)
    if "Connection refused" in text:
        return "connection refused"
    if "Name or service not known" in text or "Temporary failure in name resolution" in text:
        return "host name not found"
    return f"{seen.__class__.__name__}: {text}"
