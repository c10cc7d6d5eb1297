"""Events keep when they said their target was down, for availability in reports.

``events.down`` says whether an open event says its target is down now (for dependants) and is
cleared when the event resolves; ``down_from`` and ``down_to`` keep the span it said so (the first
time it went down, the last time it stopped), so a report can tell each target's downtime in a period
after the events are long resolved.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Union

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: Union[str, Sequence[str], None] = "0004"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

Time = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.add_column(sa.Column("down_from", Time, nullable=True))
        batch.add_column(sa.Column("down_to", Time, nullable=True))
    # Events down now: their span started at least when their bad streak did.
    op.execute("UPDATE events SET down_from = first_seen WHERE down")


def downgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.drop_column("down_to")
        batch.drop_column("down_from")
