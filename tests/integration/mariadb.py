"""A private MariaDB server for tests: started in a temporary directory, stopped by PID.

    server = start_mariadb()      # raises MariadbError with the error log if it cannot start
    server.port, server.root()    # a PyMySQL connection as root (unix socket auth: none needed)
    server.stop()

As in the shared TESTING notes: mariadb-install-db into a directory owned by the ``mysql`` user,
mariadbd on a free port of 127.0.0.1 only, its socket and pid file in the same directory. Readiness is
a real query (``mariadb-admin ping`` answers even when authentication would fail). Extra server
options (``--long-query-time=0``) are passed through. ``scripts/test-deps`` installs mariadb-server.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from .pg import free_port

START_TIMEOUT_SECONDS = 60


class MariadbError(RuntimeError):
    pass


@dataclass
class MariadbServer:
    directory: Path
    port: int
    process: subprocess.Popen

    @property
    def socket(self) -> str:
        return str(self.directory / "sock")

    def root(self, **kwargs):
        import pymysql

        return pymysql.connect(unix_socket=self.socket, user="root", autocommit=True, **kwargs)

    def log(self) -> str:
        try:
            return (self.directory / "err").read_text(errors="replace")
        except OSError as exc:
            return f"(no error log: {exc})"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        shutil.rmtree(self.directory, ignore_errors=True)


def start_mariadb(*options: str) -> MariadbServer:
    for program in ("mariadbd", "mariadb-install-db"):
        if not shutil.which(program, path=os.environ.get("PATH", "") + ":/usr/sbin"):
            raise MariadbError(f"{program} is missing: run scripts/test-deps as root (it installs mariadb-server)")
    directory = Path(tempfile.mkdtemp(prefix="patrol-mariadb-"))
    shutil.chown(directory, user="mysql", group="mysql")
    install = subprocess.run(
        [
            "mariadb-install-db",
            "--no-defaults",
            f"--datadir={directory}/data",
            "--user=mysql",
            "--auth-root-authentication-method=socket",
            "--skip-test-db",
        ],
        capture_output=True,
        text=True,
        timeout=START_TIMEOUT_SECONDS,
        check=False,
    )
    if install.returncode != 0:
        shutil.rmtree(directory, ignore_errors=True)
        raise MariadbError(f"mariadb-install-db failed:\n{install.stdout}\n{install.stderr}")
    port = free_port()
    process = subprocess.Popen(
        [
            "/usr/sbin/mariadbd",
            "--no-defaults",
            f"--datadir={directory}/data",
            "--user=mysql",
            f"--port={port}",
            "--bind-address=127.0.0.1",
            f"--socket={directory}/sock",
            f"--pid-file={directory}/pid",
            f"--log-error={directory}/err",
            "--skip-name-resolve",
            "--innodb-buffer-pool-size=64M",
            "--skip-log-bin",
            *options,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    server = MariadbServer(directory, port, process)
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log = server.log()
            server.stop()
            raise MariadbError(f"mariadbd exited with {process.returncode}:\n{log}")
        try:
            with server.root() as conn, conn.cursor() as cur:
                cur.execute("SELECT 1")
                return server
        except Exception:  # noqa: BLE001 - not up yet
            time.sleep(0.2)
    log = server.log()
    server.stop()
    raise MariadbError(f"mariadbd did not answer within {START_TIMEOUT_SECONDS} s:\n{log}")
