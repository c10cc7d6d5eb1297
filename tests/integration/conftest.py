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


# -- SSH (tests/integration/sshd.py) ---------------------------------------------------------------


@pytest.fixture(scope="session")
def ssh_account(tmp_path_factory):
    """The unprivileged test account and a client key pair made for this session."""
    from .sshd import SshdError, ensure_account

    try:
        return ensure_account(tmp_path_factory.mktemp("ssh-client"))
    except SshdError as exc:
        pytest.fail(f"cannot set up the SSH test account: {exc}", pytrace=False)


@pytest.fixture(scope="session")
def sshd(ssh_account):
    """One OpenSSH server on 127.0.0.1 for the session; password logins allowed (the account has none
    except inside the password test)."""
    from .sshd import SshdError, start_sshd

    try:
        server = start_sshd(ssh_account, password_auth=True)
    except SshdError as exc:
        pytest.fail(f"cannot start sshd for the tests: {exc}", pytrace=False)
    yield server
    server.stop()


@pytest.fixture
def known_hosts(sshd, tmp_path):
    """A known_hosts file that holds the session server's real host key."""
    path = tmp_path / "known_hosts"
    path.write_text(sshd.known_hosts_line())
    return path
