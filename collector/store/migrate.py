"""Schema migrations, run in process: ``Store.open`` brings every database to the latest revision.

The Alembic configuration is built in code, so an installed package needs no alembic.ini and the
migrations run on whatever connection the store opened (SQLite or PostgreSQL alike).
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade(connection: Connection, revision: str = "head") -> None:
    """Migrate the database behind ``connection`` to ``revision``; commits on success."""
    command.upgrade(alembic_config(connection), revision)
