"""The store: patrol runs and their results, kept once and read by everything downstream.

A small API over SQLAlchemy. Every write is one transaction; every read returns plain values
(``RunRecord``, ``checks.result.Result``, ``TokenRecord`` ...), never live ORM objects, so callers
cannot accidentally hold a session open.

Results enter by two doors that share one code path (``_insert_results``): ``add_results`` (a
one-shot ``patrol run``) and ``ingest_batch`` (an agent's batch, exactly once). That path is the hot
path of the collector, so it uses Core ``insert()`` with executemany, lets SQL copy the new rows
into ``latest_results`` (``INSERT ... SELECT ... ON CONFLICT``), and never builds ORM objects.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import secrets
import threading
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

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
    read_connection,
    write_transaction,
)
from collector.store.models import (
    Agent,
    ApiToken,
    BigId,
    EventRow,
    IngestBatch,
    LatestResult,
    PatrolRun,
    ResultRow,
    UTCDateTime,
    utcnow,
)

# agent: pushes results, reads its plan. metrics: Prometheus scrapes, agent list. viewer: reads events and
# maintenance windows. operator: a viewer that also acknowledges, resolves, comments, manages windows.
TokenKind = Literal["agent", "metrics", "viewer", "operator"]
TOKEN_KINDS: tuple[str, ...] = ("agent", "metrics", "viewer", "operator")
TOKEN_PREFIX = "pat_"
BATCH_ID_MAX_LENGTH = 100
NAME_MAX_LENGTH = 255
_IN_CHUNK = 500  # values per IN (...) list: far below SQLite's and PostgreSQL's bound-parameter limits

_results = ResultRow.__table__
_latest = LatestResult.__table__
_agents = Agent.__table__
_tokens = ApiToken.__table__
_batches = IngestBatch.__table__
_STATUS_TEXT = {status: status.value for status in Status}
_STATUS_BY_TEXT = {status.value: status for status in Status}
RESULTS_FEED_LOCK = 0x7061_7472_6F6C_0001  # PostgreSQL advisory lock key ("patrol" 1): writers of results


class StoredResult(NamedTuple):
    """What the event engine reads of a stored result (no metrics: cheaper than a validated Result)."""

    target: str
    check: str
    item: str
    status: Status
    summary: str
    started_at: dt.datetime
    collected: bool
# The columns latest_results copies from results (plus results.id as result_id).
_LATEST_COLUMNS = (
    "target",
    "check",
    "item",
    "status",
    "summary",
    "collected",
    "started_at",
    "duration_seconds",
    "metrics",
)


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


@dataclass(frozen=True)
class TokenRecord:
    """An API token as stored, without its hash. ``revoked_at`` is None while the token is valid."""

    id: int
    kind: TokenKind
    name: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


@dataclass(frozen=True)
class AgentRecord:
    """An agent and its last contact. ``last_seen`` is None until its first batch arrives."""

    name: str
    first_seen: dt.datetime
    last_seen: dt.datetime | None
    expected_interval_seconds: float | None
    results_received: int


@dataclass(frozen=True)
class IngestOutcome:
    """What ``ingest_batch`` did: ``stored`` results, or nothing because the batch was stored before."""

    stored: int
    duplicate: bool


class DailyFit(NamedTuple):
    """Sums over an item's daily points (x: days since the start of the history, y: the figure)."""

    n: int
    sum_x: float
    sum_y: float
    sum_xx: float
    sum_xy: float
    last: float  # the newest figure
    last_at: dt.datetime


