"""How the runner reaches a target, and what it says when it cannot.

``connection: local`` targets are checked in process. Other targets without an agent are polled
over SSH (``connection: ssh``, the default as in Ansible): "host" figures come from /proc read over
the run's SSH connection to the target, and "ssh" is that connection itself (``ssh_command``). A
remote target is probed first, so an unreachable host is reported as such (CRITICAL, with the
reason) rather than as a check that merely could not run. SNMP devices (``checks.snmp.settings.
is_snmp_device``) are neither probed over TCP nor given SSH connections; every target gets the
"snmp" connection, and the snmp_* checks report an unreachable device themselves. Middleware
endpoints (``checks.middleware.http.is_http_service``: ``tomcat_url``, ``jolokia_url``, ``weblogic_url``
or ``connection: http``) are not probed either: their checks speak HTTP and report a dead server.
Checks that reach the target themselves (``own_connection``: the link checks, nagios, the middleware
and the database checks) are not held back by the SSH probe: a database endpoint need not run sshd,
its checks report a server they cannot connect to as CRITICAL. A target with ``postgres_*``,
``mysql_*`` or ``oracle_*`` variables gets that engine's session (checks.sql.pool: one per target and
engine per run).
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Mapping
from typing import Any

from checks.backup.shell import local_shell, ssh_shell
from checks.host.source import local_host_source
from checks.middleware.http import is_http_service
from checks.secrets import Scrubber
from checks.snmp.session import snmp_session
from checks.snmp.settings import is_snmp_device
from checks.sql.pool import SqlPool
from checks.sql.settings import ENGINES, has_settings
from checks.ssh.pool import SshPool
from checks.status import Status
from checks.target import Target

SSH_PORT = 22
SSH = "ssh"


class RunConnections:
    """The connections one run opens: shared by the checks of a target, closed when the run ends."""

    def __init__(self, scrubber: Scrubber | None = None) -> None:
        self.ssh = SshPool(scrubber)
        self.sql = SqlPool(scrubber)

    def close(self) -> None:
        self.ssh.close()
        self.sql.close()

    def __enter__(self) -> RunConnections:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def connections_for(target: Target, run: RunConnections | None = None) -> Mapping[str, Callable[[Target], Any]]:
    kinds: dict[str, Callable[[Target], Any]] = {"snmp": snmp_session}  # any target may be polled by SNMP
    if run is not None:
        # Where the inventory describes a database engine, the run shares one session per engine.
        kinds.update({e: run.sql.factory(e) for e in ENGINES if has_settings(target, e)})
    if target.is_local:
        kinds["host"] = local_host_source
        kinds["shell"] = local_shell  # files and commands on this machine (the backup checks)
        return kinds
    if target.connection == SSH and not target.has_agent and run is not None and not is_snmp_device(target) \
            and not is_http_service(target):
        kinds["host"] = run.ssh.host_source
        kinds["ssh"] = run.ssh.connection
        kinds["shell"] = ssh_shell(run.ssh.connection)
    return kinds


def reaches_itself(target: Target, check: Any) -> bool:
    """True for a check that reaches the target by itself (``own_connection``: ping, http, tcp_connect,
    nagios) on a target without an agent: it runs here whether or not the target answers SSH. On an
    agent host it runs on the agent, like every other check."""
    return getattr(check, "own_connection", False) is True and not target.has_agent


def blocked(target: Target, timeout: float = 5.0) -> tuple[Status, str] | None:
    """Why checks cannot run on ``target`` from here, or None if they can."""
    if target.is_local:
        return None
    if is_snmp_device(target):
        # SNMP is UDP: there is nothing to probe over TCP, and each snmp_* check reports an unreachable
        # device itself (CRITICAL, within the device's own timeout).
        return None
    if target.has_agent:
        return (
            Status.UNKNOWN,
            "checked by its Patrol agent (patrol_agent: true); a one-shot run cannot collect from agents",
        )
    if is_http_service(target):
        return None  # polled over HTTP: each check reports an unreachable server (CRITICAL) itself
    if target.connection == SSH and target.vars.get("ssh_jump_host"):
        return None  # reached through the jump host, not directly: the connection reports failures
    unreachable = probe_tcp(target.address, target.port(SSH_PORT), timeout)
    if unreachable:
        return Status.CRITICAL, f"unreachable: {unreachable}"
    if target.connection == SSH:
        return None  # polled over SSH; a host that answers TCP but not SSH fails within its ssh_timeout
    return (
        Status.UNKNOWN,
        f"{target.address}:{target.port(SSH_PORT)} answers, but agentless ({target.connection}) checks are not "
        "available yet; set connection: local or run an agent",
    )


def probe_tcp(host: str, port: int, timeout: float) -> str | None:
    """None when a TCP connection to host:port succeeds, else the reason it did not."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return None
    except TimeoutError:
        return f"no answer from {host}:{port} within {timeout:g} s"
    except socket.gaierror as exc:
        return f"cannot resolve {host}: {exc.strerror}"
    except OSError as exc:
        return f"{host}:{port}: {exc.strerror or exc}"
