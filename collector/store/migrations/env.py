"""Alembic environment for the Patrol store.

``Store.open`` runs migrations in process and hands over its connection in
``config.attributes["connection"]``, so no alembic.ini is needed at run time. For hand-made
revisions, run alembic with ``-x url=sqlite:///var/patrol.db`` (see ``migrate.alembic_config``).
"""

from __future__ import annotations

from alembic import context

from collector.store.engine import create_engine
from collector.store.models import Base

config = context.config
target_metadata = Base.metadata

# render_as_batch: SQLite cannot ALTER most things; batch mode copies the table instead.
OPTIONS = dict(target_metadata=target_metadata, render_as_batch=True, compare_type=True)


def _url() -> str:
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option("sqlalchemy.url")
    if not url:
        raise SystemExit("no database URL: pass -x url=... (or set sqlalchemy.url)")
    return url


def run_offline() -> None:
    context.configure(url=_url(), literal_binds=True, dialect_opts={"paramstyle": "named"}, **OPTIONS)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, **OPTIONS)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(_url())
    with engine.connect() as connection:
        context.configure(connection=connection, **OPTIONS)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