class Store:
    """Runs and results in a SQL database. Open with ``Store.open(url)``; close when done."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self._sqlite = engine.dialect.name == "sqlite"
        self._sql = _Statements(engine)
        # SQLite lets one writer in at a time. Threads of this process queue here, in order, instead of
        # polling SQLite's lock until its busy timeout runs out (which, with many concurrent pushes and
        # the GIL slowing every holder down, ended in "database is locked"). PostgreSQL needs no queue.
        self._write_lock = threading.Lock() if self._sqlite else contextlib.nullcontext()

    @property
    def write_lock(self) -> Any:
        """What this process's writers of the same database hold while they write (SQLite), for other
        components writing through the same engine, such as the event repository."""
        return self._write_lock

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

        Also brings ``latest_results`` up to date. Returns how many were stored. Raises ``TypeError``
        for anything that is not a ``Result`` and ``StoreError`` when the database refuses a row (e.g.
        an unknown run id); nothing is kept then.
        """
        batch = _result_list(results, "add_results")
        if not batch:
            return 0
        with self._transaction() as conn:
            return self._insert_results(conn, batch, run_id=run_id, batch_id=None, now=utcnow())

    def ingest_batch(self, batch_id: str, agent: str, results: Sequence[Result]) -> IngestOutcome:
        """Store an agent's batch exactly once, in one transaction, committed before this returns.

        The batch id is claimed first (``ingest_batches`` primary key, ``INSERT ... ON CONFLICT DO
        NOTHING RETURNING``). When it was claimed before, by an earlier request or by a concurrent one
        in another thread or process (PostgreSQL makes the second wait for the first to commit; SQLite
        lets one writer in at a time), nothing is written: ``IngestOutcome(stored=0, duplicate=True)``.
        Otherwise the results are stored (no run, ``batch_id`` set), ``latest_results`` is brought up
        to date and the agent's ``last_seen`` and ``results_received`` too. Any failure stores nothing,
        not even the batch id, so the agent's retry can succeed.

        Raises ``ValueError`` for a bad batch id or agent name or a naive ``scheduled_at``, ``TypeError``
        for anything that is not a ``Result`` and ``StoreError`` when the database fails.
        """
        if not isinstance(batch_id, str) or not 1 <= len(batch_id) <= BATCH_ID_MAX_LENGTH:
            raise ValueError(f"batch id: expected 1 to {BATCH_ID_MAX_LENGTH} characters, got {batch_id!r}")
        _check_name(agent, "agent name")
        batch = _result_list(results, "ingest_batch")
        now = utcnow()
        with self._transaction() as conn:
            # First statement of the transaction and a write: on SQLite it takes the write lock (waiting
            # for other writers), so nothing read later in the transaction can be stale.
            claimed = conn.execute(
                self._sql.claim_batch,
                {"batch_id": batch_id, "agent": agent, "received_at": now, "result_count": len(batch)},
            )
            if claimed.first() is None:
                conn.rollback()
                return IngestOutcome(stored=0, duplicate=True)
            stored = self._insert_results(conn, batch, run_id=None, batch_id=batch_id, now=now)
            conn.execute(
                self._sql.agent_seen,
                {
                    "name": agent,
                    "first_seen": now,
                    "last_seen": now,
                    "expected_interval_seconds": None,
                    "results_received": stored,
                },
            )
        return IngestOutcome(stored=stored, duplicate=False)

    def run_results(self, run_id: int) -> list[Result]:
        """The results of run ``run_id`` with their metrics, ordered by target, check, item.

        Raises ``RunNotFound``.
        """
        query = (
            sa.select(_results)
            .where(_results.c.run_id == run_id)
            .order_by(_results.c.target, _results.c.check, _results.c.item, _results.c.id)
        )
        with self._read() as conn:
            if conn.execute(sa.select(PatrolRun.id).where(PatrolRun.id == run_id)).first() is None:
                raise RunNotFound(run_id)
            return [_result(row) for row in conn.execute(query)]

    def attach_results(
        self, run_id: int, playbook: str, scheduled_at: dt.datetime, targets: Iterable[str]
    ) -> list[Result]:
        """Link the stored results of one scheduled firing to run ``run_id`` and return them.

        Takes the results of ``playbook`` fired at ``scheduled_at`` whose target is in ``targets`` and
        that belong to no run yet (what agents pushed for that firing), sets their run, and returns
        exactly those, ordered like ``run_results``. Results already attached stay where they are.
        Raises ``RunNotFound`` and ``ValueError`` for a naive ``scheduled_at``.
        """
        if scheduled_at.tzinfo is None:
            raise ValueError(f"naive scheduled_at {scheduled_at.isoformat()}: give a time zone")
        wanted = sorted(set(targets))
        if not self._run_exists(run_id):
            raise RunNotFound(run_id)
        ids: list[int] = []
        query = (
            sa.select(_results)
            .where(_results.c.id.in_(sa.bindparam("ids", expanding=True)))
            .order_by(_results.c.target, _results.c.check, _results.c.item, _results.c.id)
        )
        with self._transaction() as conn:
            for chunk in _chunks(wanted, _IN_CHUNK):
                ids += (
                    conn.execute(
                        sa.update(_results)
                        .where(
                            _results.c.playbook == playbook,
                            _results.c.scheduled_at == scheduled_at,
                            _results.c.run_id.is_(None),
                            _results.c.target.in_(chunk),
                        )
                        .values(run_id=run_id)
                        .returning(_results.c.id)
                    )
                    .scalars()
                    .all()
                )
            rows = [row for chunk in _chunks(sorted(ids), _IN_CHUNK) for row in conn.execute(query, {"ids": chunk})]
        rows.sort(key=lambda row: (row.target, row.check, row.item, row.id))
        return [_result(row) for row in rows]

    def latest_results(self, target: str | None = None) -> list[Result]:
        """The newest result of every (target, check, item), ordered by them (what ``/metrics`` serves);
        ``target``: of that target only.

        Each carries target, check, item, status, summary, metrics, started_at, duration_seconds and
        collected; thresholds, playbook and scheduled_at are not kept here.
        """
        query = sa.select(_latest).order_by(_latest.c.target, _latest.c.check, _latest.c.item)
        if target is not None:
            query = query.where(_latest.c.target == target)
        with self._read() as conn:
            return [
                Result.model_validate(
                    {
                        "target": row.target,
                        "check": row.check,
                        "item": row.item,
                        "status": row.status,
                        "summary": row.summary,
                        "metrics": row.metrics,
                        "started_at": row.started_at,
                        "duration_seconds": row.duration_seconds,
                        "collected": row.collected,
                    }
                )
                for row in conn.execute(query)
            ]

    def item_history(
        self, target: str, since: dt.datetime, check: str | None = None, item: str | None = None, limit: int = 20000
    ) -> list[Result]:
        """A target's results since ``since`` (optionally of one check and item), oldest first, at most
        ``limit`` of the newest: the console's history charts. Read through the (target, check, item,
        started_at) index."""
        conditions = [_results.c.target == target, _results.c.started_at >= since]
        if check is not None:
            conditions.append(_results.c.check == check)
        if item is not None:
            conditions.append(_results.c.item == item)
        query = sa.select(_results).where(*conditions).order_by(_results.c.started_at.desc()).limit(limit)
        with self._read() as conn:
            rows = list(conn.execute(query))
        return [_result(row) for row in reversed(rows)]

    # -- agents ------------------------------------------------------------------------------------

    def touch_agent(self, name: str, expected_interval_seconds: float | None) -> None:
        """Record the interval an agent's plan gives it (when it fetches its plan); adds unknown agents.

        Does not change ``last_seen``: that is the last batch received, what silence detection needs.
        """
        _check_name(name, "agent name")
        with self._transaction() as conn:
            conn.execute(
                self._sql.agent_touched,
                {
                    "name": name,
                    "first_seen": utcnow(),
                    "last_seen": None,
                    "expected_interval_seconds": expected_interval_seconds,
                    "results_received": 0,
                },
            )

    def agents(self) -> list[AgentRecord]:
        """Every agent the collector knows, by name."""
        with self._read() as conn:
            return [
                AgentRecord(
                    name=row.name,
                    first_seen=row.first_seen,
                    last_seen=row.last_seen,
                    expected_interval_seconds=row.expected_interval_seconds,
                    results_received=row.results_received,
                )
                for row in conn.execute(sa.select(_agents).order_by(_agents.c.name))
            ]

    # -- API tokens --------------------------------------------------------------------------------

    def create_token(self, kind: TokenKind, name: str) -> tuple[int, str]:
        """A new token of ``kind`` for ``name``: returns (id, token). The token is shown this once.

        The token is ``pat_`` and 32 random bytes (256 bits, URL-safe base64). Only its SHA-256 hex
        digest is stored. A fast, unsalted hash is right here, unlike for passwords: nobody can guess
        or brute-force a 256-bit random value, so key stretching would only slow every request down.
        """
        _check_kind(kind)
        _check_name(name, "token name")
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with self._transaction() as conn:
            created = conn.execute(
                sa.insert(_tokens).values(kind=kind, name=name, token_hash=_token_hash(token), created_at=utcnow())
            )
            token_id = created.inserted_primary_key[0]
        return int(token_id), token

    def authenticate(self, token: str) -> TokenRecord | None:
        """The valid token ``token`` is, or None for an unknown or revoked one.

        Looked up by its SHA-256 digest, so the comparison happens on digests: timing reveals nothing
        useful about a token (finding a digest prefix tells nothing about a 256-bit preimage).
        """
        if not isinstance(token, str) or not token:
            return None
        query = sa.select(_tokens).where(_tokens.c.token_hash == _token_hash(token), _tokens.c.revoked_at.is_(None))
        with self._read() as conn:
            row = conn.execute(query).first()
        return _token_record(row) if row is not None else None

    def revoke_tokens(self, kind: TokenKind | None = None, name: str | None = None, token_id: int | None = None) -> int:
        """Revoke the valid tokens matching every given filter; returns how many were revoked.

        ``revoke_tokens(kind="agent", name="web01")``: all of that agent's tokens; ``token_id=7``: one.
        Raises ``ValueError`` when no filter is given (revoking everything is never a default).
        """
        if kind is None and name is None and token_id is None:
            raise ValueError("revoke_tokens needs a kind, a name or a token id")
        if kind is not None:
            _check_kind(kind)
        conditions = [_tokens.c.revoked_at.is_(None)]
        if kind is not None:
            conditions.append(_tokens.c.kind == kind)
        if name is not None:
            conditions.append(_tokens.c.name == name)
        if token_id is not None:
            conditions.append(_tokens.c.id == token_id)
        with self._transaction() as conn:
            return conn.execute(sa.update(_tokens).where(*conditions).values(revoked_at=utcnow())).rowcount

    def list_tokens(self) -> list[TokenRecord]:
        """Every token, valid or revoked, by id; never the tokens or their hashes."""
        with self._read() as conn:
            return [_token_record(row) for row in conn.execute(sa.select(_tokens).order_by(_tokens.c.id))]

    # -- the hot path ------------------------------------------------------------------------------

    def add_results_in(self, conn: Connection, run_id: int | None, results: Iterable[Result]) -> int:
        """``add_results`` inside the caller's transaction (``write_transaction`` on this store's engine and
        write lock), for writes that must commit together with the results (a poll task's end)."""
        return self._insert_results(conn, _result_list(results, "add_results_in"), run_id=run_id, batch_id=None,
                                    now=utcnow())

    def _insert_results(
        self, conn: Connection, results: list[Result], *, run_id: int | None, batch_id: str | None, now: dt.datetime
    ) -> int:
        """Insert ``results`` and copy the newest of them into ``latest_results`` and ``daily_results``, in
        ``conn``'s transaction.

        Rows are plain dicts for one Core executemany (no ORM objects); metrics and thresholds go to the
        engine's JSON serializer as the pydantic models they are. latest_results and daily_results are
        then updated by one ``INSERT ... SELECT`` each over the new rows' id range, so no result travels
        back to Python:
        - SQLite: the transaction holds the only write lock and each new row gets max(id) + 1, so the
          new rows are exactly the last ``len(results)`` ids;
        - PostgreSQL: the ids are taken from the sequence first, in one query (cheaper than RETURNING
          through executemany, which makes psycopg parse a 15,000-parameter statement per page). The
          range between the smallest and largest may hold rows other transactions committed meanwhile:
          copying those again is harmless, the newest result wins either way.
        """
        if not results:
            return 0
        status_text = _STATUS_TEXT
        rows = [
            {
                "run_id": run_id,
                "target": r.target,
                "check": r.check,
                "item": r.item,
                "status": status_text.get(r.status) or Status(r.status).value,
                "summary": r.summary,
                "metrics": r.metrics,
                "thresholds": r.thresholds,
                "started_at": r.started_at,
                "duration_seconds": r.duration_seconds,
                "collected": r.collected,
                "created_at": now,
                "playbook": r.playbook,
                "scheduled_at": r.scheduled_at,
                "batch_id": batch_id,
            }
            for r in results
        ]
        if self._sqlite:
            conn.execute(sa.insert(_results), rows)
            last = conn.execute(sa.select(sa.func.max(_results.c.id))).scalar_one()
            first = last - len(rows) + 1
        else:
            # Shared lock until commit: the event feed takes it exclusively to see every id below its
            # high-water mark committed (sequence ids are handed out before commit, in any order).
            conn.execute(sa.text("SELECT pg_advisory_xact_lock_shared(:key)"), {"key": RESULTS_FEED_LOCK})
            ids = conn.execute(self._sql.reserve_result_ids, {"count": len(rows)}).scalars().all()
            for row, row_id in zip(rows, ids, strict=True):
                row["id"] = row_id
            conn.execute(sa.insert(_results), rows)
            first, last = min(ids), max(ids)
        conn.execute(self._sql.latest_upsert, {"first": first, "last": last})
        conn.execute(self._sql.daily_upsert, {"first": first, "last": last})
        return len(rows)

    def results_after(self, position: int, limit: int = 5000) -> tuple[int, list[StoredResult]]:
        """Up to ``limit`` stored results with an id above ``position``, by id, and the id of the last.

        Only committed ids are returned, and none is ever returned after a higher one was: on SQLite
        writers take turns and ids follow commits; on PostgreSQL the high-water mark is read under the
        results writers' advisory lock taken exclusively, so every id below it is committed. Returns
        ``(position, [])`` when there is nothing new.
        """
        with self._read() as conn:
            if self._sqlite:
                high = conn.execute(sa.select(sa.func.max(_results.c.id))).scalar()
            else:
                with conn.begin():
                    conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": RESULTS_FEED_LOCK})
                    high = conn.execute(sa.select(sa.func.max(_results.c.id))).scalar()
            if high is None or high <= position:
                return position, []
            rows = conn.execute(
                sa.select(
                    _results.c.id, _results.c.target, _results.c.check, _results.c.item, _results.c.status,
                    _results.c.summary, _results.c.started_at, _results.c.collected,
                )
                .where(_results.c.id > position, _results.c.id <= high)
                .order_by(_results.c.id)
                .limit(limit)
            ).all()
        if not rows:
            return high, []
        by_text = _STATUS_BY_TEXT
        return rows[-1][0], [
            StoredResult(target, check, item, by_text[status], summary, started_at, collected)
            for _, target, check, item, status, summary, started_at, collected in rows
        ]

    def results_in_period(self, start: dt.datetime, end: dt.datetime) -> list[Result]:
        """The newest result of every (target, check, item) that started in [start, end), by them.

        Picked from ``_daily_points``: each item's newest day in the period holds its newest result, so
        a day's report reads one rollup row per item, not every result the day stored.
        """
        points, bounds = self._daily_points(start, end, None, None)
        newest = self._points_query(f"""
            SELECT result_id FROM (
                SELECT result_id, row_number() OVER (PARTITION BY target, "check", item
                                                     ORDER BY at DESC, result_id DESC) AS newest
                FROM ({points}) AS points
            ) AS ranked
            WHERE newest = 1
        """, bounds).columns(result_id=BigId).subquery()
        query = (
            sa.select(_results)
            .join(newest, _results.c.id == newest.c.result_id)
            .order_by(_results.c.target, _results.c.check, _results.c.item)
        )
        with self._read() as conn:
            return [_result(row) for row in conn.execute(query, bounds)]

    def daily_used_history(
        self, checks: Collection[str], since: dt.datetime, until: dt.datetime,
        targets: Collection[str] | None = None,
    ) -> dict[tuple[str, str, str], list[tuple[dt.datetime, float]]]:
        """Per (target, check, item) of ``checks``, the used % (``daily_results.used_percent``) of the last
        result of each UTC day in [since, until), oldest first: one point a day however often the check
        ran (capacity trends over weeks). ``targets``: only theirs."""
        points, bounds = self._daily_points(since, until, checks, targets)
        query = self._points_query(f"""
            SELECT target, "check", item, at, used_percent FROM ({points}) AS points
            WHERE used_percent IS NOT NULL
        """, bounds)
        out: dict[tuple[str, str, str], list[tuple[dt.datetime, float]]] = {}
        with self._read() as conn:
            for target, check, item, at, figure in conn.execute(query, bounds):
                moment = dt.datetime.fromtimestamp(round(float(at), 3), dt.UTC)
                out.setdefault((target, check, item), []).append((moment, float(figure)))
        for series in out.values():
            series.sort()
        return out

    def daily_used_fits(
        self, checks: Collection[str], since: dt.datetime, until: dt.datetime
    ) -> dict[tuple[str, str, str], DailyFit]:
        """The sums a least-squares line through ``daily_used_history``'s points needs, per item, summed by
        the database: a month of history for 20,000 items is 600,000 points, and only the rows the
        report shows need their points read (``daily_used_history`` with ``targets``)."""
        points, bounds = self._daily_points(since, until, checks, None)
        # The newest figure: SQLite gives a bare column the values of the row max() picked (documented,
        # with exactly one min/max in the query); PostgreSQL needs it spelled out.
        last = "used_percent" if self._sqlite else "(array_agg(used_percent ORDER BY at DESC))[1]"
        query = self._points_query(f"""
            SELECT target, "check", item, count(*), sum(x), sum(used_percent), sum(x * x),
                   sum(x * used_percent), {last}, max(at)
            FROM (SELECT target, "check", item, used_percent, at, (at - :epoch0) / 86400.0 AS x
                  FROM ({points}) AS points WHERE used_percent IS NOT NULL) AS fit
            GROUP BY target, "check", item
        """, bounds)
        out = {}
        with self._read() as conn:
            for target, check, item, n, sx, sy, sxx, sxy, figure, at in conn.execute(
                query, {**bounds, "epoch0": since.timestamp()}
            ):
                out[(target, check, item)] = DailyFit(
                    int(n), float(sx), float(sy), float(sxx), float(sxy), float(figure),
                    dt.datetime.fromtimestamp(round(float(at), 3), dt.UTC),
                )
        return out

    def _daily_points(
        self, since: dt.datetime, until: dt.datetime, checks: Collection[str] | None,
        targets: Collection[str] | None,
    ) -> tuple[str, dict[str, Any]]:
        """SQL for the last result of each item and UTC day in [since, until), and its parameters:
        (target, check, item, day, at: started_at in Unix seconds, status, used_percent, result_id).

        Whole days come from the daily_results rollup: a row of a day before ``until``'s is that day's
        last result, and it started at or after ``since`` exactly when the day had a result in the
        period. The day ``until`` falls in may also hold results after it, so that day's part before
        ``until`` is picked out of ``results`` (a day's rows at most; none when ``until`` is a UTC
        midnight, as for daily reports in UTC).
        """
        until_day = until.astimezone(dt.UTC).date()
        midnight = dt.datetime.combine(until_day, dt.time(), dt.UTC)
        only = (' AND "check" IN :checks' if checks else "") + (" AND target IN :targets" if targets else "")
        day, epoch, used = _rollup_columns(self._sqlite, "part")
        sql = f"""
            SELECT target, "check", item, day, started_epoch AS at, status, used_percent, result_id
            FROM daily_results
            WHERE day >= :since_day AND day < :until_day AND started_epoch >= :since_epoch{only}
        """
        bounds: dict[str, Any] = {
            "since_epoch": since.timestamp(), "since_day": since.astimezone(dt.UTC).date(), "until_day": until_day,
        }
        part_since = max(since, midnight)
        if part_since < until:
            bounds.update(part_since=part_since, until=until)
            sql += f"""
            UNION ALL
            SELECT target, "check", item, {day} AS day, {epoch} AS at, status, {used} AS used_percent,
                   id AS result_id FROM (
                SELECT id, target, "check", item, started_at, status, metrics,
                       row_number() OVER (PARTITION BY target, "check", item
                                          ORDER BY started_at DESC, id DESC) AS newest
                FROM results
                WHERE started_at >= :part_since AND started_at < :until{only}
            ) AS part
            WHERE newest = 1
            """
        if checks:
            bounds["checks"] = sorted(checks)
        if targets:
            bounds["targets"] = sorted(targets)
        return sql, bounds

    @staticmethod
    def _points_query(sql: str, bounds: Mapping[str, Any]) -> sa.TextClause:
        """``sql`` over ``_daily_points`` with its parameters typed (times as stored, lists expanded)."""
        query = sa.text(sql).bindparams(
            *(sa.bindparam(name, type_=UTCDateTime()) for name in ("until", "part_since") if name in bounds),
            *(sa.bindparam(name, type_=sa.Date()) for name in ("since_day", "until_day")),
        )
        for name in ("checks", "targets"):
            if name in bounds:
                query = query.bindparams(sa.bindparam(name, expanding=True))
        return query

    def daily_status_counts(
        self, since: dt.datetime, until: dt.datetime, targets: Collection[str] | None = None
    ) -> dict[dt.date, dict[Status, int]]:
        """Per UTC day in [since, until), the items (target, check, item) by the status of their last
        result of that day: how the estate stood each evening, however often each check ran."""
        points, bounds = self._daily_points(since, until, None, targets)
        query = self._points_query(
            f"SELECT day, status, count(*) FROM ({points}) AS points GROUP BY day, status", bounds
        )
        out: dict[dt.date, dict[Status, int]] = {}
        with self._read() as conn:
            for day_value, status, count in conn.execute(query, bounds):
                when = day_value if isinstance(day_value, dt.date) else dt.date.fromisoformat(str(day_value))
                counts = out.setdefault(when, {})
                state = _STATUS_BY_TEXT.get(status, Status.UNKNOWN)
                counts[state] = counts.get(state, 0) + count
        return dict(sorted(out.items()))

    def open_event_counts(self) -> dict[tuple[str, str], int]:
        """Open events (firing or acknowledged) by (severity, state), for /metrics."""
        events = EventRow.__table__
        query = (
            sa.select(events.c.severity, events.c.state, sa.func.count())
            .where(events.c.state.in_(("firing", "acknowledged")))
            .group_by(events.c.severity, events.c.state)
        )
        with self._read() as conn:
            return {(severity, state): count for severity, state, count in conn.execute(query)}

    # -- plumbing ----------------------------------------------------------------------------------

    def _run_exists(self, run_id: int) -> bool:
        with self._read() as conn:
            return conn.execute(sa.select(PatrolRun.id).where(PatrolRun.id == run_id)).first() is not None

    @contextmanager
    def _transaction(self) -> Iterator[Connection]:
        """A connection in one transaction: committed at the end, rolled back on any error.

        Database errors become ``StoreError`` (URL masked). Writers issue a write first, so that on
        SQLite the transaction takes the write lock before it reads anything.
        """
        with write_transaction(self.engine, self._write_lock) as conn:
            yield conn

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with read_connection(self.engine) as conn:
            yield conn

    def _write(self) -> _WriteTransaction:
        return _WriteTransaction(self)


