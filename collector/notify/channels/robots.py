"""Group robots of DingTalk, WeCom and Feishu (Lark): markdown messages to their webhook URLs.

The webhook URL carries the robot's token and is a secret. DingTalk and Feishu robots may also require a
signature (their "加签" security setting), made from the current time and the robot's signing secret:

- DingTalk: ``timestamp`` = Unix milliseconds; ``sign`` = Base64(HMAC-SHA256(key=secret,
  msg=f"{timestamp}\\n{secret}")), both added to the URL's query string (URL-encoded).
- Feishu: ``timestamp`` = Unix seconds; ``sign`` = Base64(HMAC-SHA256(key=f"{timestamp}\\n{secret}",
  msg=b"")), both sent in the JSON body beside the message.
- WeCom robots have no signature: the ``key`` in the URL is the credential.

All three answer HTTP 200 with an error code in the body; a code other than 0 is a failed delivery, tried
again only for the vendors' "too many requests" and "busy" codes (a wrong signature stays wrong).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
import urllib.parse

from collector.notify.channels.base import Channel, answer_json, json_bytes, truncate_bytes
from collector.notify.delivery import DeliveryError
from collector.notify.templates import Message

DINGTALK_MAX_BYTES = 20_000
WECOM_MAX_BYTES = 4_096
FEISHU_MAX_BYTES = 20_000


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's ``sign`` query value (before URL-encoding)."""
    string_to_sign = f"{timestamp_ms}\n{secret}".encode()
    return base64.b64encode(hmac.new(secret.encode("utf-8"), string_to_sign, hashlib.sha256).digest()).decode()


def feishu_sign(secret: str, timestamp_s: int) -> str:
    """Feishu's ``sign`` body field: the HMAC key is "timestamp\\nsecret" and the message is empty."""
    key = f"{timestamp_s}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()


def with_query(url: str, **params: str) -> str:
    parts = urllib.parse.urlsplit(url)
    query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True) + list(params.items())
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))


class _Robot(Channel):
    formats = ("subject", "markdown")
    retry_codes: frozenset[int] = frozenset()
    vendor = ""

    def __init__(self, settings, secrets, session_factory) -> None:
        super().__init__(settings, secrets, session_factory)
        self.url = secrets.url(settings.url, "url")
        self.secret = secrets.get(getattr(settings, "secret", None), "secret")

    def check_answer(self, document: dict, code_key: str = "errcode", message_key: str = "errmsg") -> None:
        code = document.get(code_key, document.get("StatusCode"))  # Feishu's older answers say StatusCode
        if code == 0:
            return
        text = document.get(message_key) or document.get("StatusMessage") or document
        raise DeliveryError(f"{self.vendor} refused the message: {code} {text}",
                            retry=isinstance(code, int) and code in self.retry_codes)


class DingTalk(_Robot):
    vendor = "DingTalk"
    retry_codes = frozenset({-1, 130101})  # system busy; more than 20 messages a minute

    def send(self, message: Message) -> None:
        url = self.url
        if self.secret:
            now = int(time.time() * 1000)
            url = with_query(url, timestamp=str(now), sign=dingtalk_sign(self.secret, now))
        text = truncate_bytes(f"### {message.subject}\n\n{message.markdown}", DINGTALK_MAX_BYTES)
        body = {"msgtype": "markdown", "markdown": {"title": message.subject, "text": text}}
        self.check_answer(answer_json(self.post(url, json_bytes(body))))


class WeCom(_Robot):
    vendor = "WeCom"
    retry_codes = frozenset({-1, 45009})  # system busy; API frequency limit

    def send(self, message: Message) -> None:
        text = truncate_bytes(f"### {message.subject}\n{message.markdown}", WECOM_MAX_BYTES)
        body = {"msgtype": "markdown", "markdown": {"content": text}}
        self.check_answer(answer_json(self.post(self.url, json_bytes(body))))


HEADER_COLOURS = {"CRITICAL": "red", "WARNING": "orange", "UNKNOWN": "grey", "NODATA": "grey"}


class Feishu(_Robot):
    vendor = "Feishu"
    retry_codes = frozenset({9499, 11232})  # too many requests

    def send(self, message: Message) -> None:
        resolved = all(n.change == "resolved" for n in message.notices)
        body: dict = {
            "msg_type": "interactive",
            "card": {
                "config": {"wide_screen_mode": True},
                "header": {
                    "title": {"tag": "plain_text", "content": message.subject},
                    "template": "green" if resolved else HEADER_COLOURS.get(message.worst, "blue"),
                },
                "elements": [{"tag": "markdown", "content": truncate_bytes(message.markdown, FEISHU_MAX_BYTES)}],
            },
        }
        if self.secret:
            now = int(time.time())
            body = {"timestamp": str(now), "sign": feishu_sign(self.secret, now), **body}
        self.check_answer(answer_json(self.post(self.url, json_bytes(body))), "code", "msg")
