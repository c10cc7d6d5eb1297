"""Private OpenSSH servers for tests and benchmarks: loopback only, generated keys, stopped by PID.

    account = ensure_account()                 # the unprivileged user the tests log in as
    server = start_sshd(tmp_dir, account)      # raises SshdError with sshd's own output if it cannot start
    server.known_hosts_line()                  # "[127.0.0.1]:PORT ssh-ed25519 AAAA..."
    server.stop()

As in the shared TESTING notes, with one difference: the client's public key goes in an
``authorized_keys`` file inside the server's temporary directory (``AuthorizedKeysFile``,
``StrictModes no`` since /tmp is world-writable), so nothing in the account's home is touched and
servers of concurrent sessions do not share state. The account is a dedicated unprivileged user
(``patrol-ssh``), never root: no test command runs with privileges, as the poller's will not.
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

SSHD = "/usr/sbin/sshd"
TEST_USER = "patrol-ssh"
START_TIMEOUT_SECONDS = 20
PORT_ATTEMPTS = 3


class SshdError(RuntimeError):
    """sshd could not be set up; the message carries the command's output."""


@dataclass
class Account:
    user: str
    client_key: Path  # private key (OpenSSH format, no passphrase)
    client_pub: str


@dataclass
class SshServer:
    directory: Path
    port: int
    account: Account
    host_key: Path
    process: subprocess.Popen
    log_file: Path
    owns_directory: bool = False  # made by start_sshd: removed by stop
    _stopped: bool = field(default=False, repr=False)

    @property
    def host_pub(self) -> str:
        return Path(f"{self.host_key}.pub").read_text().split()[1]

    def known_hosts_line(self, host: str = "127.0.0.1") -> str:
        return f"[{host}]:{self.port} ssh-ed25519 {self.host_pub}\n"

    def target_vars(self, known_hosts: Path, **extra) -> dict:
        return {
            "ansible_host": "127.0.0.1",
            "ansible_port": self.port,
            "ansible_user": self.account.user,
            "ssh_private_key_file": str(self.account.client_key),
            "ssh_known_hosts": str(known_hosts),
            **extra,
        }

    def log(self) -> str:
        return self.log_file.read_text(errors="replace") if self.log_file.exists() else ""

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
        if self.owns_directory:
            shutil.rmtree(self.directory, ignore_errors=True)


def _run(*cmd: str, stdin: str | None = None) -> str:
    done = subprocess.run(cmd, input=stdin, capture_output=True, text=True)
    if done.returncode != 0:
        raise SshdError(f"{' '.join(cmd)} exited {done.returncode}: {done.stderr.strip() or done.stdout.strip()}")
    return done.stdout


def keygen(path: Path) -> None:
    _run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "patrol-test", "-f", str(path))


def ensure_account(key_dir: Path, user: str = TEST_USER) -> Account:
    """The dedicated test user (created once, as root) and a fresh client key pair in ``key_dir``."""
    if not Path(SSHD).exists():
        raise SshdError(f"{SSHD} is missing: run scripts/test-deps as root (installs openssh-server)")
    try:
        pwd.getpwnam(user)
    except KeyError:
        if os.geteuid() != 0:
            raise SshdError(f"user {user} does not exist and only root can create it") from None
        _run("useradd", "-m", "-s", "/bin/sh", user)
    lock_password(user)
    key = key_dir / "client_key"
    keygen(key)
    return Account(user, key, Path(f"{key}.pub").read_text().strip())


def lock_password(user: str) -> None:
    # '*' (not '!') leaves the account usable for key logins without PAM, and no password matches it.
    if os.geteuid() == 0:
        _run("usermod", "-p", "*", user)


def set_password(user: str) -> str:
    """Give the test user a random password (for password-authentication tests); lock_password undoes it."""
    password = secrets.token_urlsafe(18)
    _run("chpasswd", stdin=f"{user}:{password}\n")
    return password


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_sshd(
    account: Account, directory: Path | None = None, password_auth: bool = False, log_level: str = "VERBOSE"
) -> SshServer:
    # By default a directory of its own under /tmp: the test user must be able to reach authorized_keys,
    # which pytest's private (0700) temporary directories do not allow.
    owns = directory is None
    directory = Path(directory or tempfile.mkdtemp(prefix="patrol-sshd-"))
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o755)  # sshd reads authorized_keys as the logged-in user
    host_key = directory / "host_key"
    if not host_key.exists():
        keygen(host_key)
    authorized = directory / "authorized_keys"
    authorized.write_text(account.client_pub + "\n")
    authorized.chmod(0o644)
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege-separation directory
    last_error = ""
    for _ in range(PORT_ATTEMPTS):
        port = free_port()
        config = directory / "sshd_config"
        config.write_text(
            f"ListenAddress 127.0.0.1:{port}\n"
            f"HostKey {host_key}\n"
            f"PidFile {directory}/pid\n"
            f"AuthorizedKeysFile {authorized}\n"
            "StrictModes no\n"
            f"PasswordAuthentication {'yes' if password_auth else 'no'}\n"
            "KbdInteractiveAuthentication no\n"
            "UsePAM no\n"
            f"AllowUsers {account.user}\n"
            "MaxStartups 200:30:400\n"
            "MaxSessions 30\n"
            f"LogLevel {log_level}\n"
        )
        _run(SSHD, "-t", "-f", str(config))
        log_file = directory / "log"
        process = subprocess.Popen(
            [SSHD, "-D", "-e", "-f", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=log_file.open("ab"),
        )
        server = SshServer(directory, port, account, host_key, process, log_file, owns)
        if _wait_banner(port, process):
            return server
        last_error = server.log()
        server.owns_directory = False  # keep the directory for the next attempt
        server.stop()
    if owns:
        shutil.rmtree(directory, ignore_errors=True)
    raise SshdError(f"sshd did not start: {last_error[-2000:]}")


def _wait_banner(port: int, process: subprocess.Popen) -> bool:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
                if sock.recv(64).startswith(b"SSH-"):
                    return True
        except OSError:
            time.sleep(0.05)
    return False
