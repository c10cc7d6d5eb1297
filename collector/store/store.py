"""The store: patrol runs and their results, kept once and read by everything downstream.

A small API over SQLAlchemy sessions. Every write is one transaction; every read returns plain
values (``RunRecord``, ``checks.result.Result``), never live ORM objects, so callers cannot
accidentally hold a session open.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, selectinload, sessionmaker

from checks.result import Result
from checks.status import Status
from collector.store import migrate
from collector.store.engine import (
    StoreError,
    check_connection,
    create_engine,
    default_url,
    describe,
    error_text,
)
from collector.store.models import MetricRow, PatrolRun, ResultRow, utcnow


class RunNotFound(LookupError):
    def __init__(self, run_id: int) -> None:
        self.run_id = run_id
        super().__init__(f"no patrol run with id {run_id}")


@dataclass(frozen=True)
class RunRecord:
    """A patrol run as stored. ``status`` and ``finished_at`` stay None until the run finishes."""

    id: int
    playbook: str
    playbook_path: str
    description: str
    source: str
    started_at: dt.datetime
    finished_at: dt.datetime | None
    status: Status | None
    target_count: int
    check_count: int
    limit: str | None
    inspector: str | None

    @property
    def duration_seconds(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


class Store:
    """Runs and results in a SQL database. Open with ``Store.open(url)``; close when done."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def open(cls, url: str | None = None) -> Store:
        """Connect to ``url`` (default: ``default_url()``) and migrate its schema to the latest revision.

        Raises ``StoreError`` (naming the URL, password masked) when the URL is invalid, the driver
        is missing, the database is unreachable or the migration fails.
        """
        engine = create_engine(url or default_url())
        try:
            check_connection(engine)
            try:
                with engine.begin() as connection:
                    migrate.upgrade(connection)
            except sa.exc.SQLAlchemyError as exc:
                raise StoreError(f"cannot migrate {describe(engine)}: {error_text(engine, exc)}") from exc
        except BaseException:
            engine.dispose()
            raise
        return cls(engine)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- runs --------------------------------------------------------------------------------------

    def start_run(
        self,
        playbook: str,
        playbook_path: str,
        description: str,
        source: str,
        limit: str | None = None,
        inspector: str | None = None,
        started_at: dt.datetime | None = None,
    ) -> int:
        """Open a patrol run and return its id."""
        run = PatrolRun(
            playbook=playbook,
            playbook_path=playbook_path,
            description=description or "",
            source=source,
            started_at=started_at or utcnow(),
            limit_pattern=limit,
            inspector=inspector,
            target_count=0,
            check_count=0,
        )
        with self._write() as session:
            session.add(run)
        return run.id

    def finish_run(
        self, run_id: int, finished_at: dt.datetime, status: Status, target_count: int, check_count: int
    ) -> None:
        """Close a run with its worst status and counts. Raises ``RunNotFound``."""
        with self._write() as session:
            run = session.get(PatrolRun, run_id)
            if run is None:
                raise RunNotFound(run_id)
            run.finished_at = finished_at
            run.status = Status(status).value
            run.target_count = target_count
            run.check_count = check_count

    def get_run(self, run_id: int) -> RunRecord:
        """The run ``run_id``. Raises ``RunNotFound``."""
        with self._sessions() as session:
            run = session.get(PatrolRun, run_id)
            if run is None:
                raise RunNotFound(run_id)
            return _run_record(run)

    def previous_run(self, playbook: str, before_run_id: int) -> RunRecord | None:
        """The latest finished run of ``playbook`` older than ``before_run_id`` (for new/resolved marks)."""
        query = (
            sa.select(PatrolRun)
            .where(
                PatrolRun.playbook == playbook,
                PatrolRun.id < before_run_id,
                PatrolRun.finished_at.is_not(None),
            )
            .order_by(PatrolRun.id.desc())
            .limit(1)
        )
        with self._sessions() as session:
            run = session.scalars(query).first()
            return _run_record(run) if run is not None else None

    def latest_runs(self, limit: int = 20) -> list[RunRecord]:
        """The most recent runs, newest first."""
        with self._sessions() as session:
            runs = session.scalars(sa.select(PatrolRun).order_by(PatrolRun.id.desc()).limit(limit))
            return [_run_record(run) for run in runs]

    # -- results -----------------------------------------------------------------------------------

    def add_results(self, run_id: int | None, results: Iterable[Result]) -> int:
        """Store results (of run ``run_id``, or of no run) in one transaction: all or nothing.

        Returns how many were stored. Raises ``TypeError`` for anything that is not a ``Result`` and
        ``StoreError`` when the database refuses a row (e.g. an unknown run id); nothing is kept then.
        """
        rows = []
        for result in results:
            if not isinstance(result, Result):
                raise TypeError(
                    f"add_results takes checks.result.Result objects, not {type(result).__name__}"
                )
            rows.append(_result_row(run_id, result))
        if rows:
            with self._write() as session:
                session.add_all(rows)
        return len(rows)

    def run_results(self, run_id: int) -> list[Result]:
        """The results of run ``run_id`` with their metrics, ordered by target, check, item.

        Raises ``RunNotFound``.
        """
        query = (
            sa.select(ResultRow)
            .where(ResultRow.run_id == run_id)
            .options(selectinload(ResultRow.metrics))
            .order_by(ResultRow.target, ResultRow.check, ResultRow.item, ResultRow.id)
        )
        with self._sessions() as session:
            if session.get(PatrolRun, run_id) is None:
                raise RunNotFound(run_id)
            return [_result(row) for row in session.scalars(query)]

    # -- plumbing ----------------------------------------------------------------------------------

    def _write(self) -> _WriteTransaction:
        return _WriteTransaction(self)


