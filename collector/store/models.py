"""The store's tables, as SQLAlchemy 2 typed declarative models.

Portable on purpose: the same models run on SQLite (the embedded default) and PostgreSQL, so only
generic types are used, JSON goes through ``sqlalchemy.JSON`` and times are stored as UTC.
Any change here needs a migration in ``migrations/versions``; a unit test compares the two.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UTCDateTime(sa.TypeDecorator[dt.datetime]):
    """A timezone-aware datetime stored as UTC.

    PostgreSQL keeps the zone (timestamptz); SQLite keeps none and hands back naive values, which are
    UTC because that is all we ever write. Either way callers get aware UTC datetimes back.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: sa.Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value.isoformat()} given: the store needs time zones")
        value = value.astimezone(dt.UTC)
        # SQLite would store an aware value's offset as part of the text and break ordering; strip it.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def bind_processor(self, dialect: sa.Dialect) -> Callable[[Any], Any] | None:
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)
        # Ingest binds three datetimes per result. On SQLite, go straight to the text SQLAlchemy's own
        # DateTime writes ("2026-11-23 08:00:00.000000", sortable as text) with one C call instead of
        # process_bind_param followed by SQLAlchemy's %-formatting; and remember the last value, because a
        # batch repeats them (every row's created_at, most rows' scheduled_at). Equal aware datetimes are
        # the same instant, so they have the same text. A test checks this agrees with SQLAlchemy's format.
        utc = dt.UTC
        last: tuple[dt.datetime | None, str | None] = (None, None)  # replaced whole: safe across threads

        def process(value: dt.datetime | None) -> str | None:
            nonlocal last
            if value is None:
                return None
            seen = last
            if value == seen[0]:
                return seen[1]
            if value.tzinfo is not utc:
                if value.tzinfo is None:
                    raise ValueError(f"naive datetime {value.isoformat()} given: the store needs time zones")
                value = value.astimezone(utc)
            text = value.isoformat(" ", "microseconds")[:-6]  # without "+00:00"
            last = (value, text)
            return text

        return process

    def process_result_value(self, value: dt.datetime | None, dialect: sa.Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


# Named constraints make migrations reproducible and portable (PostgreSQL needs names to drop them).
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# Results and metrics grow without bound on a busy site: 64-bit keys on PostgreSQL. SQLite needs
# exactly INTEGER for its rowid primary keys (and its integers are 64-bit anyway).
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


class PatrolRun(Base):
    """One firing of a playbook: every check of every matched host, run once."""

    __tablename__ = "patrol_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    playbook: Mapped[str] = mapped_column(sa.String(255))
    playbook_path: Mapped[str] = mapped_column(sa.String(1000))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    source: Mapped[str] = mapped_column(sa.String(32))  # "run" (one-shot command), "schedule", ...
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    status: Mapped[str | None] = mapped_column(sa.String(16))  # worst status, set when the run finishes
    target_count: Mapped[int] = mapped_column(default=0)
    check_count: Mapped[int] = mapped_column(default=0)
    limit_pattern: Mapped[str | None] = mapped_column(sa.String(1000))  # the --limit host pattern
    inspector: Mapped[str | None] = mapped_column(sa.String(255))
    # A scheduled firing, "playbook@ISO time": unique, so no two replicas open the same firing's run.
    firing: Mapped[str | None] = mapped_column(sa.String(300))
    # Runs the collector closes itself (patrol serve): not before this time, and once every poll task
    # of the run is done. None: closed by whoever opened it (patrol run).
    close_after: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # Attach the agents' results of the firing when the run closes.
    collect_agents: Mapped[bool] = mapped_column(sa.Boolean, default=False, server_default=sa.false())

    results: Mapped[list[ResultRow]] = relationship(
        back_populates="run", cascade="all, delete-orphan", passive_deletes=True
    )

    __table_args__ = (
        sa.Index(None, "playbook", "id"),  # previous_run(): same playbook, smaller id
        sa.Index("uq_patrol_runs_firing", "firing", unique=True),
    )


class ResultRow(Base):
    """One stored ``checks.result.Result``, whatever produced it: a one-shot run, a scheduled patrol, an agent.

    Its metrics are a JSON list on the row (``[{"name", "value", "unit", "labels"}, ...]``), not rows of
    their own table (``result_metrics`` until migration 0002): ingest is the hot path, and one row per
    result instead of five made it more than twice as fast (bench/ingest_store.py). The history of one
    item (charts, forecasts) is read through the (target, check, item, started_at) index; the newest
    figures of every item live in ``latest_results``.
    """

    __tablename__ = "results"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # Nullable: results an agent pushes belong to no run until a scheduled run attaches them.
    run_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("patrol_runs.id", ondelete="CASCADE"), index=True
    )
    target: Mapped[str] = mapped_column(sa.String(255))
    check: Mapped[str] = mapped_column(sa.String(100))
    item: Mapped[str] = mapped_column(sa.String(500), default="")
    status: Mapped[str] = mapped_column(sa.String(16))
    summary: Mapped[str] = mapped_column(sa.String(2000))
    metrics: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON, default=list, server_default=sa.text("'[]'"))
    thresholds: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON, default=list)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    duration_seconds: Mapped[float] = mapped_column(sa.Float)
    collected: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # The playbook and scheduled firing the result belongs to (agents and scheduled patrols set them).
    playbook: Mapped[str | None] = mapped_column(sa.String(200))
    scheduled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # The agent batch that brought the result (``ingest_batches.batch_id``); None for results stored directly.
    batch_id: Mapped[str | None] = mapped_column(sa.String(100))

    run: Mapped[PatrolRun | None] = relationship(back_populates="results")

    __table_args__ = (
        # The history of one item (events, trends) is looked up by this key, newest first.
        sa.Index(None, "target", "check", "item", "started_at"),
        # attach_results(): the results of one scheduled firing of a playbook.
        sa.Index(None, "playbook", "scheduled_at"),
        # Reports: the results of a stretch of time shorter than the daily rollup's days.
        sa.Index(None, "started_at"),
    )


