"""The event repository in the store's database (SQLite or PostgreSQL), with SQLAlchemy Core.

    store = Store.open(url)                          # migrates the schema (events come with 0003)
    repository = DatabaseRepository.from_store(store)
    engine = EventEngine(repository, policy)

One engine call is one transaction (``session()``): reads first, then the writes, flushed together as
executemany statements, committed before the engine returns its notices. Database errors become
``StoreError`` (URL masked) and nothing of the call is kept.

Concurrency: on SQLite the transaction starts with ``BEGIN IMMEDIATE`` (the write lock is taken before
anything is read, so no reader-turned-writer fails) and this process's callers queue on a lock, the
store's own when built with ``from_store``. On PostgreSQL the tracks and events a call reads are locked
``FOR UPDATE``, so two collectors evaluating the same fingerprint take turns; two opening the same new
event at once are stopped by the unique index on open fingerprints (one call fails with ``StoreError``
and may be retried). The ``results`` feed's position moves in the same transaction as the changes its
results caused, so replicas evaluate every result once; a replica's notifier claims outbox notices
(``claim_notices``) and deletes them when its channels are done, so a dead replica's are sent by another.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
from collections.abc import Collection, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from collector.events.maintenance import MaintenanceWindow
from collector.events.model import (
    EVENT_FIELDS,
    OPEN_STATES,
    RESOLVED,
    TRACK_FIELDS,
    Event,
    EventComment,
    FeedMoved,
    HistoryEntry,
    Track,
    chunks,
)
from collector.notify.notice import Notice
from collector.store.engine import StoreError, read_connection, write_transaction
from collector.store.leases import db_now
from collector.store.models import (
    EventCommentRow,
    EventFeedRow,
    EventHistoryRow,
    EventOutboxRow,
    EventRow,
    EventTrackRow,
    MaintenanceWindowRow,
    utcnow,
)

_events = EventRow.__table__
_tracks = EventTrackRow.__table__
_history = EventHistoryRow.__table__
_comments = EventCommentRow.__table__
_windows = MaintenanceWindowRow.__table__
_feeds = EventFeedRow.__table__
_outbox = EventOutboxRow.__table__
_IN_CHUNK = 500  # values per IN (...) list
_EVENT_COLUMNS = [_events.c[name] for name in EVENT_FIELDS]
_HISTORY_FIELDS = ("event_id", "at", "kind", "from_state", "to_state", "actor", "comment", "detail")


class DatabaseRepository:
    def __init__(self, engine: Engine, write_lock: Any = None) -> None:
        """``write_lock``: the lock this process's SQLite writers queue on (``from_store`` passes the
        store's, so event calls and ingest do not poll SQLite's lock against each other)."""
        self.engine = engine
        self._sqlite = engine.dialect.name == "sqlite"
        if not self._sqlite and engine.dialect.name != "postgresql":
            raise StoreError(f"unsupported database {engine.dialect.name!r}: Patrol runs on SQLite and PostgreSQL")
        if write_lock is None:
            write_lock = threading.Lock() if self._sqlite else contextlib.nullcontext()
        self._write_lock = write_lock
        insert = sqlite.insert if self._sqlite else postgresql.insert
        upsert = insert(_tracks)
        self._save_tracks = upsert.on_conflict_do_update(
            index_elements=[_tracks.c.fingerprint_hash],
            set_={name: upsert.excluded[name] for name in TRACK_FIELDS if name != "fingerprint_hash"},
        )
        # executemany with one dict per event: the keys besides event_id are the columns SET.
        self._update_event = sa.update(_events).where(_events.c.id == sa.bindparam("event_id"))
        self._insert_event = sa.insert(_events).returning(_events.c.id)
        # The hot path's reads, built once: an expanding IN list keeps them in the compiled cache.
        keys = sa.bindparam("keys", expanding=True)
        locked = (lambda query: query) if self._sqlite else (lambda query: query.with_for_update())
        self._select_tracks = locked(
            sa.select(*(_tracks.c[name] for name in TRACK_FIELDS)).where(_tracks.c.fingerprint_hash.in_(keys))
        )
        self._select_current = locked(
            sa.select(*_EVENT_COLUMNS)
            .where(
                _events.c.fingerprint_hash.in_(keys),
                sa.or_(
                    _events.c.state.in_(OPEN_STATES),
                    _events.c.notified.is_(True),
                    sa.and_(_events.c.state == RESOLVED, _events.c.resolved_at >= sa.bindparam("since")),
                ),
            )
            .order_by(_events.c.id)
        )
        self._select_down = sa.select(_events.c.target, _events.c.id).where(
            _events.c.target.in_(sa.bindparam("targets", expanding=True)),
            _events.c.state.in_(OPEN_STATES),
            _events.c.down.is_(True),
        )
        self._delete_tracks = sa.delete(_tracks).where(_tracks.c.fingerprint_hash.in_(keys))

    @classmethod
    def from_store(cls, store: Any) -> DatabaseRepository:
        """On the engine of an open ``collector.store.Store`` (migrated), sharing its SQLite writers' lock."""
        return cls(store.engine, store.write_lock)

    @contextmanager
    def session(self) -> Iterator[DatabaseSession]:
        # BEGIN IMMEDIATE on SQLite: the engine reads the events before it decides what to write.
        with write_transaction(self.engine, self._write_lock, immediate=True) as conn:
            yield DatabaseSession(self, conn)

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with read_connection(self.engine) as conn:
            yield conn

    # -- reads ---------------------------------------------------------------------------------------

    def get_event(self, event_id: int) -> Event | None:
        with self._read() as conn:
            row = conn.execute(sa.select(*_EVENT_COLUMNS).where(_events.c.id == event_id)).first()
        return _event(row) if row is not None else None

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
        """Newest first. ``active_from``: only events not resolved before it (open, or resolved later)."""
        query = sa.select(*_EVENT_COLUMNS).order_by(_events.c.id.desc())
        if states is not None:
            query = query.where(_events.c.state.in_(list(states)))
        if severities is not None:
            query = query.where(_events.c.severity.in_(list(severities)))
        if targets is not None:
            query = query.where(_events.c.target.in_(sorted(targets)))
        if opened_from is not None:
            query = query.where(_events.c.opened_at >= opened_from)
        if opened_to is not None:
            query = query.where(_events.c.opened_at < opened_to)
        if active_from is not None:
            query = query.where(sa.or_(_events.c.resolved_at.is_(None), _events.c.resolved_at >= active_from))
        if limit is not None:
            query = query.limit(limit)
        with self._read() as conn:
            return [_event(row) for row in conn.execute(query)]

    def history(self, event_id: int) -> list[HistoryEntry]:
        query = sa.select(_history).where(_history.c.event_id == event_id).order_by(_history.c.id)
        with self._read() as conn:
            return [
                HistoryEntry(row.event_id, row.at, row.kind, row.from_state, row.to_state, row.actor, row.comment,
                             row.detail, row.id)
                for row in conn.execute(query)
            ]

    def comments(self, event_id: int) -> list[EventComment]:
        query = sa.select(_comments).where(_comments.c.event_id == event_id).order_by(_comments.c.id)
        with self._read() as conn:
            return [EventComment(row.event_id, row.at, row.author, row.text, row.id) for row in conn.execute(query)]

    def tracks(self) -> list[Track]:
        query = sa.select(*(_tracks.c[name] for name in TRACK_FIELDS)).order_by(_tracks.c.fingerprint_hash)
        with self._read() as conn:
            return [Track(*row) for row in conn.execute(query)]

    # -- maintenance windows -------------------------------------------------------------------------

    def add_window(self, window: MaintenanceWindow) -> MaintenanceWindow:
        created_at = window.created_at or utcnow()
        values = {
            "name": window.name,
            "pattern": window.pattern,
            "check": window.check,
            "kind": window.kind,
            "starts_at": window.starts_at,
            "ends_at": window.ends_at,
            "cron": window.cron,
            "weekdays": ",".join(window.weekdays) or None,
            "start_time": window.start_time.strftime("%H:%M:%S") if window.start_time else None,
            "duration_seconds": window.duration.total_seconds() if window.duration else None,
            "timezone": window.timezone,
            "created_by": window.created_by,
            "created_at": created_at,
        }
        with self.session() as session:
            window_id = session.conn.execute(sa.insert(_windows).values(values).returning(_windows.c.id)).scalar_one()
        return _window(dict(values, id=window_id))

    def windows(self) -> list[MaintenanceWindow]:
        with self._read() as conn:
            return _all_windows(conn)

    def remove_window(self, window_id: int) -> bool:
        with self.session() as session:
            return session.conn.execute(sa.delete(_windows).where(_windows.c.id == window_id)).rowcount > 0

    # -- the feed and the outbox ---------------------------------------------------------------------

    def feed_position(self, name: str) -> int:
        with self._read() as conn:
            position = conn.execute(sa.select(_feeds.c.position).where(_feeds.c.name == name)).scalar()
        return int(position or 0)

    def take_notices(self, limit: int = 1000) -> list[Notice]:
        oldest = sa.select(_outbox.c.id).order_by(_outbox.c.id).limit(limit)
        if not self._sqlite:
            oldest = oldest.with_for_update(skip_locked=True)  # replicas take disjoint notices
        taking = sa.delete(_outbox).where(_outbox.c.id.in_(oldest.scalar_subquery())).returning(
            _outbox.c.id, _outbox.c.notice
        )
        with write_transaction(self.engine, self._write_lock) as conn:
            rows = conn.execute(taking).all()
        return [Notice.from_json(notice) for _, notice in sorted(rows, key=lambda row: row[0])]

    # A collector's notifier claims notices instead of taking them: they stay in the outbox until every
    # channel is done with them, so the notices of a replica that dies are sent by another.

    def claim_notices(self, holder: str, seconds: float, limit: int = 1000) -> list[tuple[int, Notice]]:
        """The oldest notices nobody claims (or whose claim ran out), now claimed by ``holder`` for
        ``seconds``, with their outbox ids, oldest first."""
        with write_transaction(self.engine, self._write_lock, immediate=True) as conn:
            now = db_now(conn)
            oldest = (
                sa.select(_outbox.c.id)
                .where(sa.or_(_outbox.c.claimed_until.is_(None), _outbox.c.claimed_until < now))
                .order_by(_outbox.c.id)
                .limit(limit)
            )
            if not self._sqlite:
                oldest = oldest.with_for_update(skip_locked=True)  # replicas claim disjoint notices
            ids = conn.execute(oldest).scalars().all()
            if not ids:
                return []
            rows = conn.execute(
                sa.update(_outbox).where(_outbox.c.id.in_(ids))
                .values(claimed_by=holder, claimed_until=now + dt.timedelta(seconds=seconds))
                .returning(_outbox.c.id, _outbox.c.notice)
            ).all()
        return [(row_id, Notice.from_json(notice)) for row_id, notice in sorted(rows, key=lambda row: row[0])]

    def renew_notices(self, holder: str, ids: Collection[int], seconds: float) -> set[int]:
        """Extend ``holder``'s claims among ``ids``; the ids still claimed by it."""
        kept: set[int] = set()
        with write_transaction(self.engine, self._write_lock) as conn:
            until = db_now(conn) + dt.timedelta(seconds=seconds)
            for chunk in chunks(sorted(ids), _IN_CHUNK):
                kept.update(conn.execute(
                    sa.update(_outbox).where(_outbox.c.id.in_(chunk), _outbox.c.claimed_by == holder)
                    .values(claimed_until=until).returning(_outbox.c.id)
                ).scalars())
        return kept

    def forget_notices(self, holder: str, ids: Collection[int]) -> None:
        """Delete notices ``holder`` is done with (delivered, or given up on by every channel)."""
        with write_transaction(self.engine, self._write_lock) as conn:
            for chunk in chunks(sorted(ids), _IN_CHUNK):
                conn.execute(sa.delete(_outbox).where(_outbox.c.id.in_(chunk), _outbox.c.claimed_by == holder))

    def release_notices(self, holder: str, ids: Collection[int]) -> None:
        """Give claims up (at shutdown, undelivered): another replica may take the notices at once."""
        with write_transaction(self.engine, self._write_lock) as conn:
            for chunk in chunks(sorted(ids), _IN_CHUNK):
                conn.execute(sa.update(_outbox).where(_outbox.c.id.in_(chunk), _outbox.c.claimed_by == holder)
                             .values(claimed_by=None, claimed_until=None))

    def outbox_size(self) -> int:
        with self._read() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(_outbox)).scalar_one())


