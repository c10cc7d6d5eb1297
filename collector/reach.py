"""How the runner reaches a target, and what it says when it cannot.

Until the poller lands, checks run in process for ``connection: local`` targets only. A remote
target is still probed, so an unreachable host is reported as such (CRITICAL, with the reason)
rather than as a check that merely could not run.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Mapping
from typing import Any

from checks.host.source import local_host_source
from checks.snmp.session import snmp_session
from checks.snmp.settings import is_snmp_device
from checks.status import Status
from checks.target import Target

SSH_PORT = 22


def connections_for(target: Target) -> Mapping[str, Callable[[Target], Any]]:
    connections: dict[str, Callable[[Target], Any]] = {"snmp": snmp_session}  # any target may be polled by SNMP
    if target.is_local:
        connections["host"] = local_host_source
    return connections


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
    unreachable = probe_tcp(target.address, target.port(SSH_PORT), timeout)
    if unreachable:
        return Status.CRITICAL, f"unreachable: {unreachable}"
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
