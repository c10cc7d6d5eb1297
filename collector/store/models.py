"""The store's tables, as SQLAlchemy 2 typed declarative models.

Portable on purpose: the same models run on SQLite (the embedded default) and PostgreSQL, so only
generic types are used, JSON goes through ``sqlalchemy.JSON`` and times are stored as UTC.
Any change here needs a migration in ``migrations/versions``; a unit test compares the two.
"""

from __future__ import annotations

import datetime as dt
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

    results: Mapped[list[ResultRow]] = relationship(
        back_populates="run", cascade="all, delete-orphan", passive_deletes=True
    )

    __table_args__ = (sa.Index(None, "playbook", "id"),)  # previous_run(): same playbook, smaller id


class ResultRow(Base):
    """One stored ``checks.result.Result``; its metrics are rows of ``result_metrics``."""

    __tablename__ = "results"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # Nullable: results an agent pushes outside any patrol run belong to no run.
    run_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("patrol_runs.id", ondelete="CASCADE"), index=True
    )
    target: Mapped[str] = mapped_column(sa.String(255))
    check: Mapped[str] = mapped_column(sa.String(100))
    item: Mapped[str] = mapped_column(sa.String(500), default="")
    status: Mapped[str] = mapped_column(sa.String(16))
    summary: Mapped[str] = mapped_column(sa.String(2000))
    thresholds: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON, default=list)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    duration_seconds: Mapped[float] = mapped_column(sa.Float)
    collected: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    run: Mapped[PatrolRun | None] = relationship(back_populates="results")
    metrics: Mapped[list[MetricRow]] = relationship(
        back_populates="result", cascade="all, delete-orphan", passive_deletes=True, order_by="MetricRow.id"
    )

    # The history of one item (events, trends) is looked up by this key, newest first.
    __table_args__ = (sa.Index(None, "target", "check", "item", "started_at"),)


class MetricRow(Base):
    """One measured figure of a result; its own table so metric history can be charted and forecast."""

    __tablename__ = "result_metrics"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    result_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("results.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(sa.String(100))
    value: Mapped[float] = mapped_column(sa.Float)
    unit: Mapped[str] = mapped_column(sa.String(8), default="")
    labels: Mapped[dict[str, str]] = mapped_column(sa.JSON, default=dict)

    result: Mapped[ResultRow] = relationship(back_populates="metrics")

    __table_args__ = (sa.Index(None, "name", "result_id"),)