class LatestResult(Base):
    """The newest result of every (target, check, item): what ``/metrics`` and status views read.

    One row per series group, updated in the same transaction as the history row it copies
    (``result_id``). An older result arriving late never replaces a newer one. ``result_id`` is not a
    foreign key on purpose: pruning history must not remove an item's current state.
    """

    __tablename__ = "latest_results"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    target: Mapped[str] = mapped_column(sa.String(255))
    check: Mapped[str] = mapped_column(sa.String(100))
    item: Mapped[str] = mapped_column(sa.String(500))
    status: Mapped[str] = mapped_column(sa.String(16))
    summary: Mapped[str] = mapped_column(sa.String(2000))
    collected: Mapped[bool] = mapped_column(sa.Boolean)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    duration_seconds: Mapped[float] = mapped_column(sa.Float)
    metrics: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON)
    result_id: Mapped[int] = mapped_column(BigId)

    __table_args__ = (sa.UniqueConstraint("target", "check", "item"),)


class DailyResult(Base):
    """The last result of every (target, check, item) on each UTC day: the store's daily rollup.

    Trends and capacity forecasts read one point per item per day over weeks; picking each day's last
    result out of ``results`` took window functions and JSON decoding over every row at report time
    (seconds for a month of a large site). Kept in the same transaction as the history rows, like
    ``latest_results``: a later result of the same day replaces the row, an older one arriving late
    never does. ``used_percent`` is the result's metric ``used`` when its unit is "%" (file systems,
    tablespaces, ...), the figure capacity forecasts follow.
    """

    __tablename__ = "daily_results"

    # The key starts with the day: reports read a period's days. On SQLite the table is stored in key
    # order (WITHOUT ROWID), so a month is one sequential range, not a lookup per row through an index.
    day: Mapped[dt.date] = mapped_column(sa.Date, primary_key=True)
    target: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    check: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    item: Mapped[str] = mapped_column(sa.String(500), primary_key=True)
    status: Mapped[str] = mapped_column(sa.String(16))
    # The result's started_at as Unix seconds: fits over a month of points do arithmetic on it, and
    # SQLite would parse a timestamp text for every row (half the time of the capacity query).
    started_epoch: Mapped[float] = mapped_column(sa.Float)
    used_percent: Mapped[float | None] = mapped_column(sa.Float)
    result_id: Mapped[int] = mapped_column(BigId)

    __table_args__ = (
        # Capacity fits: each item's days in a row, read from the index alone (it holds every column
        # they use), so the per-item sums need no sort of a month of rows.
        sa.Index("ix_daily_results_capacity", "check", "target", "item", "day", "started_epoch", "used_percent"),
        {"sqlite_with_rowid": False},
    )


