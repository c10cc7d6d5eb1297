"""Events: the event engine's events, their history and comments, noise-control tracks, maintenance windows.

- events: one row per event; at most one open (firing or acknowledged) per fingerprint, enforced by a
  partial unique index on ``fingerprint_hash`` (SQLite and PostgreSQL both have partial indexes).
- event_tracks: streaks and the flap window of fingerprints that are not at rest.
- event_history, event_comments: every change with who and when; comments.
- maintenance_windows: one-off, cron and weekly windows.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Union

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: Union[str, Sequence[str], None] = "0002"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Time = sa.DateTime(timezone=True)
OPEN_EVENT = "state IN ('firing', 'acknowledged')"


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("id", BigId, nullable=False),
        sa.Column("fingerprint_hash", sa.String(32), nullable=False),
        sa.Column("target", sa.String(255), nullable=False),
        sa.Column("check", sa.String(100), nullable=False),
        sa.Column("item", sa.String(500), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("first_seen", Time, nullable=False),
        sa.Column("last_seen", Time, nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.Column("opened_at", Time, nullable=False),
        sa.Column("last_summary", sa.String(2000), nullable=False),
        sa.Column("flapping", sa.Boolean(), nullable=False),
        sa.Column("suppressed", sa.Boolean(), nullable=False),
        sa.Column("in_maintenance", sa.Boolean(), nullable=False),
        sa.Column("down", sa.Boolean(), nullable=False),
        sa.Column("notified", sa.Boolean(), nullable=False),
        sa.Column("first_notified_at", Time, nullable=True),
        sa.Column("acknowledged_at", Time, nullable=True),
        sa.Column("acknowledged_by", sa.String(255), nullable=True),
        sa.Column("ack_expires_at", Time, nullable=True),
        sa.Column("first_acknowledged_at", Time, nullable=True),
        sa.Column("resolved_at", Time, nullable=True),
        sa.Column("resolved_by", sa.String(255), nullable=True),
        sa.Column("closed_at", Time, nullable=True),
        sa.Column("escalation_level", sa.Integer(), nullable=False),
        sa.Column("next_escalation_at", Time, nullable=True),
        sa.CheckConstraint("kind IN ('problem', 'unknown', 'nodata')", name="ck_events_kind"),
        sa.CheckConstraint("state IN ('firing', 'acknowledged', 'resolved', 'closed')", name="ck_events_state"),
        sa.PrimaryKeyConstraint("id", name="pk_events"),
    )
    op.create_index("ix_events_fingerprint_hash_id", "events", ["fingerprint_hash", "id"])
    op.create_index("ix_events_opened_at", "events", ["opened_at"])
    op.create_index("ix_events_state_id", "events", ["state", "id"])
    op.create_index("ix_events_target_state", "events", ["target", "state"])
    op.create_index(
        "uq_events_open_fingerprint_hash", "events", ["fingerprint_hash"], unique=True,
        sqlite_where=sa.text(OPEN_EVENT), postgresql_where=sa.text(OPEN_EVENT),
    )
    op.create_table(
        "event_tracks",
        sa.Column("fingerprint_hash", sa.String(32), nullable=False),
        sa.Column("target", sa.String(255), nullable=False),
        sa.Column("check", sa.String(100), nullable=False),
        sa.Column("item", sa.String(500), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("bad_streak", sa.Integer(), nullable=False),
        sa.Column("ok_streak", sa.Integer(), nullable=False),
        sa.Column("streak_started_at", Time, nullable=True),
        sa.Column("streak_worst", sa.String(16), nullable=True),
        sa.Column("flap_bits", sa.Integer(), nullable=False),
        sa.Column("flapping", sa.Boolean(), nullable=False),
        sa.Column("last_at", Time, nullable=True),
        sa.PrimaryKeyConstraint("fingerprint_hash", name="pk_event_tracks"),
    )
    op.create_table(
        "event_history",
        sa.Column("id", BigId, nullable=False),
        sa.Column("event_id", BigId, nullable=False),
        sa.Column("at", Time, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("from_state", sa.String(16), nullable=True),
        sa.Column("to_state", sa.String(16), nullable=False),
        sa.Column("actor", sa.String(255), nullable=True),
        sa.Column("comment", sa.String(2000), nullable=True),
        sa.Column("detail", sa.String(200), nullable=True),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name="fk_event_history_event_id_events", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_event_history"),
    )
    op.create_index("ix_event_history_event_id_id", "event_history", ["event_id", "id"])
    op.create_index("ix_event_history_at", "event_history", ["at"])
    op.create_table(
        "event_comments",
        sa.Column("id", BigId, nullable=False),
        sa.Column("event_id", BigId, nullable=False),
        sa.Column("at", Time, nullable=False),
        sa.Column("author", sa.String(255), nullable=False),
        sa.Column("text", sa.String(2000), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name="fk_event_comments_event_id_events", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_event_comments"),
    )
    op.create_index("ix_event_comments_event_id_id", "event_comments", ["event_id", "id"])
    op.create_table(
        "maintenance_windows",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("pattern", sa.String(1000), nullable=False),
        sa.Column("check", sa.String(100), nullable=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("starts_at", Time, nullable=True),
        sa.Column("ends_at", Time, nullable=True),
        sa.Column("cron", sa.String(200), nullable=True),
        sa.Column("weekdays", sa.String(40), nullable=True),
        sa.Column("start_time", sa.String(8), nullable=True),
        sa.Column("duration_seconds", sa.Float(), nullable=True),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("created_by", sa.String(255), nullable=False),
        sa.Column("created_at", Time, nullable=False),
        sa.CheckConstraint("kind IN ('once', 'cron', 'weekly')", name="ck_maintenance_windows_kind"),
        sa.PrimaryKeyConstraint("id", name="pk_maintenance_windows"),
    )


def downgrade() -> None:
    op.drop_table("maintenance_windows")
    op.drop_index("ix_event_comments_event_id_id", table_name="event_comments")
    op.drop_table("event_comments")
    op.drop_index("ix_event_history_at", table_name="event_history")
    op.drop_index("ix_event_history_event_id_id", table_name="event_history")
    op.drop_table("event_history")
    op.drop_table("event_tracks")
    op.drop_index("uq_events_open_fingerprint_hash", table_name="events")
    op.drop_index("ix_events_target_state", table_name="events")
    op.drop_index("ix_events_state_id", table_name="events")
    op.drop_index("ix_events_opened_at", table_name="events")
    op.drop_index("ix_events_fingerprint_hash_id", table_name="events")
    op.drop_table("events")
