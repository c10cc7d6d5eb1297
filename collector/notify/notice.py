"""The contract between the event engine and the notifier: one notice per event state change worth telling.

The engine decides *that* something is worth telling (and never blocks on it); the notifier decides
*whom* (routes, escalation levels), *how* (channels, templates) and *when* (grouping window, retries).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field, fields
from typing import Literal

Change = Literal["opened", "escalated", "acknowledged", "resolved", "reopened", "severity_changed", "flapping"]
State = Literal["firing", "acknowledged", "resolved", "closed"]
Severity = Literal["WARNING", "CRITICAL", "UNKNOWN", "NODATA"]


@dataclass(frozen=True)
class Notice:
    event_id: int
    fingerprint: str  # target/check/item
    target: str
    check: str
    item: str
    severity: Severity
    state: State
    change: Change
    summary: str  # the latest result's summary
    first_seen: dt.datetime
    last_seen: dt.datetime
    count: int  # results that fed this event
    at: dt.datetime  # when the change happened
    groups: tuple[str, ...] = ()  # the target's inventory groups, for routing
    escalation_level: int = 0  # 0: first notice; n: the n-th escalation step
    actor: str | None = None  # who acknowledged or resolved, for those changes
    comment: str | None = None
    labels: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict:
        """A JSON document (times as ISO 8601 UTC with ``Z``): the webhook's and the outbox's form."""
        out = asdict(self)
        for name in _TIMES:
            out[name] = utc(getattr(self, name)).isoformat().replace("+00:00", "Z")
        out["groups"] = list(self.groups)
        return out

    @classmethod
    def from_json(cls, data: dict) -> Notice:
        """The inverse of ``to_json``; unknown keys are ignored (a newer collector's outbox row)."""
        values = {name: data[name] for name in _FIELDS if name in data}
        for name in _TIMES:
            values[name] = dt.datetime.fromisoformat(values[name])
        values["groups"] = tuple(values.get("groups", ()))
        values["labels"] = dict(values.get("labels") or {})
        return cls(**values)


_TIMES = ("first_seen", "last_seen", "at")
_FIELDS = tuple(f.name for f in fields(Notice))


def utc(value: dt.datetime) -> dt.datetime:
    """Aware UTC; a naive datetime is taken to be UTC already, as the store keeps them."""
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
