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


# PostgreSQL advisory lock key held while migrating: collector replicas starting together migrate one
# after the other (the later ones find the schema current) instead of racing to create the same tables.
MIGRATION_LOCK_KEY = 0x7061_7472_6F6C  # "patrol"


def upgrade(connection: Connection, revision: str = "head") -> None:
    """Migrate the database behind ``connection`` to ``revision``; commits on success."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_KEY})")
    command.upgrade(alembic_config(connection), revision)
