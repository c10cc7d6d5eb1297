"""A private PostgreSQL 15 server for tests and benchmarks: started in a temporary directory, stopped by PID.

    server = start_postgres()          # raises PostgresError with the server's log if it cannot start
    url = server.create_database("patrol_test")   # postgresql+psycopg://postgres@127.0.0.1:PORT/patrol_test
    ...
    server.stop()

A test of a database outage stops and starts the same server again (same data directory and port)::

    server.halt("fast")                # pg_ctl stop -m fast|immediate|smart; the files stay
    server.kill_postmaster()           # SIGKILL of the postmaster, then waits for its children to exit
    server.start()                     # pg_ctl start again (crash recovery after a kill)

As in the shared TESTING notes: initdb refuses to run as root, so as root everything runs as the system
user ``postgres`` (``runuser``); the data directory lives in a fresh temporary directory owned by that
user; the server listens on a free port of 127.0.0.1 only (its socket in the same directory), with
``fsync=off`` and trust authentication. The binaries come from the PATH or /usr/lib/postgresql/15/bin
(``scripts/test-deps`` installs them when neither has them).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

PG_BIN_DIRS = (Path("/usr/lib/postgresql/15/bin"),)
SYSTEM_USER = "postgres"
START_TIMEOUT_SECONDS = 60
PORT_ATTEMPTS = 3  # a free port can be taken between choosing it and binding it: try another


class PostgresError(RuntimeError):
    """PostgreSQL could not be set up; the message carries the command's output and the server log."""


