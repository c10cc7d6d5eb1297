"""Integration fixtures: a private PostgreSQL 15 for the whole session (see tests/integration/pg.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .pg import PostgresError, start_postgres


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """``postgresql+psycopg://postgres@127.0.0.1:PORT/patrol_test`` on a server started for this session.

    Never skipped: when PostgreSQL cannot start, the test fails with the command's output and the log.
    """
    try:
        server = start_postgres()
    except PostgresError as exc:
        pytest.fail(f"cannot start PostgreSQL for the tests: {exc}", pytrace=False)
    try:
        yield server.create_database("patrol_test")
    finally:
        server.stop()
