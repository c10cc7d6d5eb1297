"""What the event engine keeps: events, their history and comments, the per-item noise state, and the
repository interface the engine works through (in memory for tests, SQL for the collector).

An event is identified by its fingerprint (target, check, item). At most one event per fingerprint is
open (firing or acknowledged) at a time; ``fingerprint_hash`` is the short fixed-length key the
repositories look it up by.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, fields
from typing import Protocol

from collector.events.maintenance import MaintenanceWindow
from collector.events.policy import FLAP_WINDOW
from collector.notify.notice import Notice

FIRING = "firing"
ACKNOWLEDGED = "acknowledged"
RESOLVED = "resolved"
CLOSED = "closed"
STATES = (FIRING, ACKNOWLEDGED, RESOLVED, CLOSED)
OPEN_STATES = (FIRING, ACKNOWLEDGED)

# Kinds of events: a check's figures out of range, a check that could not run, a source gone silent.
PROBLEM = "problem"
UNKNOWN = "unknown"
NODATA = "nodata"
KINDS = (PROBLEM, UNKNOWN, NODATA)
SEVERITIES = ("WARNING", "CRITICAL", "UNKNOWN", "NODATA")
NODATA_CHECK = "nodata"  # the check name of silence events: (source, "nodata", "")

# History kinds: every change of an event, with who (None: Patrol itself) and when.
HISTORY_KINDS = (
    "opened",
    "reopened",
    "acknowledged",
    "ack_expired",
    "resolved",
    "closed",
    "escalated",
    "severity_changed",
    "flapping_started",
    "flapping_stopped",
    "suppressed",
    "unsuppressed",
    "maintenance_started",
    "maintenance_ended",
    "commented",
)

FLAP_MASK = (1 << FLAP_WINDOW) - 1
# Icinga 2's weights: the oldest of the 20 entries counts 0.8, each newer one 0.02 more (1.18 for the newest).
# Bit 0 of the buffer is the newest result, so bit i weighs 0.8 + 0.02 * (19 - i).
_FLAP_WEIGHTS = tuple(0.8 + 0.4 * (FLAP_WINDOW - 1 - i) / FLAP_WINDOW for i in range(FLAP_WINDOW))


def fingerprint_hash(target: str, check: str, item: str) -> str:
    """A 128-bit key for (target, check, item); the parts are separated by NUL, which none may contain."""
    return hashlib.blake2b(f"{target}\0{check}\0{item}".encode(), digest_size=16).hexdigest()


def flap_percent(bits: int) -> float:
    """Icinga's flapping value: the weighted share of results in the window that changed state, in percent."""
    total = 0.0
    index = 0
    while bits:
        if bits & 1:
            total += _FLAP_WEIGHTS[index]
        bits >>= 1
        index += 1
    return 100.0 * total / FLAP_WINDOW


@dataclass(slots=True)
class Event:
    """One event. Result times (``first_seen``, ``last_seen``) come from the results; every other time is
    the engine's clock when the change happened."""

    id: int | None
    fingerprint_hash: str
    target: str
    check: str
    item: str
    kind: str  # problem | unknown | nodata
    severity: str  # WARNING | CRITICAL (problem), UNKNOWN, NODATA
    state: str  # firing | acknowledged | resolved | closed
    first_seen: dt.datetime  # the first result of the bad streak that opened it (nodata: the last contact)
    last_seen: dt.datetime  # the latest non-OK result
    count: int  # non-OK results that fed it (nodata: silences)
    opened_at: dt.datetime
    last_summary: str
    flapping: bool = False
    suppressed: bool = False  # a parent (or, by policy, its own target) is down
    in_maintenance: bool = False
    down: bool = False  # this event says its target is down (nodata, unreachable, a down check CRITICAL)
    down_from: dt.datetime | None = None  # when it first said so (kept after it resolves: availability)
    down_to: dt.datetime | None = None  # when it last stopped saying so; None while it says so
    notified: bool = False  # receivers were told it is open, and not yet that it resolved
    first_notified_at: dt.datetime | None = None
    acknowledged_at: dt.datetime | None = None  # the acknowledgement in force (cleared when it expires)
    acknowledged_by: str | None = None
    ack_expires_at: dt.datetime | None = None
    first_acknowledged_at: dt.datetime | None = None  # kept for the KPIs
    resolved_at: dt.datetime | None = None
    resolved_by: str | None = None  # None: resolved by results
    closed_at: dt.datetime | None = None
    escalation_level: int = 0  # the last level notified (0: only the first notice)
    next_escalation_at: dt.datetime | None = None

    @property
    def fingerprint(self) -> str:
        return f"{self.target}/{self.check}/{self.item}"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def held(self) -> bool:
        """Its notices are held: flapping, suppressed by a down parent, or in a maintenance window."""
        return self.flapping or self.suppressed or self.in_maintenance

    @property
    def time_to_acknowledge(self) -> dt.timedelta | None:
        """From the first notice to the first acknowledgement (None: not acknowledged, or never told)."""
        if self.first_acknowledged_at is None or self.first_notified_at is None:
            return None
        return max(self.first_acknowledged_at - self.first_notified_at, dt.timedelta(0))

    @property
    def time_to_resolve(self) -> dt.timedelta | None:
        """From opening to the (last) resolution; None while open."""
        if self.resolved_at is None:
            return None
        return self.resolved_at - self.opened_at

    def copy(self) -> Event:
        return Event(*(getattr(self, name) for name in EVENT_FIELDS))