class _WriteTransaction:
    """A session in a transaction; database errors become ``StoreError`` after the rollback."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._session: Session | None = None

    def __enter__(self) -> Session:
        self._session = self._store._sessions()
        self._session.begin()
        return self._session

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, _tb: object) -> None:
        session = self._session
        assert session is not None
        try:
            if exc is None:
                try:
                    session.commit()
                except sa.exc.SQLAlchemyError as error:
                    session.rollback()
                    raise StoreError(self._message(error)) from error
            else:
                session.rollback()
                if isinstance(exc, sa.exc.SQLAlchemyError):
                    raise StoreError(self._message(exc)) from exc
        finally:
            session.close()

    def _message(self, error: BaseException) -> str:
        engine = self._store.engine
        return f"cannot write to {describe(engine)}: {error_text(engine, error)}"


def _run_record(run: PatrolRun) -> RunRecord:
    return RunRecord(
        id=run.id,
        playbook=run.playbook,
        playbook_path=run.playbook_path,
        description=run.description,
        source=run.source,
        started_at=run.started_at,
        finished_at=run.finished_at,
        status=Status(run.status) if run.status else None,
        target_count=run.target_count,
        check_count=run.check_count,
        limit=run.limit_pattern,
        inspector=run.inspector,
    )


def _result_row(run_id: int | None, result: Result) -> ResultRow:
    return ResultRow(
        run_id=run_id,
        target=result.target,
        check=result.check,
        item=result.item,
        status=Status(result.status).value,
        summary=result.summary,
        thresholds=[spec.model_dump(mode="json") for spec in result.thresholds],
        started_at=result.started_at,
        duration_seconds=result.duration_seconds,
        collected=result.collected,
        metrics=[
            MetricRow(name=m.name, value=m.value, unit=m.unit, labels=dict(m.labels)) for m in result.metrics
        ],
    )


def _result(row: ResultRow) -> Result:
    return Result.model_validate(
        {
            "target": row.target,
            "check": row.check,
            "item": row.item,
            "status": row.status,
            "summary": row.summary,
            "metrics": [
                {"name": m.name, "value": m.value, "unit": m.unit, "labels": m.labels} for m in row.metrics
            ],
            "thresholds": row.thresholds,
            "started_at": row.started_at,
            "duration_seconds": row.duration_seconds,
            "collected": row.collected,
        }
    )
