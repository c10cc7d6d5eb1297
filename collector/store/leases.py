"""Leases: a job only one collector replica does at a time, taken over when its holder dies.

    leases = Leases(store)
    if leases.acquire("scheduler", replica_id, ttl=15).held:   # take it, or renew it if ours
        ...                                                    # fire the schedules
    leases.release("scheduler", replica_id)                    # at shutdown: the next one need not wait

The holder renews well before ``ttl`` runs out; a holder that stops renewing (killed, frozen, cut off
from the database) loses the lease ``ttl`` seconds after its last renewal and another replica takes it.
On PostgreSQL the database's clock decides (replicas' clocks may disagree); SQLite serves one host.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from collector.store.engine import read_connection, write_transaction
from collector.store.models import LeaseRow, utcnow

_leases = LeaseRow.__table__


def replica_id() -> str:
    """This process's name as a holder: host, pid and a random part (a restarted pid is someone else)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class Lease:
    name: str
    holder: str | None  # who holds it now (None: nobody ever took it)
    held: bool  # by the caller
    taken_over: str | None = None  # the holder whose lease ran out, when the caller just took it from them


class Leases:
    def __init__(self, store: Any) -> None:
        self.engine = store.engine
        self._lock = store.write_lock
        self._postgres = self.engine.dialect.name == "postgresql"

    def _now(self, conn: Any) -> dt.datetime:
        return db_now(conn)

    def acquire(self, name: str, holder: str, ttl: float) -> Lease:
        """Take the lease if it is free or ran out, renew it if ``holder`` has it; else say who does."""
        query = sa.select(_leases.c.holder, _leases.c.expires_at).where(_leases.c.name == name)
        if self._postgres:
            query = query.with_for_update()
        with write_transaction(self.engine, self._lock, immediate=True) as conn:
            now = self._now(conn)
            row = conn.execute(query).first()
            expires = now + dt.timedelta(seconds=ttl)
            if row is None:
                # Two replicas starting together: the primary key lets one in, the other sees it held.
                inserted = conn.execute(
                    dialect_insert(self._postgres, _leases)
                    .values(name=name, holder=holder, acquired_at=now, expires_at=expires)
                    .on_conflict_do_nothing()
                    .returning(_leases.c.name)
                ).first()
                if inserted is None:
                    return Lease(name, None, False)
                return Lease(name, holder, True)
            current, until = row
            if current == holder:
                conn.execute(sa.update(_leases).where(_leases.c.name == name).values(expires_at=expires))
                return Lease(name, holder, True)
            if until > now:
                return Lease(name, current, False)
            conn.execute(
                sa.update(_leases).where(_leases.c.name == name)
                .values(holder=holder, acquired_at=now, expires_at=expires)
            )
            return Lease(name, holder, True, taken_over=current)

    def release(self, name: str, holder: str) -> bool:
        """Give the lease up (only if ``holder`` has it), so another replica takes it at once."""
        with write_transaction(self.engine, self._lock) as conn:
            gone = conn.execute(
                sa.delete(_leases).where(_leases.c.name == name, _leases.c.holder == holder).returning(_leases.c.name)
            ).first()
        return gone is not None

    def holder(self, name: str) -> tuple[str, dt.datetime] | None:
        """Who holds ``name`` and until when (it may have run out); None when nobody ever took it."""
        with read_connection(self.engine) as conn:
            row = conn.execute(
                sa.select(_leases.c.holder, _leases.c.expires_at).where(_leases.c.name == name)
            ).first()
        return (row[0], row[1]) if row is not None else None


def db_now(conn: Any) -> dt.datetime:
    """The time leases are measured by: PostgreSQL's clock (shared by every replica), else this host's."""
    if conn.dialect.name == "postgresql":
        return conn.execute(sa.select(sa.func.clock_timestamp())).scalar_one().astimezone(dt.UTC)
    return utcnow()


def dialect_insert(postgres: bool, table: sa.Table) -> Any:
    """INSERT with ON CONFLICT for the store's database (PostgreSQL or SQLite)."""
    from sqlalchemy.dialects import postgresql, sqlite

    return (postgresql.insert if postgres else sqlite.insert)(table)
