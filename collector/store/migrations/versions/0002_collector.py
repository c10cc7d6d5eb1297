"""The collector service: agents push results exactly once, tokens guard the API, the newest result per item.

- results: ``metrics`` becomes a JSON list on the result row (the rows of ``result_metrics`` are moved into
  it, then that table is dropped); new ``playbook``, ``scheduled_at`` (the scheduled firing a result belongs
  to, indexed together) and ``batch_id`` (the agent batch that brought it).
- latest_results: new, filled with the newest stored result of every (target, check, item).
- agents, api_tokens, ingest_batches: new.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from itertools import groupby
from typing import Union

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: Union[str, Sequence[str], None] = "0001"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

# Plain table stubs for the data migration (never the live models: they change after this revision).
_results = sa.table("results", sa.column("id", sa.BigInteger()), sa.column("metrics", sa.JSON()))
_result_metrics = sa.table(
    "result_metrics",
    sa.column("id", sa.BigInteger()),
    sa.column("result_id", sa.BigInteger()),
    sa.column("name", sa.String()),
    sa.column("value", sa.Float()),
    sa.column("unit", sa.String()),
    sa.column("labels", sa.JSON()),
)


def upgrade() -> None:
    # ADD COLUMN with a constant default: no table copy on SQLite, no rewrite on PostgreSQL.
    op.add_column("results", sa.Column("metrics", sa.JSON(), server_default=sa.text("'[]'"), nullable=False))
    op.add_column("results", sa.Column("playbook", sa.String(200), nullable=True))
    op.add_column("results", sa.Column("scheduled_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("results", sa.Column("batch_id", sa.String(100), nullable=True))
    op.create_index("ix_results_playbook_scheduled_at", "results", ["playbook", "scheduled_at"])
    _move_metrics_into_results()
    op.drop_index("ix_result_metrics_name_result_id", table_name="result_metrics")
    op.drop_table("result_metrics")

    op.create_table(
        "latest_results",
        sa.Column("id", BigId, nullable=False),
        sa.Column("target", sa.String(255), nullable=False),
        sa.Column("check", sa.String(100), nullable=False),
        sa.Column("item", sa.String(500), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("summary", sa.String(2000), nullable=False),
        sa.Column("collected", sa.Boolean(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("duration_seconds", sa.Float(), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("result_id", BigId, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_latest_results"),
        sa.UniqueConstraint("target", "check", "item", name="uq_latest_results_target_check_item"),
    )
    _fill_latest_results()
    op.create_table(
        "agents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expected_interval_seconds", sa.Float(), nullable=True),
        sa.Column("results_received", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_agents"),
        sa.UniqueConstraint("name", name="uq_agents_name"),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("kind IN ('agent', 'metrics')", name="ck_api_tokens_kind"),
        sa.PrimaryKeyConstraint("id", name="pk_api_tokens"),
        sa.UniqueConstraint("token_hash", name="uq_api_tokens_token_hash"),
    )
    op.create_table(
        "ingest_batches",
        sa.Column("batch_id", sa.String(100), nullable=False),
        sa.Column("agent", sa.String(255), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("result_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("batch_id", name="pk_ingest_batches"),
    )


def _move_metrics_into_results(chunk: int = 10_000) -> None:
    """Each result's metric rows, in their stored order, become its ``metrics`` JSON list."""
    connection = op.get_bind()
    update = (
        sa.update(_results)
        .where(_results.c.id == sa.bindparam("result_id"))
        .values(metrics=sa.bindparam("metrics", type_=sa.JSON()))
    )
    last_id = 0
    while True:
        # Whole results per chunk: the metric rows of the next `chunk` result ids.
        ids = connection.execute(
            sa.select(_result_metrics.c.result_id)
            .where(_result_metrics.c.result_id > last_id)
            .group_by(_result_metrics.c.result_id)
            .order_by(_result_metrics.c.result_id)
            .limit(chunk)
        ).scalars().all()
        if not ids:
            return
        rows = connection.execute(
            sa.select(
                _result_metrics.c.result_id,
                _result_metrics.c.name,
                _result_metrics.c.value,
                _result_metrics.c.unit,
                _result_metrics.c.labels,
            )
            .where(_result_metrics.c.result_id.between(ids[0], ids[-1]))
            .order_by(_result_metrics.c.result_id, _result_metrics.c.id)
        ).all()
        connection.execute(
            update,
            [
                {
                    "result_id": result_id,
                    "metrics": [
                        {"name": r.name, "value": r.value, "unit": r.unit, "labels": _labels(r.labels)}
                        for r in group
                    ],
                }
                for result_id, group in groupby(rows, key=lambda r: r.result_id)
            ],
        )
        last_id = ids[-1]


def _fill_latest_results() -> None:
    """The newest stored result of every item, so /metrics has figures before the next result arrives."""
    columns = ["target", "check", "item", "status", "summary", "collected", "started_at", "duration_seconds",
               "metrics"]
    results = sa.table("results", sa.column("id"), *(sa.column(name) for name in columns))
    newest_first = sa.func.row_number().over(
        partition_by=(results.c.target, results.c.check, results.c.item),
        order_by=(results.c.started_at.desc(), results.c.id.desc()),
    )
    ranked = sa.select(*results.c, newest_first.label("rank")).subquery()
    latest = sa.table("latest_results", *(sa.column(name) for name in [*columns, "result_id"]))
    op.get_bind().execute(
        sa.insert(latest).from_select(
            [*columns, "result_id"],
            sa.select(*(ranked.c[name] for name in columns), ranked.c.id).where(ranked.c.rank == 1),
        )
    )


def _labels(value: object) -> dict:
    return json.loads(value) if isinstance(value, str) else dict(value or {})


def downgrade() -> None:
    op.drop_table("ingest_batches")
    op.drop_table("api_tokens")
    op.drop_table("agents")
    op.drop_table("latest_results")
    connection = op.get_bind()
    metric_rows = [
        {"result_id": result_id, "name": m["name"], "value": m["value"], "unit": m["unit"], "labels": m["labels"]}
        for result_id, metrics in connection.execute(
            sa.select(_results.c.id, _results.c.metrics).order_by(_results.c.id)
        )
        for m in (json.loads(metrics) if isinstance(metrics, str) else metrics or [])
    ]
    op.drop_index("ix_results_playbook_scheduled_at", table_name="results")
    # Before result_metrics exists again: on SQLite this copies `results`, and dropping the old copy would
    # cascade to the metric rows that reference it.
    with op.batch_alter_table("results") as batch:
        batch.drop_column("batch_id")
        batch.drop_column("scheduled_at")
        batch.drop_column("playbook")
        batch.drop_column("metrics")
    op.create_table(
        "result_metrics",
        sa.Column("id", BigId, nullable=False),
        sa.Column("result_id", BigId, nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("unit", sa.String(8), nullable=False),
        sa.Column("labels", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["result_id"], ["results.id"], name="fk_result_metrics_result_id_results", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_result_metrics"),
    )
    op.create_index("ix_result_metrics_name_result_id", "result_metrics", ["name", "result_id"])
    if metric_rows:
        connection.execute(sa.insert(_result_metrics), metric_rows)