class _WriteTransaction:
    """A session in a transaction; database errors become ``StoreError`` after the rollback."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._session: Session | None = None

    def __enter__(self) -> Session:
        self._store._write_lock.__enter__()
        try:
            self._session = self._store._sessions()
            self._session.begin()
        except BaseException:
            self._store._write_lock.__exit__(None, None, None)
            raise
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
            self._store._write_lock.__exit__(None, None, None)

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


def _result(row: Any) -> Result:
    return Result.model_validate(
        {
            "target": row.target,
            "check": row.check,
            "item": row.item,
            "status": row.status,
            "summary": row.summary,
            "metrics": row.metrics,
            "thresholds": row.thresholds,
            "started_at": row.started_at,
            "duration_seconds": row.duration_seconds,
            "collected": row.collected,
            "playbook": row.playbook,
            "scheduled_at": row.scheduled_at,
        }
    )


def _token_record(row: Any) -> TokenRecord:
    return TokenRecord(id=row.id, kind=row.kind, name=row.name, created_at=row.created_at, revoked_at=row.revoked_at)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _result_list(results: Iterable[Result], method: str) -> list[Result]:
    batch = list(results)
    for result in batch:
        if not isinstance(result, Result):
            raise TypeError(f"{method} takes checks.result.Result objects, not {type(result).__name__}")
        # Result normalises started_at to UTC but takes scheduled_at as given: refuse a naive one here,
        # as a bad argument, before the database is touched.
        scheduled_at = result.scheduled_at
        if scheduled_at is not None and scheduled_at.tzinfo is None:
            raise ValueError(
                f"result {result.target}/{result.check}/{result.item}: scheduled_at {scheduled_at.isoformat()} "
                "has no time zone"
            )
    return batch


def _check_name(name: str, what: str) -> None:
    if not isinstance(name, str) or not 1 <= len(name) <= NAME_MAX_LENGTH:
        raise ValueError(f"{what}: expected 1 to {NAME_MAX_LENGTH} characters, got {name!r}")


def _check_kind(kind: str) -> None:
    if kind not in TOKEN_KINDS:
        raise ValueError(f"token kind: expected one of {', '.join(TOKEN_KINDS)}, got {kind!r}")


def _chunks(values: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _dialect_insert(engine: Engine) -> Any:
    """The dialect's ``insert`` construct, which has ``on_conflict_do_nothing`` / ``_do_update``."""
    if engine.dialect.name == "sqlite":
        return sqlite.insert
    if engine.dialect.name == "postgresql":
        return postgresql.insert
    raise StoreError(f"unsupported database {engine.dialect.name!r}: Patrol runs on SQLite and PostgreSQL")


