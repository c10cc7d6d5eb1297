"""Conditions a PostgreSQL patrol must see, made for real on a private server (tests/integration/pg.py).

- a least-privilege monitoring role (``pg_monitor``) with a SCRAM password, and one without it;
- WAL archiving on with an archive_command that always fails (pg_stat_archiver counts failures);
- a tablespace in a directory of the test's own temporary tree.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import psycopg

from .pg import PostgresServer, _run

MONITOR = "patrol_monitor"
NOPRIV = "patrol_nopriv"
PASSWORD = "Mon1tor-S3cret-pw"  # only for the private server; the tests check it never shows up


def prepare(server: PostgresServer, failing_archive: bool = True) -> None:
    with psycopg.connect(server.dsn(), autocommit=True) as conn:
        for role in (MONITOR, NOPRIV):
            conn.execute(f"CREATE ROLE {role} LOGIN PASSWORD '{PASSWORD}'")
        conn.execute(f"GRANT pg_monitor TO {MONITOR}")
        if failing_archive:  # (pg_basebackup would wait for archiving forever: not on a replica's primary)
            conn.execute("ALTER SYSTEM SET archive_mode = 'on'")
            conn.execute("ALTER SYSTEM SET archive_command = 'false'")  # every WAL segment fails to archive
        conn.execute("ALTER SYSTEM SET max_wal_senders = 5")
    # The monitoring roles must give a password (so a wrong one is refused); postgres stays trusted.
    hba = server.data_dir / "pg_hba.conf"
    rules = "".join(f"host all {r} 127.0.0.1/32 scram-sha-256\n" for r in (MONITOR, NOPRIV))
    hba.write_text(rules + hba.read_text())
    _run(server._command("pg_ctl", "-D", str(server.data_dir), "-l", str(server.log_file), "-w", "restart"), server)


def make_tablespace(server: PostgresServer, name: str = "patrol_ts") -> Path:
    location = server.directory / "ts"
    location.mkdir()
    if server.as_user:
        shutil.chown(location, user=server.as_user, group=server.as_user)
    with psycopg.connect(server.dsn(), autocommit=True) as conn:
        conn.execute(f"CREATE TABLESPACE {name} LOCATION '{location}'")
        conn.execute(f"CREATE TABLE ts_data (id int) TABLESPACE {name}")
        conn.execute("INSERT INTO ts_data SELECT generate_series(1, 20000)")
    return location


def force_archive_failure(server: PostgresServer, timeout: float = 20.0) -> int:
    """Switch WAL so the archiver tries (and fails); return failed_count once it is above zero."""
    with psycopg.connect(server.dsn(), autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS wal_filler (x int)")
        conn.execute("INSERT INTO wal_filler SELECT generate_series(1, 1000)")
        conn.execute("SELECT pg_switch_wal()")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            [(failed,)] = conn.execute("SELECT failed_count FROM pg_stat_archiver").fetchall()
            if failed > 0:
                return failed
            time.sleep(0.2)
    raise AssertionError(f"the archiver did not fail within {timeout} s:\n{server.log()}")


def statvfs_free(path: Path) -> int:
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


def start_standby(primary: PostgresServer) -> PostgresServer:
    """A streaming replica of ``primary``: pg_basebackup -R into a fresh directory, started on its own port."""
    import tempfile

    from .pg import free_port

    directory = Path(tempfile.mkdtemp(prefix="patrol-pg-standby-"))
    standby = PostgresServer(directory, free_port(), primary.bin_dir, primary.as_user)
    if standby.as_user:
        shutil.chown(directory, user=standby.as_user, group=standby.as_user)
    _run(
        standby._command(
            "pg_basebackup",
            "-h",
            "127.0.0.1",
            "-p",
            str(primary.port),
            "-U",
            "postgres",
            "-D",
            str(standby.data_dir),
            "-R",
            "-X",
            "stream",
            "--no-sync",
        ),
        standby,
    )
    options = f"-p {standby.port} -c listen_addresses=127.0.0.1 -k {directory} -c fsync=off"
    _run(
        standby._command(
            "pg_ctl", "-D", str(standby.data_dir), "-l", str(standby.log_file), "-w", "-o", options, "start"
        ),
        standby,
    )
    return standby


def wait_streaming(primary: PostgresServer, timeout: float = 20.0) -> None:
    with psycopg.connect(primary.dsn(), autocommit=True) as conn:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if conn.execute("SELECT 1 FROM pg_stat_replication WHERE state = 'streaming'").fetchall():
                return
            time.sleep(0.2)
    raise AssertionError(f"the standby did not stream within {timeout} s:\n{primary.log()}")