EVENT_FIELDS = tuple(f.name for f in fields(Event))


@dataclass(slots=True)
class Track:
    """The noise-control state of one fingerprint: streaks and the flap window.

    A fingerprint at rest (last result OK, no bad streak, no state change in the window, not flapping, no
    open event) keeps no track: the steady OK majority of results costs no write.
    """

    fingerprint_hash: str
    target: str
    check: str
    item: str
    status: str = "OK"  # the latest result's status
    bad_streak: int = 0
    ok_streak: int = 0
    streak_started_at: dt.datetime | None = None  # the first result of the bad streak
    streak_worst: str | None = None  # its worst status (UNKNOWN < WARNING < CRITICAL)
    flap_bits: int = 0  # bit i: the (i+1)-th newest result changed state
    flapping: bool = False
    last_at: dt.datetime | None = None  # the newest result evaluated (older ones arriving late are skipped)

    @property
    def at_rest(self) -> bool:
        return self.status == "OK" and not self.bad_streak and not self.flap_bits and not self.flapping

    def copy(self) -> Track:
        return Track(*(getattr(self, name) for name in TRACK_FIELDS))


TRACK_FIELDS = tuple(f.name for f in fields(Track))


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One change of an event. ``from_state`` is None for the opening; equal states for changes that keep
    the state (escalated, commented, flapping ...). ``actor`` None: Patrol itself."""

    event_id: int
    at: dt.datetime
    kind: str
    from_state: str | None
    to_state: str
    actor: str | None = None
    comment: str | None = None
    detail: str | None = None
    id: int | None = None


@dataclass(frozen=True, slots=True)
class EventComment:
    event_id: int
    at: dt.datetime
    author: str
    text: str
    id: int | None = None


class EventSession(Protocol):
    """One transaction of the engine. Reads see the state at its start (the engine reads before it
    writes); writes are applied together when the transaction commits, or not at all."""

    def tracks(self, keys: Collection[str]) -> dict[str, Track]:
        """The tracks of these fingerprint hashes that exist (locked for update where the database can)."""

    def current_events(self, keys: Collection[str], resolved_since: dt.datetime) -> dict[str, Event]:
        """Per fingerprint hash, its newest event that is open, or notified, or resolved at or after
        ``resolved_since`` (a reopen candidate)."""

    def live_events(self) -> list[Event]:
        """Every open event and every event whose receivers still think it is open, by id."""

    def resolved_before(self, cutoff: dt.datetime) -> list[Event]:
        """Resolved events resolved at or before ``cutoff`` (to close), by id."""

    def down_events(self, targets: Collection[str]) -> dict[str, set[int]]:
        """Per target, the ids of its open events that say it is down."""

    def event(self, event_id: int) -> Event | None:
        """One event, locked for update where the database can."""

    def windows(self) -> list[MaintenanceWindow]: ...

    def insert_event(self, event: Event) -> int:
        """Store a new event and return its id (also set on ``event``)."""

    def update_events(self, events: Iterable[Event]) -> None: ...

    def save_tracks(self, tracks: Iterable[Track]) -> None: ...

    def delete_tracks(self, keys: Collection[str]) -> None: ...

    def add_history(self, entries: Iterable[HistoryEntry]) -> None: ...

    def add_comment(self, comment: EventComment) -> EventComment: ...

    def queue_notices(self, notices: Sequence[Notice]) -> None:
        """Put the call's notices in the outbox, committed with the changes that produced them."""

    def advance_feed(self, name: str, old: int, new: int) -> None:
        """Move feed ``name`` from position ``old`` to ``new``; ``FeedMoved`` if it is not at ``old``
        (another evaluator got there first): the whole call is then rolled back."""


class FeedMoved(RuntimeError):
    """A feed was not where the caller read it: another evaluator took those results."""


class EventRepository(Protocol):
    """Where events live. ``session()`` is one transaction of the engine; the rest are reads and the
    maintenance windows' management, for the API, the CLI and reports."""

    def session(self) -> AbstractContextManager[EventSession]: ...

    def get_event(self, event_id: int) -> Event | None: ...

    def list_events(
        self,
        states: Collection[str] | None = None,
        severities: Collection[str] | None = None,
        targets: Collection[str] | None = None,
        opened_from: dt.datetime | None = None,
        opened_to: dt.datetime | None = None,
        limit: int | None = None,
        active_from: dt.datetime | None = None,
    ) -> list[Event]:
        """Events matching every given filter, newest first; ``opened_to`` is exclusive;
        ``active_from``: only events open then or later (not resolved before it)."""

    def history(self, event_id: int) -> list[HistoryEntry]: ...

    def comments(self, event_id: int) -> list[EventComment]: ...

    def tracks(self) -> list[Track]: ...

    def add_window(self, window: MaintenanceWindow) -> MaintenanceWindow: ...

    def windows(self) -> list[MaintenanceWindow]: ...

    def remove_window(self, window_id: int) -> bool: ...

    def feed_position(self, name: str) -> int:
        """Where feed ``name`` is (0 before its first use)."""

    def take_notices(self, limit: int = 1000) -> list[Notice]:
        """Remove up to ``limit`` notices from the outbox, oldest first, and return them. Each notice is
        taken by one caller only, whatever the number of processes."""


def chunks(values: Collection[str], size: int) -> Iterator[list[str]]:
    items = list(values)
    for start in range(0, len(items), size):
        yield items[start : start + size]
