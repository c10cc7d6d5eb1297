"""The SSH connection settings of a target, from its inventory variables.

Every problem is reported with the variable it comes from, all at once, before any connection is
attempted. Secrets (``ssh_password``) are not resolved here: the connection resolves them through
``Target.secret`` so they are registered with the run's scrubber.
"""

from __future__ import annotations

import getpass
import re
from dataclasses import dataclass
from pathlib import Path

from checks.errors import CheckUnavailable
from checks.target import Target

DEFAULT_PORT = 22
DEFAULT_TIMEOUT = 10.0
POLICIES = ("strict", "tofu", "accept-new")  # accept-new: OpenSSH's name for trust on first use
# ssh -J style: [user@]host[:port]; an IPv6 address goes in brackets: [::1]:2222.
_JUMP = re.compile(r"^(?:(?P<user>[^@\s]+)@)?(?P<host>\[[0-9a-fA-F:.]+\]|[^@:\s\[\]]+)(?::(?P<port>\d{1,5}))?$")


class SshSettingsError(CheckUnavailable):
    """Inventory variables that make an SSH connection impossible; the message names each variable."""


@dataclass(frozen=True)
class Endpoint:
    host: str
    port: int
    user: str

    @property
    def known_hosts_name(self) -> str:
        """The name OpenSSH writes in known_hosts: ``host`` for port 22, ``[host]:port`` otherwise."""
        return self.host if self.port == DEFAULT_PORT else f"[{self.host}]:{self.port}"

    def __str__(self) -> str:
        return f"{self.user}@{self.host}:{self.port}"


@dataclass(frozen=True)
class SshSettings:
    target: str
    endpoint: Endpoint
    known_hosts: Path
    policy: str  # "strict" or "tofu" (accept-new is read as tofu)
    private_key_file: Path | None
    has_password: bool
    jump: Endpoint | None
    timeout: float  # for each of: TCP connect, SSH handshake, authentication, one command

    @classmethod
    def from_target(cls, target: Target) -> SshSettings:
        v = target.vars
        problems: list[str] = []

        def bad(name: str, message: str) -> None:
            problems.append(f"{name}: {message}")

        # As Ansible and ssh do, the account defaults to the local user Patrol runs as.
        user = v.get("ansible_user") or getpass.getuser()
        if not isinstance(user, str) or not user.strip():
            bad("ansible_user", f"expected the account name to log in as, not {user!r}")
            user = ""
        port = _port(v.get("ansible_port"), "ansible_port", bad)
        policy = v.get("ssh_host_key_policy", "strict")
        if policy not in POLICIES:
            bad("ssh_host_key_policy", f"must be one of {', '.join(POLICIES)}, not {policy!r}")
        known_hosts = Path(str(v.get("ssh_known_hosts") or "~/.ssh/known_hosts")).expanduser()
        key_file = v.get("ssh_private_key_file")
        key_path = Path(str(key_file)).expanduser() if key_file else None
        if key_path is not None and not key_path.is_file():
            bad("ssh_private_key_file", f"{key_path} does not exist or is not a file")
        has_password = v.get("ssh_password") is not None
        if key_path is None and not has_password:
            bad("ssh_private_key_file", "set it or ssh_password: SSH needs a key or a password")
        timeout = v.get("ssh_timeout", DEFAULT_TIMEOUT)
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not 0 < timeout <= 600:
            bad("ssh_timeout", f"must be a number of seconds between 0 and 600, not {timeout!r}")
            timeout = DEFAULT_TIMEOUT
        jump = None
        if v.get("ssh_jump_host"):
            jump = _jump(str(v["ssh_jump_host"]), user, bad)
        if problems:
            raise SshSettingsError(f"{target.name}: " + "; ".join(problems))
        return cls(
            target=target.name,
            endpoint=Endpoint(target.address, port, user),
            known_hosts=known_hosts,
            policy="tofu" if policy == "accept-new" else policy,
            private_key_file=key_path,
            has_password=has_password,
            jump=jump,
            timeout=float(timeout),
        )


def _port(value, name, bad) -> int:
    if value is None or value == "":
        return DEFAULT_PORT
    try:
        port = int(value)
    except (TypeError, ValueError):
        port = 0
    if not 0 < port < 65536 or isinstance(value, bool):
        bad(name, f"must be a TCP port (1-65535), not {value!r}")
        return DEFAULT_PORT
    return port


def _jump(text: str, default_user: str, bad) -> Endpoint | None:
    match = _JUMP.match(text.strip())
    if not match:
        bad("ssh_jump_host", f"expected [user@]host[:port], not {text!r}")
        return None
    port = _port(match["port"], "ssh_jump_host", bad)
    return Endpoint(match["host"].strip("[]"), port, match["user"] or default_user)