class _Statements:
    """The write statements of the hot path, built once per store for its dialect (parameters bound later)."""

    def __init__(self, engine: Engine) -> None:
        insert = _dialect_insert(engine)
        self.claim_batch = (
            insert(_batches)
            .on_conflict_do_nothing(index_elements=[_batches.c.batch_id])
            .returning(_batches.c.batch_id)  # a row when claimed now, none when it was claimed before
        )
        seen = insert(_agents)
        self.agent_seen = seen.on_conflict_do_update(
            index_elements=[_agents.c.name],
            set_={
                "last_seen": sa.case(
                    (
                        sa.or_(_agents.c.last_seen.is_(None), _agents.c.last_seen < seen.excluded.last_seen),
                        seen.excluded.last_seen,
                    ),
                    else_=_agents.c.last_seen,
                ),
                "results_received": _agents.c.results_received + seen.excluded.results_received,
            },
        )
        touched = insert(_agents)
        self.agent_touched = touched.on_conflict_do_update(
            index_elements=[_agents.c.name],
            set_={"expected_interval_seconds": touched.excluded.expected_interval_seconds},
        )
        self.latest_upsert = _latest_upsert(engine)
        self.daily_upsert = _daily_upsert(engine.dialect.name == "sqlite")
        # PostgreSQL: the new rows' ids, taken from the sequence in one query (SQLite: see _insert_results).
        self.reserve_result_ids = sa.select(
            sa.func.nextval(sa.func.pg_get_serial_sequence("results", "id"))
        ).select_from(sa.func.generate_series(1, sa.bindparam("count")))


