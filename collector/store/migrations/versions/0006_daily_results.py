"""The daily rollup: the last result of every item on each UTC day, for trends and capacity forecasts.

``daily_results`` holds one row per (target, check, item, UTC day): that day's last result's status,
start (Unix seconds) and used % (its metric ``used`` in %). The store keeps it with every ingest; this migration fills
it from the history already stored, so reports over past weeks need no re-ingest. ``results`` gets an
index on ``started_at``: the part of a period the rollup's whole days do not cover is read from there.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Union

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: Union[str, Sequence[str], None] = "0005"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "daily_results",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("target", sa.String(255), nullable=False),
        sa.Column("check", sa.String(100), nullable=False),
        sa.Column("item", sa.String(500), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("started_epoch", sa.Float(), nullable=False),
        sa.Column("used_percent", sa.Float(), nullable=True),
        sa.Column("result_id", BigId, nullable=False),
        sa.PrimaryKeyConstraint("day", "target", "check", "item", name="pk_daily_results"),
        sqlite_with_rowid=False,  # stored in key order: a period's days are one range
    )
    _fill_daily_results()
    op.create_index(
        "ix_daily_results_capacity", "daily_results",
        ["check", "target", "item", "day", "started_epoch", "used_percent"],
    )
    op.create_index("ix_results_started_at", "results", ["started_at"])


def _fill_daily_results() -> None:
    """Each item's last result of each UTC day, the used % read out of its metrics JSON by the database."""
    if op.get_bind().dialect.name == "sqlite":
        day = "date(started_at)"
        epoch = "(julianday(started_at) - 2440587.5) * 86400.0"
        used = ("(SELECT json_extract(m.value, '$.value') FROM json_each(ranked.metrics) AS m "
                "WHERE json_extract(m.value, '$.name') = 'used' AND json_extract(m.value, '$.unit') = '%' LIMIT 1)")
    else:
        day = "CAST(started_at AT TIME ZONE 'UTC' AS date)"
        epoch = "extract(epoch FROM started_at)"
        used = ("(SELECT (m->>'value')::float8 FROM json_array_elements(ranked.metrics) AS m "
                "WHERE m->>'name' = 'used' AND m->>'unit' = '%' LIMIT 1)")
    op.execute(f"""
        INSERT INTO daily_results (target, "check", item, day, status, started_epoch, used_percent, result_id)
        SELECT target, "check", item, day, status, {epoch}, {used}, id FROM (
            SELECT id, target, "check", item, {day} AS day, status, started_at, metrics,
                   row_number() OVER (PARTITION BY target, "check", item, {day}
                                      ORDER BY started_at DESC, id DESC) AS newest
            FROM results
        ) AS ranked
        WHERE newest = 1
    """)


def downgrade() -> None:
    op.drop_index("ix_results_started_at", table_name="results")
    op.drop_table("daily_results")