class Agent(Base):
    """An agent the collector has heard from: when, how often it should report, how much it sent."""

    __tablename__ = "agents"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(255), unique=True)
    first_seen: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    last_seen: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())  # last batch received; None: none yet
    expected_interval_seconds: Mapped[float | None] = mapped_column(sa.Float)  # from its plan
    results_received: Mapped[int] = mapped_column(sa.BigInteger, default=0)


class ApiToken(Base):
    """A bearer token of the HTTP API. Only the SHA-256 hex digest of the token is kept, never the token."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(16))  # agent, metrics, viewer or operator
    name: Mapped[str] = mapped_column(sa.String(255))  # the agent's inventory name, or a free label
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (sa.CheckConstraint("kind IN ('agent', 'metrics', 'viewer', 'operator')", name="kind"),)


class IngestBatch(Base):
    """A batch an agent pushed and the collector stored: its primary key makes ingest exactly-once."""

    __tablename__ = "ingest_batches"

    batch_id: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    agent: Mapped[str] = mapped_column(sa.String(255))
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    result_count: Mapped[int] = mapped_column(sa.Integer)


# -- events (collector/events): the event engine's records -------------------------------------------

# Open events: at most one per fingerprint. Partial unique index on both backends.
_OPEN_EVENT = sa.text("state IN ('firing', 'acknowledged')")


class EventRow(Base):
    """An event: one problem of one (target, check, item), from its opening to its closing.

    ``fingerprint_hash`` (blake2b-128 of target, check and item) is the short lookup key; times of changes
    are the engine's clock, ``first_seen``/``last_seen`` the results' times. See docs/events.md.
    """

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    fingerprint_hash: Mapped[str] = mapped_column(sa.String(32))
    target: Mapped[str] = mapped_column(sa.String(255))
    check: Mapped[str] = mapped_column(sa.String(100))
    item: Mapped[str] = mapped_column(sa.String(500))
    kind: Mapped[str] = mapped_column(sa.String(16))  # problem | unknown | nodata
    severity: Mapped[str] = mapped_column(sa.String(16))  # WARNING | CRITICAL | UNKNOWN | NODATA
    state: Mapped[str] = mapped_column(sa.String(16))  # firing | acknowledged | resolved | closed
    first_seen: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    last_seen: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    count: Mapped[int] = mapped_column(sa.BigInteger)
    opened_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    last_summary: Mapped[str] = mapped_column(sa.String(2000))
    flapping: Mapped[bool] = mapped_column(sa.Boolean)
    suppressed: Mapped[bool] = mapped_column(sa.Boolean)
    in_maintenance: Mapped[bool] = mapped_column(sa.Boolean)
    down: Mapped[bool] = mapped_column(sa.Boolean)  # says its target is down (for dependants)
    down_from: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())  # first said its target was down
    down_to: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())  # last stopped saying so (None: down)
    notified: Mapped[bool] = mapped_column(sa.Boolean)  # receivers were told it is open, not yet its end
    first_notified_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    acknowledged_by: Mapped[str | None] = mapped_column(sa.String(255))
    ack_expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    first_acknowledged_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    resolved_by: Mapped[str | None] = mapped_column(sa.String(255))
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    escalation_level: Mapped[int] = mapped_column(sa.Integer)
    next_escalation_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        sa.CheckConstraint("state IN ('firing', 'acknowledged', 'resolved', 'closed')", name="state"),
        sa.CheckConstraint("kind IN ('problem', 'unknown', 'nodata')", name="kind"),
        sa.Index("uq_events_open_fingerprint_hash", "fingerprint_hash", unique=True,
                 sqlite_where=_OPEN_EVENT, postgresql_where=_OPEN_EVENT),
        sa.Index(None, "fingerprint_hash", "id"),  # the newest events of a fingerprint
        sa.Index(None, "state", "id"),  # live events, events to close, lists by state
        sa.Index(None, "target", "state"),  # a target's open events (dependencies, lists by target)
        sa.Index(None, "opened_at"),  # KPIs and lists by period
    )


class EventTrackRow(Base):
    """The noise-control state of one fingerprint: bad and OK streaks, the flap window (20 bits).

    Only fingerprints not at rest have a row: the steady OK majority of results writes nothing.
    """

    __tablename__ = "event_tracks"

    fingerprint_hash: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    target: Mapped[str] = mapped_column(sa.String(255))
    check: Mapped[str] = mapped_column(sa.String(100))
    item: Mapped[str] = mapped_column(sa.String(500))
    status: Mapped[str] = mapped_column(sa.String(16))
    bad_streak: Mapped[int] = mapped_column(sa.Integer)
    ok_streak: Mapped[int] = mapped_column(sa.Integer)
    streak_started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    streak_worst: Mapped[str | None] = mapped_column(sa.String(16))
    flap_bits: Mapped[int] = mapped_column(sa.Integer)
    flapping: Mapped[bool] = mapped_column(sa.Boolean)
    last_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class EventHistoryRow(Base):
    """One change of an event: what (``kind``), from and to which state, who (None: Patrol) and when."""

    __tablename__ = "event_history"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    event_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("events.id", ondelete="CASCADE"))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    kind: Mapped[str] = mapped_column(sa.String(32))
    from_state: Mapped[str | None] = mapped_column(sa.String(16))
    to_state: Mapped[str] = mapped_column(sa.String(16))
    actor: Mapped[str | None] = mapped_column(sa.String(255))
    comment: Mapped[str | None] = mapped_column(sa.String(2000))
    detail: Mapped[str | None] = mapped_column(sa.String(200))

    __table_args__ = (sa.Index(None, "event_id", "id"), sa.Index(None, "at"))


class EventCommentRow(Base):
    __tablename__ = "event_comments"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    event_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("events.id", ondelete="CASCADE"))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    author: Mapped[str] = mapped_column(sa.String(255))
    text: Mapped[str] = mapped_column(sa.String(2000))

    __table_args__ = (sa.Index(None, "event_id", "id"),)


class MaintenanceWindowRow(Base):
    """A maintenance window: one-off (starts_at, ends_at), cron (cron, duration) or weekly (weekdays,
    start_time, duration), in ``timezone``; recurring ones optionally bounded by starts_at / ends_at."""

    __tablename__ = "maintenance_windows"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    pattern: Mapped[str] = mapped_column(sa.String(1000))  # Ansible host pattern
    check: Mapped[str | None] = mapped_column(sa.String(100))  # None: every check
    kind: Mapped[str] = mapped_column(sa.String(16))
    starts_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    ends_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    cron: Mapped[str | None] = mapped_column(sa.String(200))
    weekdays: Mapped[str | None] = mapped_column(sa.String(40))  # "mon,wed,sun"
    start_time: Mapped[str | None] = mapped_column(sa.String(8))  # "03:00"
    duration_seconds: Mapped[float | None] = mapped_column(sa.Float)
    timezone: Mapped[str] = mapped_column(sa.String(64))
    created_by: Mapped[str] = mapped_column(sa.String(255))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())

    __table_args__ = (sa.CheckConstraint("kind IN ('once', 'cron', 'weekly')", name="kind"),)


class EventFeedRow(Base):
    """How far the event engine has read a feed: ``results`` is the id of the last result evaluated.

    Moved in the same transaction as the changes those results caused (exactly-once evaluation)."""

    __tablename__ = "event_feeds"

    name: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    position: Mapped[int] = mapped_column(sa.BigInteger)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class EventOutboxRow(Base):
    """A notice waiting for the notifier, written with the change that produced it.

    A replica claims it for a while (``claimed_by``, ``claimed_until``, renewed while it works) and
    deletes it once every channel is done with it; a claim that runs out (the replica died) lets
    another replica take the notice."""

    __tablename__ = "event_outbox"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    notice: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    claimed_by: Mapped[str | None] = mapped_column(sa.String(200))
    claimed_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


# -- web console (collector/web): people, their sessions, and patrols asked for by hand --------------

ROLES = ("viewer", "operator", "admin")


class UserRow(Base):
    """A person who signs in to the web console. The password is kept only as an Argon2id hash."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(64), unique=True)
    role: Mapped[str] = mapped_column(sa.String(16))
    language: Mapped[str] = mapped_column(sa.String(8), default="en")
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    password_changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    failed_logins: Mapped[int] = mapped_column(default=0)  # in a row; reset by a good login
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    last_login_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        sa.CheckConstraint("role IN ('viewer', 'operator', 'admin')", name="role"),
        sa.CheckConstraint("language IN ('en', 'zh')", name="language"),
    )