@dataclass
class PostgresServer:
    directory: Path
    port: int
    bin_dir: Path
    as_user: str | None  # the system user the server runs as (None: the current user)
    _stopped: bool = field(default=False, repr=False)

    @property
    def data_dir(self) -> Path:
        return self.directory / "data"

    @property
    def log_file(self) -> Path:
        return self.directory / "log"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def dsn(self, database: str = "postgres") -> str:
        """A libpq connection string, for psycopg or psql."""
        return f"host=127.0.0.1 port={self.port} user=postgres dbname={database}"

    def create_database(self, name: str) -> str:
        """CREATE DATABASE ``name`` (dropping an earlier one); returns its SQLAlchemy URL."""
        import psycopg

        with psycopg.connect(self.dsn(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def log(self) -> str:
        try:
            return self.log_file.read_text(errors="replace")
        except OSError as exc:
            return f"(no server log: {exc})"

    def stop(self) -> None:
        """Stop the server (``pg_ctl stop -m fast``, which signals the PID in postmaster.pid) and remove its files."""
        if self._stopped:
            return
        self._stopped = True
        try:
            if (self.data_dir / "postmaster.pid").exists():
                _run(self._command("pg_ctl", "-D", str(self.data_dir), "-m", "fast", "-w", "stop"), self)
        finally:
            shutil.rmtree(self.directory, ignore_errors=True)

    def start(self) -> None:
        """Start the server on its data directory and port (after ``halt`` or ``kill_postmaster``); waits until it
        accepts connections (crash recovery included). Raises ``PostgresError`` with the log."""
        _run(self._start_command(), self)

    def halt(self, mode: str = "fast") -> None:
        """``pg_ctl stop -m MODE -w``: the server stops, its files stay for ``start``."""
        if mode not in ("smart", "fast", "immediate"):
            raise ValueError(f"pg_ctl stop mode: expected smart, fast or immediate, got {mode!r}")
        _run(self._command("pg_ctl", "-D", str(self.data_dir), "-m", mode, "-w", "stop"), self)

    def postmaster_pid(self) -> int | None:
        """The PID in postmaster.pid, or None without the file."""
        try:
            return int((self.data_dir / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def kill_postmaster(self, timeout: float = 30.0) -> int:
        """SIGKILL this server's postmaster (its PID from postmaster.pid, nothing else), then wait until it and
        every process it had started are gone, so that ``start`` finds no shared memory still attached.
        Returns the PID killed."""
        pid = self.postmaster_pid()
        if pid is None:
            raise PostgresError(f"no postmaster.pid in {self.data_dir}: the server is not running")
        children = _children(pid)
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            alive = [p for p in (pid, *children) if _alive(p)]
            if not alive:
                return pid
            time.sleep(0.05)
        raise PostgresError(f"processes {alive} of the killed postmaster {pid} still run after {timeout} s")

    def _start_command(self) -> list[str]:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.directory} -c fsync=off"
        return self._command(
            "pg_ctl", "-D", str(self.data_dir), "-l", str(self.log_file), "-w",
            "-t", str(START_TIMEOUT_SECONDS), "-o", options, "start",
        )

    def _command(self, program: str, *args: str) -> list[str]:
        command = [str(self.bin_dir / program), *args]
        return ["runuser", "-u", self.as_user, "--", *command] if self.as_user else command


def find_bin_dir() -> Path:
    """The directory holding initdb and pg_ctl (resolved through symlinks, so ``postgres`` is beside them)."""
    on_path = shutil.which("initdb")
    candidates = ([Path(on_path).resolve().parent] if on_path else []) + list(PG_BIN_DIRS)
    for directory in candidates:
        if (directory / "initdb").is_file() and (directory / "pg_ctl").is_file():
            return directory
    raise PostgresError(
        "PostgreSQL server binaries (initdb, pg_ctl) are neither on the PATH nor in "
        f"{', '.join(map(str, PG_BIN_DIRS))}: run scripts/test-deps as root (it installs postgresql-15)"
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_postgres(parent: str | os.PathLike[str] | None = None) -> PostgresServer:
    """initdb and start a private server; raises ``PostgresError`` with the log when it cannot."""
    bin_dir = find_bin_dir()
    as_user = SYSTEM_USER if os.geteuid() == 0 else None
    directory = Path(tempfile.mkdtemp(prefix="patrol-pg-", dir=parent))
    server = PostgresServer(directory, 0, bin_dir, as_user)
    try:
        if as_user:
            shutil.chown(directory, user=as_user, group=as_user)
        _run(
            server._command(
                "initdb", "-D", str(server.data_dir), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"
            ),
            server,
        )
        for attempt in range(1, PORT_ATTEMPTS + 1):
            server.port = free_port()
            try:
                server.start()
            except PostgresError:
                if attempt == PORT_ATTEMPTS or "could not bind" not in server.log():
                    raise
                time.sleep(0.2)
                continue
            return server
        raise AssertionError("unreachable")
    except BaseException:
        try:
            server.stop()  # a server that started but did not answer in time is stopped too
        except PostgresError:
            pass
        raise


def _children(pid: int) -> list[int]:
    """The PIDs whose parent is ``pid`` (from /proc)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            # "pid (comm) state ppid ...": comm may hold spaces and parentheses, so read after the last ")".
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry))
    return found


def _alive(pid: int) -> bool:
    """True while ``pid`` exists, as a zombie too: PostgreSQL's lock-file check (``kill(pid, 0)``) still sees a
    killed postmaster until its parent (here init) reaps it."""
    return Path(f"/proc/{pid}").exists()


def _run(command: list[str], server: PostgresServer) -> None:
    # Output goes to a file, not a pipe: the server pg_ctl starts must not hold our pipe open.
    with tempfile.TemporaryFile() as output:
        try:
            done = subprocess.run(
                command, stdout=output, stderr=subprocess.STDOUT, timeout=START_TIMEOUT_SECONDS + 30, check=False
            )
            code: int | str = done.returncode
        except (OSError, subprocess.TimeoutExpired) as exc:
            code = f"{type(exc).__name__}: {exc}"
        if code != 0:
            output.seek(0)
            text = output.read().decode(errors="replace")
            raise PostgresError(
                f"{' '.join(command)} failed ({code}):\n{text}\n--- server log {server.log_file} ---\n{server.log()}"
            )


def empty_database(url: str) -> str:
    """``url``'s database with nothing in it (its public schema dropped and made again); returns ``url``."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP SCHEMA public CASCADE")
        conn.exec_driver_sql("CREATE SCHEMA public")
    engine.dispose()
    return url
