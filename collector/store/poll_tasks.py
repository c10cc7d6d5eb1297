"""The poller's work, shared out between collector replicas through the database.

When a schedule fires, the run is opened together with one task per target the collector checks
itself (hosts without an agent), in one transaction. Every replica takes tasks:

    tasks = PollTasks(store)
    for task in tasks.take(holder, lease_seconds=30):      # FOR UPDATE SKIP LOCKED on PostgreSQL
        ...run the target's checks, renewing with tasks.renew(holder, ids, 30)...
        tasks.finish(task, holder, results)                # results and "done" in one transaction

A task is held by a lease: a replica that dies stops renewing it and, once the lease runs out, another
replica takes the task again. Done tasks stay with their run (who checked which target, how often it
was taken). ``finish`` stores the results only while the caller still holds the task,
so a replica that lost its lease (frozen, cut off) cannot store a target's results twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from checks.result import Result
from collector.store.engine import read_connection, write_transaction
from collector.store.leases import db_now, dialect_insert
from collector.store.models import PatrolRun, PollTaskRow

_tasks = PollTaskRow.__table__
_runs = PatrolRun.__table__


@dataclass(frozen=True)
class PollTask:
    id: int
    run_id: int
    playbook: str
    target: str
    scheduled_at: dt.datetime
    attempts: int  # times taken, this time included


@dataclass(frozen=True)
class DueRun:
    """An open run the collector may close now: its time came and every poll task is done."""

    id: int
    playbook: str
    scheduled_at: dt.datetime
    collect_agents: bool


class PollTasks:
    def __init__(self, store: Any) -> None:
        self.store = store
        self.engine = store.engine
        self._lock = store.write_lock
        self._postgres = self.engine.dialect.name == "postgresql"

    def open_run(self, *, targets: Sequence[str], firing: str | None, close_after: dt.datetime,
                 collect_agents: bool, **run: Any) -> int | None:
        """Open a run (``run``: PatrolRun's columns) and its targets' tasks in one transaction.

        ``firing`` names a scheduled firing: when a run of it exists already (another replica opened
        it), nothing is written and None is returned."""
        values = {"description": "", "target_count": 0, "check_count": 0, **run, "firing": firing,
                  "close_after": close_after, "collect_agents": collect_agents}
        with write_transaction(self.engine, self._lock) as conn:
            now = db_now(conn)
            insert = dialect_insert(self._postgres, _runs).values(values)
            if firing is not None:
                insert = insert.on_conflict_do_nothing(index_elements=["firing"])
            run_id = conn.execute(insert.returning(_runs.c.id)).scalar()
            if run_id is None:
                return None
            rows = [{"run_id": run_id, "playbook": values["playbook"], "target": target,
                     "scheduled_at": values["started_at"], "state": "pending",
                     "attempts": 0, "created_at": now} for target in targets]
            if rows:
                conn.execute(sa.insert(_tasks), rows)
        return int(run_id)

    def waiting(self) -> bool:
        """Whether any task waits for a taker (a read on the takers' index: no lock, no write)."""
        with read_connection(self.engine) as conn:
            return conn.execute(sa.select(_tasks.c.id).where(self._free(db_now(conn))).limit(1)).first() is not None

    @staticmethod
    def _free(now: dt.datetime) -> Any:
        """Tasks nobody holds: pending, or held by a lease that ran out."""
        return sa.or_(_tasks.c.state == "pending", sa.and_(_tasks.c.state == "running", _tasks.c.lease_until < now))

    def take(self, holder: str, lease_seconds: float, limit: int = 16, run_id: int | None = None) -> list[PollTask]:
        """Up to ``limit`` of the oldest tasks nobody holds (pending, or whose lease ran out), now held by
        ``holder`` for ``lease_seconds``. ``run_id``: only that run's."""
        with write_transaction(self.engine, self._lock, immediate=True) as conn:
            now = db_now(conn)
            query = sa.select(_tasks.c.id).where(self._free(now)).order_by(_tasks.c.id).limit(limit)
            if run_id is not None:
                query = query.where(_tasks.c.run_id == run_id)
            if self._postgres:
                query = query.with_for_update(skip_locked=True)  # replicas take disjoint tasks
            ids = conn.execute(query).scalars().all()
            if not ids:
                return []
            rows = conn.execute(
                sa.update(_tasks).where(_tasks.c.id.in_(ids))
                .values(state="running", holder=holder, lease_until=now + dt.timedelta(seconds=lease_seconds),
                        attempts=_tasks.c.attempts + 1)
                .returning(_tasks.c.id, _tasks.c.run_id, _tasks.c.playbook, _tasks.c.target, _tasks.c.scheduled_at,
                           _tasks.c.attempts)
            ).all()
        return sorted((PollTask(*row) for row in rows), key=lambda task: task.id)

    def renew(self, holder: str, ids: Iterable[int], lease_seconds: float) -> set[int]:
        """Extend the leases ``holder`` still has among ``ids``; the ids renewed."""
        ids = sorted(ids)
        if not ids:
            return set()
        with write_transaction(self.engine, self._lock) as conn:
            now = db_now(conn)
            renewed = conn.execute(
                sa.update(_tasks)
                .where(_tasks.c.id.in_(ids), _tasks.c.holder == holder, _tasks.c.state == "running")
                .values(lease_until=now + dt.timedelta(seconds=lease_seconds))
                .returning(_tasks.c.id)
            ).scalars().all()
        return set(renewed)

    def finish(self, task: PollTask, holder: str, results: Iterable[Result]) -> bool:
        """Store the task's results and mark it done, together; False (nothing stored) when ``holder``
        no longer holds it (its lease ran out and another replica took it)."""
        with write_transaction(self.engine, self._lock) as conn:
            done = conn.execute(
                sa.update(_tasks)
                .where(_tasks.c.id == task.id, _tasks.c.holder == holder, _tasks.c.state == "running")
                .values(state="done", finished_at=db_now(conn), lease_until=None)
                .returning(_tasks.c.id)
            ).first()
            if done is None:
                return False
            self.store.add_results_in(conn, task.run_id, results)
        return True

    def due_runs(self) -> list[DueRun]:
        """Open runs to close now: ``close_after`` passed and none of their tasks left to do."""
        undone = sa.select(_tasks.c.id).where(_tasks.c.run_id == _runs.c.id, _tasks.c.state != "done").exists()
        with read_connection(self.engine) as conn:
            now = db_now(conn)
            rows = conn.execute(
                sa.select(_runs.c.id, _runs.c.playbook, _runs.c.started_at, _runs.c.collect_agents)
                .where(_runs.c.finished_at.is_(None), _runs.c.close_after.is_not(None), _runs.c.close_after <= now,
                       ~undone)
                .order_by(_runs.c.id)
            ).all()
        return [DueRun(*row) for row in rows]

    def claim_close(self, run_id: int, hold_seconds: float = 300) -> bool:
        """Take the closing of a due run: moves its ``close_after`` on by ``hold_seconds``, so that exactly
        one replica closes it, and another does if the closer dies before the run is finished."""
        with write_transaction(self.engine, self._lock) as conn:
            now = db_now(conn)
            claimed = conn.execute(
                sa.update(_runs)
                .where(_runs.c.id == run_id, _runs.c.finished_at.is_(None), _runs.c.close_after <= now)
                .values(close_after=now + dt.timedelta(seconds=hold_seconds))
                .returning(_runs.c.id)
            ).first()
        return claimed is not None

    def counts(self) -> dict[str, int]:
        """Tasks by state (for metrics and tests)."""
        with read_connection(self.engine) as conn:
            rows = conn.execute(sa.select(_tasks.c.state, sa.func.count()).group_by(_tasks.c.state)).all()
        return {state: int(n) for state, n in rows}
