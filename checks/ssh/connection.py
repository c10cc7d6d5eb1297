"""One SSH connection to a target: host key verified before authentication, bounded everywhere.

The steps are done by hand on a paramiko ``Transport`` rather than through ``SSHClient`` so that the
host key is compared with known_hosts *before* any credential leaves this process: a changed key
(a reinstalled host, or someone in the middle) must never receive a password. Every step is bounded
by the target's ``ssh_timeout``: TCP connect, the server's banner and key exchange (a blackholed
target that accepts TCP and never answers), authentication, and each command.
"""

from __future__ import annotations

import fcntl
import os
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import paramiko

from checks.errors import CheckUnavailable
from checks.secrets import Scrubber
from checks.ssh.settings import Endpoint, SshSettings
from checks.target import Target

# paramiko names the RSA host key "ssh-rsa" whatever signature algorithm is negotiated.
_KEY_ALGORITHMS = {"ssh-rsa": ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"]}
_known_hosts_lock = threading.Lock()  # TOFU writes from concurrent connections in this process


class SshError(CheckUnavailable):
    """The target cannot be reached, verified or logged into over SSH."""


class HostKeyError(SshError):
    """The host key is unknown or differs from known_hosts; nothing was sent to the host."""


@dataclass(frozen=True)
class CommandResult:
    exit_status: int
    stdout: bytes
    stderr: bytes


class SshConnection:
    """An open, authenticated connection; ``run`` may be called from several threads at once."""

    def __init__(self, settings: SshSettings, transport: paramiko.Transport, via: SshConnection | None = None):
        self.settings = settings
        self._transport = transport
        self._via = via

    @classmethod
    def open(cls, target: Target, scrubber: Scrubber | None = None) -> SshConnection:
        settings = SshSettings.from_target(target)
        pkey = _load_key(settings) if settings.private_key_file else None
        password = target.secret("ssh_password", scrubber) if settings.has_password else None
        via = None
        if settings.jump is not None:  # same credentials, known_hosts and policy as the target (see docs/ssh.md)
            via = cls(settings, cls._connect(settings, settings.jump, pkey, password, None))
        try:
            transport = cls._connect(settings, settings.endpoint, pkey, password, via)
        except BaseException:
            if via is not None:
                via.close()
            raise
        return cls(settings, transport, via)

    @staticmethod
    def _connect(settings, endpoint: Endpoint, pkey, password, via: SshConnection | None):
        timeout = settings.timeout
        where = f"{endpoint.host}:{endpoint.port}" + (f" via {via.settings.jump}" if via else "")
        if via is None:
            try:
                sock = socket.create_connection((endpoint.host, endpoint.port), timeout=timeout)
            except TimeoutError:
                raise SshError(f"no TCP connection to {where} within {timeout:g} s") from None
            except OSError as exc:
                raise SshError(f"cannot connect to {where}: {exc.strerror or exc}") from None
        else:
            try:
                sock = via._transport.open_channel(
                    "direct-tcpip", (endpoint.host, endpoint.port), ("127.0.0.1", 0), timeout=timeout
                )
            except (paramiko.SSHException, OSError) as exc:
                raise SshError(f"jump host cannot open a channel to {where}: {exc}") from None
        transport = paramiko.Transport(sock)
        try:
            transport.banner_timeout = timeout
            transport.handshake_timeout = timeout
            transport.auth_timeout = timeout
            known = _known_keys(settings.known_hosts, endpoint)
            if known:
                # Ask for a key type we hold, as OpenSSH does, so a host with several keys is verifiable.
                preferred = [a for name in known for a in _KEY_ALGORITHMS.get(name, [name])]
                options = transport.get_security_options()
                options.key_types = preferred + [k for k in options.key_types if k not in preferred]
            _handshake(transport, timeout, where)
            _verify_host_key(settings, endpoint, transport.get_remote_server_key(), known)
            _authenticate(transport, endpoint, pkey, password, where)
        except BaseException:
            transport.close()
            raise
        return transport

    def run(
        self, command: str, timeout: float | None = None, limit: int = 16 * 1024 * 1024, stdin: bytes | None = None
    ) -> CommandResult:
        """Run ``command`` through the login shell; stdout is read fully (up to ``limit`` bytes), then stderr.

        ``stdin`` is sent, then the input closed: how secrets reach a remote command without appearing
        on its command line (sshd passes on only the environment variables its AcceptEnv names).

        Raises TimeoutError when the command has not finished within ``timeout`` (default: ssh_timeout).
        """
        timeout = self.settings.timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        try:
            channel = self._transport.open_session(timeout=timeout)
        except (paramiko.SSHException, OSError, EOFError) as exc:
            raise SshError(f"{self.settings.endpoint}: cannot open a session: {exc}") from None
        try:
            channel.exec_command(command)
            if stdin is not None:
                channel.sendall(stdin)
                channel.shutdown_write()
            stdout = _read(channel.recv, deadline, limit, command, timeout, channel)
            stderr = _read(channel.recv_stderr, deadline, 64 * 1024, command, timeout, channel)
            if not channel.status_event.wait(max(0.0, deadline - time.monotonic())):
                raise TimeoutError(f"command {_short(command)!r} did not finish within {timeout:g} s")
            return CommandResult(channel.recv_exit_status(), stdout, stderr)
        finally:
            channel.close()

    @property
    def active(self) -> bool:
        return self._transport.is_active()

    def close(self) -> None:
        self._transport.close()
        if self._via is not None:
            self._via.close()


def _handshake(transport: paramiko.Transport, timeout: float, where: str) -> None:
    """Banner and key exchange within ``timeout``. With an event, start_client returns at once and the
    wait is ours: left to itself, paramiko returns silently when its timeout passes mid-negotiation."""
    done = threading.Event()
    try:
        transport.start_client(event=done)
    except (paramiko.SSHException, EOFError, OSError) as exc:
        raise SshError(f"SSH handshake with {where} failed: {exc or exc.__class__.__name__}") from None
    if not done.wait(timeout):
        raise SshError(f"no SSH answer from {where} within {timeout:g} s")
    if not transport.is_active():
        exc = transport.get_exception()
        text = str(exc) if exc else "the server closed the connection"
        if "banner" in text.lower():  # paramiko's own banner_timeout (the same value) fired first
            raise SshError(f"no SSH answer from {where} within {timeout:g} s ({text})")
        raise SshError(f"SSH handshake with {where} failed: {text}")


def _read(recv, deadline: float, limit: int, command: str, timeout: float, channel) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"command {_short(command)!r} did not finish within {timeout:g} s")
        channel.settimeout(remaining)
        try:
            data = recv(65536)
        except TimeoutError:
            raise TimeoutError(f"command {_short(command)!r} did not finish within {timeout:g} s") from None
        if not data:
            return b"".join(chunks)
        if size < limit:  # keep reading past the limit so the command is not blocked on a full window
            chunks.append(data[: limit - size])
            size += len(chunks[-1])


