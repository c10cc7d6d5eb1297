"""Patrols asked for by hand ("run now" in the console), queued in the store.

Any HTTP worker process can take the request; the scheduler, which runs in one process, takes the
queue every few seconds and runs each request once (``take`` marks it taken in the same transaction;
on PostgreSQL with ``FOR UPDATE SKIP LOCKED``, so two takers never get the same request).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Any

import sqlalchemy as sa

from collector.store.engine import read_connection, write_transaction
from collector.store.models import RunRequestRow, utcnow

_requests = RunRequestRow.__table__


@dataclass(frozen=True)
class RunRequest:
    id: int
    playbook: str
    requested_by: str
    requested_at: dt.datetime
    taken_at: dt.datetime | None
    run_id: int | None
    error: str | None


class RunRequests:
    def __init__(self, store: Any) -> None:
        self.engine = store.engine
        self._lock = store.write_lock

    def add(self, playbook: str, requested_by: str) -> RunRequest:
        with write_transaction(self.engine, self._lock) as conn:
            new_id = conn.execute(sa.insert(_requests).values(
                playbook=playbook, requested_by=requested_by, requested_at=utcnow())).inserted_primary_key[0]
        return self.get(int(new_id))  # type: ignore[return-value]

    def get(self, request_id: int) -> RunRequest | None:
        with read_connection(self.engine) as conn:
            row = conn.execute(sa.select(_requests).where(_requests.c.id == request_id)).first()
        return _request(row) if row is not None else None

    def recent(self, limit: int = 20) -> list[RunRequest]:
        with read_connection(self.engine) as conn:
            rows = conn.execute(sa.select(_requests).order_by(_requests.c.id.desc()).limit(limit))
            return [_request(r) for r in rows]

    def take(self, limit: int = 10) -> list[RunRequest]:
        """The oldest requests nobody took yet, now marked taken."""
        query = sa.select(_requests).where(_requests.c.taken_at.is_(None)).order_by(_requests.c.id).limit(limit)
        with read_connection(self.engine) as conn:  # the usual answer, without taking SQLite's write lock
            if conn.execute(query.with_only_columns(_requests.c.id)).first() is None:
                return []
        if self.engine.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        now = utcnow()
        with write_transaction(self.engine, self._lock, immediate=True) as conn:
            rows = list(conn.execute(query))
            if rows:
                conn.execute(sa.update(_requests).where(_requests.c.id.in_([r.id for r in rows])).values(taken_at=now))
        return [replace(_request(r), taken_at=now) for r in rows]

    def finish(self, request_id: int, run_id: int | None, error: str | None = None) -> None:
        with write_transaction(self.engine, self._lock) as conn:
            conn.execute(sa.update(_requests).where(_requests.c.id == request_id).values(run_id=run_id, error=error))


def _request(row: Any) -> RunRequest:
    return RunRequest(row.id, row.playbook, row.requested_by, row.requested_at, row.taken_at, row.run_id, row.error)