class DatabaseSession:
    """One engine call's transaction (see ``collector.events.model.EventSession``)."""

    def __init__(self, repository: DatabaseRepository, conn: Connection) -> None:
        self._repo = repository
        self.conn = conn
        self._lock = not repository._sqlite  # SELECT ... FOR UPDATE where it means something

    def _locked(self, query: sa.Select) -> sa.Select:
        return query.with_for_update() if self._lock else query

    def tracks(self, keys: Collection[str]) -> dict[str, Track]:
        out: dict[str, Track] = {}
        for chunk in chunks(sorted(keys), _IN_CHUNK):
            for row in self.conn.execute(self._repo._select_tracks, {"keys": chunk}):
                out[row[0]] = Track(*row)
        return out

    def current_events(self, keys: Collection[str], resolved_since: dt.datetime) -> dict[str, Event]:
        out: dict[str, Event] = {}
        for chunk in chunks(sorted(keys), _IN_CHUNK):
            for row in self.conn.execute(self._repo._select_current, {"keys": chunk, "since": resolved_since}):
                out[row.fingerprint_hash] = _event(row)  # ordered by id: the newest stays
        return out

    def live_events(self) -> list[Event]:
        query = self._locked(
            sa.select(*_EVENT_COLUMNS)
            .where(sa.or_(_events.c.state.in_(OPEN_STATES), _events.c.notified.is_(True)))
            .order_by(_events.c.id)
        )
        return [_event(row) for row in self.conn.execute(query)]

    def resolved_before(self, cutoff: dt.datetime) -> list[Event]:
        query = self._locked(
            sa.select(*_EVENT_COLUMNS)
            .where(_events.c.state == RESOLVED, _events.c.resolved_at <= cutoff)
            .order_by(_events.c.id)
        )
        return [_event(row) for row in self.conn.execute(query)]

    def down_events(self, targets: Collection[str]) -> dict[str, set[int]]:
        out: dict[str, set[int]] = {}
        for chunk in chunks(sorted(targets), _IN_CHUNK):
            for target, event_id in self.conn.execute(self._repo._select_down, {"targets": chunk}):
                out.setdefault(target, set()).add(event_id)
        return out

    def event(self, event_id: int) -> Event | None:
        row = self.conn.execute(self._locked(sa.select(*_EVENT_COLUMNS).where(_events.c.id == event_id))).first()
        return _event(row) if row is not None else None

    def windows(self) -> list[MaintenanceWindow]:
        return _all_windows(self.conn)

    def insert_event(self, event: Event) -> int:
        values = {name: getattr(event, name) for name in EVENT_FIELDS if name != "id"}
        event.id = self.conn.execute(self._repo._insert_event, values).scalar_one()
        return event.id

    def update_events(self, events: Iterable[Event]) -> None:
        rows = []
        for event in events:
            row = {name: getattr(event, name) for name in EVENT_FIELDS if name != "id"}
            row["event_id"] = event.id
            rows.append(row)
        if rows:
            self.conn.execute(self._repo._update_event, rows)

    def save_tracks(self, tracks: Iterable[Track]) -> None:
        rows = [{name: getattr(track, name) for name in TRACK_FIELDS} for track in tracks]
        if rows:
            self.conn.execute(self._repo._save_tracks, rows)

    def delete_tracks(self, keys: Collection[str]) -> None:
        for chunk in chunks(sorted(keys), _IN_CHUNK):
            self.conn.execute(self._repo._delete_tracks, {"keys": chunk})

    def add_history(self, entries: Iterable[HistoryEntry]) -> None:
        rows = [{name: getattr(entry, name) for name in _HISTORY_FIELDS} for entry in entries]
        if rows:
            self.conn.execute(sa.insert(_history), rows)

    def add_comment(self, comment: EventComment) -> EventComment:
        comment_id = self.conn.execute(
            sa.insert(_comments)
            .values(event_id=comment.event_id, at=comment.at, author=comment.author, text=comment.text)
            .returning(_comments.c.id)
        ).scalar_one()
        return EventComment(comment.event_id, comment.at, comment.author, comment.text, comment_id)


    def queue_notices(self, notices: Iterable[Notice]) -> None:
        now = utcnow()
        rows = [{"created_at": now, "notice": notice.to_json()} for notice in notices]
        if rows:
            self.conn.execute(sa.insert(_outbox), rows)

    def advance_feed(self, name: str, old: int, new: int) -> None:
        now = utcnow()
        # RETURNING says whether a row was written (rowcount is not reliable for ON CONFLICT DO NOTHING).
        moved = self.conn.execute(
            sa.update(_feeds)
            .where(_feeds.c.name == name, _feeds.c.position == old)
            .values(position=new, updated_at=now)
            .returning(_feeds.c.name)
        ).first()
        if moved is None and old == 0:
            insert = (sqlite.insert if self._repo._sqlite else postgresql.insert)(_feeds)
            moved = self.conn.execute(
                insert.values(name=name, position=new, updated_at=now).on_conflict_do_nothing()
                .returning(_feeds.c.name)
            ).first()
        if moved is None:
            raise FeedMoved(f"feed {name!r} is no longer at {old}: another evaluator took these results")


def _event(row: Any) -> Event:
    return Event(*row[: len(EVENT_FIELDS)])


def _all_windows(conn: Connection) -> list[MaintenanceWindow]:
    return [_window(row._mapping) for row in conn.execute(sa.select(_windows).order_by(_windows.c.id))]


def _window(values: Any) -> MaintenanceWindow:
    start_time = values["start_time"]
    duration = values["duration_seconds"]
    return MaintenanceWindow(
        id=values["id"],
        name=values["name"],
        pattern=values["pattern"],
        check=values["check"],
        kind=values["kind"],
        starts_at=values["starts_at"],
        ends_at=values["ends_at"],
        cron=values["cron"],
        weekdays=tuple(values["weekdays"].split(",")) if values["weekdays"] else (),
        start_time=dt.time.fromisoformat(start_time) if start_time else None,
        duration=dt.timedelta(seconds=duration) if duration is not None else None,
        timezone=values["timezone"],
        created_by=values["created_by"],
        created_at=values["created_at"],
    )