def _short(command: str) -> str:
    return command if len(command) <= 60 else command[:57] + "..."


def _load_key(settings: SshSettings) -> paramiko.PKey:
    path = settings.private_key_file
    try:
        return paramiko.PKey.from_path(path)
    except paramiko.PasswordRequiredException:
        raise SshError(f"ssh_private_key_file: {path} is encrypted; use a key without a passphrase") from None
    except (paramiko.SSHException, OSError, ValueError) as exc:
        raise SshError(f"ssh_private_key_file: cannot load {path}: {exc}") from None


def _known_keys(path: Path, endpoint: Endpoint) -> dict[str, paramiko.PKey]:
    """The keys known_hosts holds for the endpoint, by key type (hashed host names included)."""
    if not path.exists():
        return {}
    try:
        keys = paramiko.HostKeys(str(path))
    except (OSError, paramiko.SSHException) as exc:
        raise HostKeyError(f"ssh_known_hosts: cannot read {path}: {exc}") from None
    found = keys.lookup(endpoint.known_hosts_name)
    return dict(found) if found else {}


def _verify_host_key(settings: SshSettings, endpoint: Endpoint, key: paramiko.PKey, known: dict) -> None:
    name = endpoint.known_hosts_name
    fingerprint = key.fingerprint  # SHA256:..., as ssh-keygen -l prints it
    if known:
        if known.get(key.get_name()) == key:
            return
        held = ", ".join(sorted(known))
        raise HostKeyError(
            f"host key mismatch for {name}: it presented {key.get_name()} {fingerprint}, which is not the "
            f"{held} key in {settings.known_hosts}; refusing to authenticate (a reinstalled host or someone in "
            f"the middle: check, then replace the line with ssh-keygen -R '{name}' -f {settings.known_hosts})"
        )
    if settings.policy != "tofu":
        raise HostKeyError(
            f"unknown host key for {name} ({key.get_name()} {fingerprint}): not in {settings.known_hosts}; "
            "refusing to authenticate. Add the host's key to that file (ssh-keyscan, verified out of band) or set "
            "ssh_host_key_policy: tofu to trust it on first use"
        )
    _record(settings.known_hosts, name, key)


def _record(path: Path, name: str, key: paramiko.PKey) -> None:
    """Trust on first use: append the key, unless another connection recorded one in the meantime."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with _known_hosts_lock:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "r+", encoding="ascii") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)  # other Patrol processes sharing the file
            held = paramiko.HostKeys(str(path)).lookup(name)  # re-read under the lock
            if held and held.get(key.get_name()) not in (None, key):
                raise HostKeyError(f"host key for {name} changed while being recorded in {path}; refusing")
            if not held or key.get_name() not in held:
                fh.write(f"{name} {key.get_name()} {key.get_base64()}\n")


def _authenticate(transport, endpoint: Endpoint, pkey, password, where: str) -> None:
    errors = []
    for method, secret in (("key", pkey), ("password", password)):
        if secret is None:
            continue
        try:
            if method == "key":
                transport.auth_publickey(endpoint.user, pkey)
            else:
                transport.auth_password(endpoint.user, password)
        except paramiko.BadAuthenticationType as exc:
            errors.append(f"{method} authentication not allowed (server offers {', '.join(exc.allowed_types)})")
        except paramiko.AuthenticationException as exc:
            errors.append(f"{method} authentication failed ({exc})")
        except (paramiko.SSHException, EOFError, OSError) as exc:
            errors.append(f"{method} authentication did not complete ({exc or exc.__class__.__name__})")
        if transport.is_authenticated():
            return
        if not transport.is_active():
            break
    raise SshError(f"cannot log in to {where} as {endpoint.user}: {'; '.join(errors)}")
