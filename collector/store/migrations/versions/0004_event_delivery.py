"""Event feed and notice outbox: results evaluated exactly once, notices handed over durably.

- event_feeds: how far the event engine has read a feed (``results``: the id of the last result it
  evaluated). The position moves in the same transaction as the changes the results caused, so a crash
  neither skips results nor evaluates one twice.
- event_outbox: notices the engine (or an operator's acknowledgement from the CLI or any HTTP worker)
  produced, written in the same transaction as the change. The collector's notifier takes them out
  (deleting them) and hands them to the channels.
- api_tokens: two more kinds, ``viewer`` (reads events and maintenance windows) and ``operator`` (also
  acknowledges, resolves, comments and manages maintenance windows).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Union

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: Union[str, Sequence[str], None] = "0003"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
KINDS_BEFORE = "kind IN ('agent', 'metrics')"
KINDS_AFTER = "kind IN ('agent', 'metrics', 'viewer', 'operator')"


def _token_kinds(old: str, new: str) -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        # Found by its text: 0002 created it with the naming convention applied to an already full name.
        for check in sa.inspect(bind).get_check_constraints("api_tokens"):
            if "kind" in check["sqltext"]:
                op.drop_constraint(op.f(check["name"]), "api_tokens", type_="check")
        op.create_check_constraint(op.f("ck_api_tokens_kind"), "api_tokens", new)
        return
    # SQLite cannot alter a constraint: batch mode rebuilds the table, from this definition (CHECK
    # constraints are not reflected).
    api_tokens = sa.Table(
        "api_tokens",
        sa.MetaData(),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(old, name="ck_api_tokens_kind"),
        sa.PrimaryKeyConstraint("id", name="pk_api_tokens"),
        sa.UniqueConstraint("token_hash", name="uq_api_tokens_token_hash"),
    )
    with op.batch_alter_table("api_tokens", copy_from=api_tokens) as batch:
        batch.drop_constraint(op.f("ck_api_tokens_kind"), type_="check")
        batch.create_check_constraint(op.f("ck_api_tokens_kind"), new)


def upgrade() -> None:
    op.create_table(
        "event_feeds",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_event_feeds")),
    )
    op.create_table(
        "event_outbox",
        sa.Column("id", BigId, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("notice", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_outbox")),
    )
    _token_kinds(KINDS_BEFORE, KINDS_AFTER)


def downgrade() -> None:
    op.execute("DELETE FROM api_tokens WHERE kind IN ('viewer', 'operator')")
    _token_kinds(KINDS_AFTER, KINDS_BEFORE)
    op.drop_table("event_outbox")
    op.drop_table("event_feeds")
