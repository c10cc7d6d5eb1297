"""Channel implementations, one small module each, by the ``type`` written in the settings."""

from __future__ import annotations

from collector.notify.channels.alertmanager import Alertmanager
from collector.notify.channels.base import Channel, Secrets
from collector.notify.channels.command import Command
from collector.notify.channels.email import Email
from collector.notify.channels.robots import DingTalk, Feishu, WeCom
from collector.notify.channels.webhook import Webhook

CHANNELS: dict[str, type[Channel]] = {
    "webhook": Webhook,
    "alertmanager": Alertmanager,
    "email": Email,
    "dingtalk": DingTalk,
    "wecom": WeCom,
    "feishu": Feishu,
    "command": Command,
}

__all__ = ["CHANNELS", "Channel", "Secrets"]
