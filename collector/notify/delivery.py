"""Delivery attempts, their log, and the backoff between retries.

The log is an interface so the collector can keep it in its database; ``MemoryDeliveryLog`` keeps the
latest entries in memory. ``record`` is called from every channel's worker thread and must not block
for long: a slow log slows that channel's deliveries.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import deque
from dataclasses import dataclass
from typing import Literal, Protocol

from collector.notify.settings import Retries

# delivered: the receiver took it. retrying: this try failed, another follows. failed: no try left or the
# failure cannot be retried. dropped: the channel held too many notices. abandoned: the notifier closed first.
DeliveryStatus = Literal["delivered", "retrying", "failed", "dropped", "abandoned"]


class DeliveryError(Exception):
    """A delivery that did not succeed: ``reason`` says why (secrets scrubbed by the dispatcher).

    ``retry`` is False when trying again cannot help (a rejected signature, a refused recipient).
    """

    def __init__(self, reason: str, retry: bool = True) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry = retry


@dataclass(frozen=True)
class Delivery:
    """One try to deliver one message (or the fate of notices that never got one)."""

    id: str  # the message's id: the same on every try (the webhook's Patrol-Delivery header)
    channel: str
    status: DeliveryStatus
    attempt: int  # 1 for the first try; 0 for dropped and abandoned notices never tried
    at: dt.datetime
    event_ids: tuple[int, ...]
    notices: int
    reason: str | None = None
    seconds: float | None = None  # how long the try took
    next_try: dt.datetime | None = None


class DeliveryLog(Protocol):
    def record(self, delivery: Delivery) -> None: ...

    def recent(self, limit: int = 100, channel: str | None = None) -> list[Delivery]:
        """The latest entries, newest last."""
        ...


class MemoryDeliveryLog:
    """The latest ``size`` entries, in memory."""

    def __init__(self, size: int = 10_000) -> None:
        self._entries: deque[Delivery] = deque(maxlen=size)
        self._lock = threading.Lock()

    def record(self, delivery: Delivery) -> None:
        with self._lock:
            self._entries.append(delivery)

    def recent(self, limit: int = 100, channel: str | None = None) -> list[Delivery]:
        with self._lock:
            entries = [d for d in self._entries if channel is None or d.channel == channel]
        return entries[-limit:] if limit else []


def backoff(attempt: int, retries: Retries) -> float:
    """Seconds to wait after failed try ``attempt`` (1, 2, ...): backoff, doubled each time, capped."""
    first = retries.backoff.total_seconds()
    return min(retries.max_backoff.total_seconds(), first * 2 ** (attempt - 1))