def _rollup_columns(sqlite: bool, table: str) -> tuple[str, str, str]:
    """SQL for a results row's (alias ``table``) UTC day, started_at in Unix seconds, and used %: its
    metric "used" when the unit is "%", read out of the metrics JSON."""
    if sqlite:
        return "date(started_at)", "(julianday(started_at) - 2440587.5) * 86400.0", (
            f"(SELECT json_extract(m.value, '$.value') FROM json_each({table}.metrics) AS m "
            "WHERE json_extract(m.value, '$.name') = 'used' AND json_extract(m.value, '$.unit') = '%' LIMIT 1)"
        )
    return "CAST(started_at AT TIME ZONE 'UTC' AS date)", "extract(epoch FROM started_at)", (
        f"(SELECT (m->>'value')::float8 FROM json_array_elements({table}.metrics) AS m "
        "WHERE m->>'name' = 'used' AND m->>'unit' = '%' LIMIT 1)"
    )


def _daily_upsert(sqlite: bool) -> sa.TextClause:
    """Copy the results with ids in [:first, :last] into daily_results, unless the row there is of a
    later result of that day.

    One statement in SQL, like ``_latest_upsert``. Only each key's newest result among the new ones
    goes in (PostgreSQL refuses to update a row twice in one statement, and on SQLite a batch of four
    firings of the same items makes a quarter of the index updates), in key order (no deadlocks
    between concurrent PostgreSQL ingests); its used % is read out of the JSON for it alone.
    """
    day, epoch, used = _rollup_columns(sqlite, "new")
    return sa.text(f"""
        INSERT INTO daily_results AS old (day, target, "check", item, status, started_epoch, used_percent, result_id)
        SELECT day, target, "check", item, status, started_epoch, {used}, id FROM (
            SELECT id, {day} AS day, target, "check", item, status, {epoch} AS started_epoch, metrics,
                   row_number() OVER (PARTITION BY target, "check", item, {day}
                                      ORDER BY started_at DESC, id DESC) AS newest
            FROM results WHERE id BETWEEN :first AND :last
        ) AS new
        WHERE newest = 1
        ORDER BY target, "check", item, day
        ON CONFLICT (day, target, "check", item) DO UPDATE SET
            status = excluded.status, started_epoch = excluded.started_epoch,
            used_percent = excluded.used_percent, result_id = excluded.result_id
        WHERE old.started_epoch <= excluded.started_epoch
    """)


