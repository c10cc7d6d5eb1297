"""Generic webhook: the message as JSON, signed with HMAC-SHA256 over a timestamp and the raw body.

Headers (Stripe's scheme):
    Patrol-Signature: t=1714528803,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd
    Patrol-Delivery: 8f14e45fceea167a5a36dedd4bea2543   (the same on every retry: de-duplicate on it)
``v1`` is hex(HMAC-SHA256(secret, f"{t}.{raw body}")). A receiver recomputes it over the bytes it got,
compares in constant time, and rejects a ``t`` older than a few minutes (replays).
"""

from __future__ import annotations

import hashlib
import hmac
import time

from collector.notify.channels.base import Channel, json_bytes
from collector.notify.settings import WebhookChannel
from collector.notify.templates import Message

SIGNATURE_HEADER = "Patrol-Signature"
DELIVERY_HEADER = "Patrol-Delivery"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The Patrol-Signature header value for ``body`` sent at ``timestamp`` (Unix seconds)."""
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify(secret: str, header: str, body: bytes, now: float | None = None, tolerance: float = 300) -> bool:
    """Whether ``header`` signs ``body`` with ``secret`` and is no older than ``tolerance`` seconds."""
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(fields["t"])
    except (KeyError, ValueError):
        return False
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        return False
    expected = sign(secret, timestamp, body).rsplit("v1=", 1)[1]
    return hmac.compare_digest(expected, fields.get("v1", ""))


class Webhook(Channel):
    def __init__(self, settings: WebhookChannel, secrets, session_factory) -> None:
        super().__init__(settings, secrets, session_factory)
        self.url = secrets.url(settings.url, "url")
        self.secret = secrets.get(settings.secret, "secret")
        self.headers = {}
        for name, value in settings.headers.items():
            self.headers[name] = value if isinstance(value, str) else secrets.get(value, "headers", name)

    def send(self, message: Message) -> None:
        body = json_bytes(message.payload())
        headers = {**self.headers, DELIVERY_HEADER: message.id}
        if self.secret:
            headers[SIGNATURE_HEADER] = sign(self.secret, int(time.time()), body)  # signed afresh on each retry
        self.post(self.url, body, headers)
