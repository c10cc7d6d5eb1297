"""Notifications: channels, routing, grouping, templates and delivery of event notices.

The collector loads the ``notifications:`` section with ``load_notifications``, starts a ``Notifier`` with
``Notifier.from_settings``, hands it the engine's notices with ``submit`` and stops it with ``close``.
Names are imported on first use, so importing ``collector.notify.notice`` stays light.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "ChannelStats": "collector.notify.dispatcher",
    "Notifier": "collector.notify.dispatcher",
    "Delivery": "collector.notify.delivery",
    "DeliveryLog": "collector.notify.delivery",
    "MemoryDeliveryLog": "collector.notify.delivery",
    "Notice": "collector.notify.notice",
    "NotificationSettings": "collector.notify.settings",
    "load_notifications": "collector.notify.settings",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'collector.notify' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