def _latest_upsert(engine: Engine) -> sa.Insert:
    """Copy the results with ids in [:first, :last] into latest_results where they are newer or equal.

    One statement, all in SQL: no result travels back to Python. On SQLite the rows go in oldest first, so
    of several results for one item in a batch the newest stays; PostgreSQL refuses to update one row twice
    in a statement, so there only the newest per item is selected (DISTINCT ON). Rows go in sorted by item,
    which keeps concurrent PostgreSQL ingests locking in the same order (no deadlocks).
    """
    columns = [_results.c[name] for name in _LATEST_COLUMNS]
    source = sa.select(*columns, _results.c.id).where(
        _results.c.id.between(sa.bindparam("first"), sa.bindparam("last"))
    )
    key = (_results.c.target, _results.c.check, _results.c.item)
    if engine.dialect.name == "postgresql":
        distinct_on = getattr(postgresql, "distinct_on", None)  # SQLAlchemy 2.1; 2.0 spells it .distinct(*key)
        source = source.ext(distinct_on(*key)) if distinct_on else source.distinct(*key)
        source = source.order_by(*key, _results.c.started_at.desc(), _results.c.id.desc())
    else:
        source = source.order_by(*key, _results.c.started_at, _results.c.id)
    insert = _dialect_insert(engine)(_latest).from_select([*_LATEST_COLUMNS, "result_id"], source)
    updated = [name for name in _LATEST_COLUMNS if name not in ("target", "check", "item")] + ["result_id"]
    return insert.on_conflict_do_update(
        index_elements=[_latest.c.target, _latest.c.check, _latest.c.item],
        set_={name: insert.excluded[name] for name in updated},
        where=_latest.c.started_at <= insert.excluded.started_at,
    )
