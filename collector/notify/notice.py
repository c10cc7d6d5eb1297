"""The contract between the event engine and the notifier: one notice per event state change worth telling.

The engine decides *that* something is worth telling (and never blocks on it); the notifier decides
*whom* (routes, escalation levels), *how* (channels, templates) and *when* (grouping window, retries).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
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
