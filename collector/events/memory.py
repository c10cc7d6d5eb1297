"""An event repository in memory: for tests, property tests and the benchmark's baseline.

Behaves as the SQL repository does: a session hands out copies, buffers its writes and applies them
only when it ends without an error (all or nothing); ids are never reused.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager

from collector.events.maintenance import MaintenanceWindow
from collector.events.model import (
    OPEN_STATES,
    RESOLVED,
    Event,
    EventComment,
    FeedMoved,
    HistoryEntry,
    Track,
)
from collector.notify.notice import Notice


class MemoryRepository:
    def __init__(self) -> None:
        self._events: dict[int, Event] = {}
        self._by_key: dict[str, list[int]] = {}
        self._tracks: dict[str, Track] = {}
        self._history: list[HistoryEntry] = []
        self._comments: list[EventComment] = []
        self._windows: dict[int, MaintenanceWindow] = {}
        self._feeds: dict[str, int] = {}
        self._outbox: list[Notice] = []
        self._ids = {"event": 0, "history": 0, "comment": 0, "window": 0}
        self._lock = threading.Lock()

    @contextmanager
    def session(self) -> Iterator[MemorySession]:
        with self._lock:
            session = MemorySession(self)
            yield session
            session.commit()

    def _next_id(self, kind: str) -> int:
        self._ids[kind] += 1
        return self._ids[kind]

    # -- reads ---------------------------------------------------------------------------------------

    def get_event(self, event_id: int) -> Event | None:
        event = self._events.get(event_id)
        return event.copy() if event is not None else None

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
        out = []
        for event_id in sorted(self._events, reverse=True):
            event = self._events[event_id]
            if states is not None and event.state not in states:
                continue
            if severities is not None and event.severity not in severities:
                continue
            if targets is not None and event.target not in targets:
                continue
            if opened_from is not None and event.opened_at < opened_from:
                continue
            if opened_to is not None and event.opened_at >= opened_to:
                continue
            if active_from is not None and event.resolved_at is not None and event.resolved_at < active_from:
                continue
            out.append(event.copy())
            if limit is not None and len(out) >= limit:
                break
        return out

    def history(self, event_id: int) -> list[HistoryEntry]:
        return [entry for entry in self._history if entry.event_id == event_id]

    def comments(self, event_id: int) -> list[EventComment]:
        return [comment for comment in self._comments if comment.event_id == event_id]

    def tracks(self) -> list[Track]:
        return [self._tracks[key].copy() for key in sorted(self._tracks)]

    # -- maintenance windows -------------------------------------------------------------------------

    def add_window(self, window: MaintenanceWindow) -> MaintenanceWindow:
        with self._lock:
            stored = window.with_id(self._next_id("window"))
            self._windows[stored.id] = stored  # type: ignore[index]
            return stored

    def windows(self) -> list[MaintenanceWindow]:
        return [self._windows[key] for key in sorted(self._windows)]

    def feed_position(self, name: str) -> int:
        return self._feeds.get(name, 0)

    def take_notices(self, limit: int = 1000) -> list[Notice]:
        with self._lock:
            taken, self._outbox[:limit] = self._outbox[:limit], []
        return taken

    def remove_window(self, window_id: int) -> bool:
        with self._lock:
            return self._windows.pop(window_id, None) is not None


class MemorySession:
    def __init__(self, repository: MemoryRepository) -> None:
        self._repo = repository
        self._inserted: list[Event] = []
        self._updated: dict[int, Event] = {}
        self._saved: dict[str, Track] = {}
        self._deleted: set[str] = set()
        self._history: list[HistoryEntry] = []
        self._comments: list[EventComment] = []
        self._notices: list[Notice] = []
        self._feeds: dict[str, int] = {}

    def tracks(self, keys: Collection[str]) -> dict[str, Track]:
        stored = self._repo._tracks
        return {key: stored[key].copy() for key in keys if key in stored}

    def current_events(self, keys: Collection[str], resolved_since: dt.datetime) -> dict[str, Event]:
        out = {}
        events = self._repo._events
        for key in keys:
            for event_id in reversed(self._repo._by_key.get(key, ())):
                event = events[event_id]
                if (
                    event.state in OPEN_STATES
                    or event.notified
                    or (event.state == RESOLVED and event.resolved_at >= resolved_since)  # type: ignore[operator]
                ):
                    out[key] = event.copy()
                    break
        return out

    def live_events(self) -> list[Event]:
        return [
            event.copy()
            for _, event in sorted(self._repo._events.items())
            if event.state in OPEN_STATES or event.notified
        ]

    def resolved_before(self, cutoff: dt.datetime) -> list[Event]:
        return [
            event.copy()
            for _, event in sorted(self._repo._events.items())
            if event.state == RESOLVED and event.resolved_at <= cutoff  # type: ignore[operator]
        ]

    def down_events(self, targets: Collection[str]) -> dict[str, set[int]]:
        wanted = set(targets)
        out: dict[str, set[int]] = {}
        for event_id, event in self._repo._events.items():
            if event.down and event.state in OPEN_STATES and event.target in wanted:
                out.setdefault(event.target, set()).add(event_id)
        return out

    def event(self, event_id: int) -> Event | None:
        return self._repo.get_event(event_id)

    def windows(self) -> list[MaintenanceWindow]:
        return self._repo.windows()

    def insert_event(self, event: Event) -> int:
        event.id = self._repo._next_id("event")
        self._inserted.append(event.copy())
        return event.id

    def update_events(self, events: Iterable[Event]) -> None:
        for event in events:
            self._updated[event.id] = event.copy()  # type: ignore[index]

    def save_tracks(self, tracks: Iterable[Track]) -> None:
        for track in tracks:
            self._saved[track.fingerprint_hash] = track.copy()
            self._deleted.discard(track.fingerprint_hash)

    def delete_tracks(self, keys: Collection[str]) -> None:
        for key in keys:
            self._deleted.add(key)
            self._saved.pop(key, None)

    def add_history(self, entries: Iterable[HistoryEntry]) -> None:
        self._history.extend(entries)

    def add_comment(self, comment: EventComment) -> EventComment:
        comment_id = self._repo._next_id("comment")
        stored = EventComment(comment.event_id, comment.at, comment.author, comment.text, comment_id)
        self._comments.append(stored)
        return stored

    def queue_notices(self, notices: Sequence[Notice]) -> None:
        self._notices.extend(notices)

    def advance_feed(self, name: str, old: int, new: int) -> None:
        if self._feeds.get(name, self._repo._feeds.get(name, 0)) != old:
            raise FeedMoved(f"feed {name!r} is not at {old}")
        self._feeds[name] = new

    def commit(self) -> None:
        repo = self._repo
        repo._feeds.update(self._feeds)
        repo._outbox.extend(self._notices)
        for event in self._inserted:
            repo._events[event.id] = event  # type: ignore[index]
            repo._by_key.setdefault(event.fingerprint_hash, []).append(event.id)  # type: ignore[arg-type]
        for event_id, event in self._updated.items():
            repo._events[event_id] = event
        repo._tracks.update(self._saved)
        for key in self._deleted:
            repo._tracks.pop(key, None)
        for entry in self._history:
            repo._history.append(_with_id(entry, repo._next_id("history")))
        repo._comments.extend(self._comments)


def _with_id(entry: HistoryEntry, entry_id: int) -> HistoryEntry:
    return HistoryEntry(
        entry.event_id, entry.at, entry.kind, entry.from_state, entry.to_state, entry.actor, entry.comment,
        entry.detail, entry_id,
    )
