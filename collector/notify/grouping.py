"""Grouping: notices of one group that arrive close together become one message.

As Alertmanager's group_wait and group_interval: the first notice of a quiet group waits ``wait`` for
others to join it; after a message, the group's next message goes out no sooner than ``window`` later,
carrying everything that arrived meanwhile. A group that reaches ``max_notices`` is sent at once.
Pure bookkeeping on times the caller gives, so it is tested without waiting.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from collector.notify.notice import Notice
from collector.notify.settings import Grouping

Key = tuple


@dataclass
class Batch:
    key: Key
    notices: list[Notice]


@dataclass
class _Pending:
    notices: list[Notice] = field(default_factory=list)
    due: float = 0.0


class Batcher:
    def __init__(self, grouping: Grouping) -> None:
        self.wait = grouping.wait.total_seconds()
        self.window = grouping.window.total_seconds()
        self.by = grouping.by
        self.max_notices = grouping.max_notices
        self._pending: dict[Key, _Pending] = {}
        self._last_sent: dict[Key, float] = {}

    def key(self, notice: Notice) -> Key:
        return tuple(notice.groups if name == "group" else getattr(notice, name) for name in self.by)

    def add(self, notice: Notice, now: float) -> None:
        key = self.key(notice)
        pending = self._pending.get(key)
        if pending is None:
            last = self._last_sent.get(key)
            due = now + self.wait if last is None else max(now + self.wait, last + self.window)
            pending = self._pending[key] = _Pending(due=due)
        pending.notices.append(notice)
        if len(pending.notices) >= self.max_notices:
            pending.due = min(pending.due, now)

    def due(self, now: float) -> list[Batch]:
        """Groups whose time has come, oldest first; they count as sent at ``now``."""
        ready = sorted((p.due, k) for k, p in self._pending.items() if p.due <= now)
        batches = [Batch(key, self._pending.pop(key).notices) for _, key in ready]
        for batch in batches:
            self._last_sent[batch.key] = now
        self._forget(now)
        return batches

    def flush(self, now: float) -> list[Batch]:
        """Every pending group, now (on close)."""
        for pending in self._pending.values():
            pending.due = min(pending.due, now)
        return self.due(now)

    def next_due(self) -> float | None:
        return min((p.due for p in self._pending.values()), default=None)

    def drop_oldest(self) -> Notice | None:
        """Remove the oldest pending notice (a channel holding too many); None when nothing is pending."""
        if not self._pending:
            return None
        key = min(self._pending, key=lambda k: self._pending[k].due)
        pending = self._pending[key]
        notice = pending.notices.pop(0)
        if not pending.notices:
            del self._pending[key]
        return notice

    def __len__(self) -> int:
        return sum(len(p.notices) for p in self._pending.values())

    def _forget(self, now: float) -> None:
        # A group quiet for a whole window starts afresh; drop its time so the dict stays small.
        if len(self._last_sent) > 1000:
            self._last_sent = {k: t for k, t in self._last_sent.items() if t + self.window > now}
