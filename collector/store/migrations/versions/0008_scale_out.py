"""Scale-out: leases, poll tasks, runs the collector closes itself, and claimed notices.

Several ``patrol serve`` replicas share one PostgreSQL. ``leases`` names the replica that fires the
schedules (taken over when it dies); ``poll_tasks`` shares the poller's work out (one row per target
of a run, taken with ``FOR UPDATE SKIP LOCKED``); ``patrol_runs.firing`` makes a scheduled firing's
run unique and ``close_after``/``collect_agents`` let any replica close it; the outbox's notices are
claimed for a while instead of deleted when taken, so a dead replica's notices are sent by another.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Union

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: Union[str, Sequence[str], None] = "0007"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

Time = sa.DateTime(timezone=True)
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "leases",
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("holder", sa.String(200), nullable=False),
        sa.Column("acquired_at", Time, nullable=False),
        sa.Column("expires_at", Time, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_leases"),
    )
    op.create_table(
        "poll_tasks",
        sa.Column("id", BigId, nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("playbook", sa.String(255), nullable=False),
        sa.Column("target", sa.String(255), nullable=False),
        sa.Column("scheduled_at", Time, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("holder", sa.String(200), nullable=True),
        sa.Column("lease_until", Time, nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", Time, nullable=False),
        sa.Column("finished_at", Time, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_poll_tasks"),
        sa.ForeignKeyConstraint(["run_id"], ["patrol_runs.id"], name="fk_poll_tasks_run_id_patrol_runs",
                                ondelete="CASCADE"),
        sa.CheckConstraint("state IN ('pending', 'running', 'done')", name="ck_poll_tasks_state"),
    )
    op.create_index("ix_poll_tasks_run_id", "poll_tasks", ["run_id"])
    op.create_index("ix_poll_tasks_state_id", "poll_tasks", ["state", "id"])
    # Plain ADD COLUMN, never a batch copy: on SQLite, dropping the old patrol_runs table would cascade
    # to every result.
    op.add_column("patrol_runs", sa.Column("firing", sa.String(300), nullable=True))
    op.add_column("patrol_runs", sa.Column("close_after", Time, nullable=True))
    op.add_column("patrol_runs", sa.Column("collect_agents", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_index("uq_patrol_runs_firing", "patrol_runs", ["firing"], unique=True)
    op.add_column("event_outbox", sa.Column("claimed_by", sa.String(200), nullable=True))
    op.add_column("event_outbox", sa.Column("claimed_until", Time, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("event_outbox") as batch:
        batch.drop_column("claimed_until")
        batch.drop_column("claimed_by")
    op.drop_index("uq_patrol_runs_firing", table_name="patrol_runs")
    for column in ("collect_agents", "close_after", "firing"):
        op.drop_column("patrol_runs", column)
    op.drop_index("ix_poll_tasks_state_id", table_name="poll_tasks")
    op.drop_index("ix_poll_tasks_run_id", table_name="poll_tasks")
    op.drop_table("poll_tasks")
    op.drop_table("leases")