class ConsoleSessionRow(Base):
    """A signed-in browser. The cookie carries a random token; only its SHA-256 digest is kept, so a copy
    of the database opens no session."""

    __tablename__ = "console_sessions"

    token_hash: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(sa.String(64))  # echoed by every form of this session
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class RunRequestRow(Base):
    """A patrol someone asked to run now (console "run now"): the scheduler takes it and runs it, whatever
    HTTP worker process took the request."""

    __tablename__ = "run_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    playbook: Mapped[str] = mapped_column(sa.String(255))
    requested_by: Mapped[str] = mapped_column(sa.String(255))
    requested_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    taken_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    run_id: Mapped[int | None] = mapped_column(sa.Integer)
    error: Mapped[str | None] = mapped_column(sa.Text)


# -- scale-out: several collector replicas on one PostgreSQL -------------------------------------------


class LeaseRow(Base):
    """A job only one replica may do at a time (``scheduler``: fire schedules and close runs), held
    by ``holder`` until ``expires_at`` and renewed well before; a dead holder's lease runs out."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    holder: Mapped[str] = mapped_column(sa.String(200))
    acquired_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


POLL_STATES = ("pending", "running", "done")


class PollTaskRow(Base):
    """The checks of one target in one run that the collector itself runs (hosts without an agent).

    Any replica takes pending tasks (``FOR UPDATE SKIP LOCKED``) and holds them with a lease it renews
    while it works; a task whose lease ran out (its replica died) is taken again by another."""

    __tablename__ = "poll_tasks"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    run_id: Mapped[int] = mapped_column(sa.ForeignKey("patrol_runs.id", ondelete="CASCADE"), index=True)
    playbook: Mapped[str] = mapped_column(sa.String(255))
    target: Mapped[str] = mapped_column(sa.String(255))
    scheduled_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())  # the run's firing, stamped on results
    state: Mapped[str] = mapped_column(sa.String(16))
    holder: Mapped[str | None] = mapped_column(sa.String(200))
    lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(default=0)  # times taken: above the limit, its checks are UNKNOWN
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        sa.CheckConstraint("state IN ('pending', 'running', 'done')", name="state"),
        sa.Index(None, "state", "id"),  # the takers' query: the oldest pending or expired tasks
    )
