"""tcp_connect — can a TCP connection be made to each host:port, and how long does it take.

One item per endpoint. A refused connection (the host answered, nothing listens) and a timeout (no
answer at all: filtered, host down, route lost) are told apart, because they send the engineer to
different places: the service versus the network.
"""

from __future__ import annotations

import errno
import socket
import time
from collections.abc import Iterable
from dataclasses import dataclass

from pydantic import Field, PositiveFloat, field_validator

from checks.base import Check, CheckContext, Outcome, metric
from checks.links.endpoints import (
    Family,
    ResolveError,
    endpoint_label,
    probe_all,
    probe_budget,
    resolve,
    split_endpoint,
)
from checks.params import CheckParams
from checks.status import Status
from checks.thresholds import Levels, UpperLimit
from checks.units import format_value


class TcpConnectParams(CheckParams):
    endpoints: list[str | int] = Field(
        min_length=1,
        description="endpoints as host:port, [IPv6]:port, or a bare port on the target's address "
        "(ansible_host, else its name)",
    )
    connect_timeout: PositiveFloat = Field(default=5.0, description="seconds to wait for each connection")
    warning: UpperLimit | None = Field(default=None, description="connect time (seconds) above which to warn")
    critical: UpperLimit | None = Field(default=None, description="connect time (seconds) above which critical")
    family: Family = Field(default="auto", description="address family: auto, ipv4 or ipv6")
    max_parallel: int = Field(default=16, ge=1, le=256, description="endpoints probed at the same time")

    @field_validator("endpoints")
    @classmethod
    def _well_formed(cls, values: list[str | int]) -> list[str | int]:
        for value in values:
            split_endpoint(value, "target")  # raises ValueError naming the endpoint
        return values


@dataclass(frozen=True)
class Connected:
    seconds: float
    address: str


class TcpConnectCheck(Check):
    name = "tcp_connect"
    title = "TCP reachability and connect time of host:port endpoints (refused and timeout told apart)"
    Params = TcpConnectParams
    own_connection = True
    default_timeout = 30.0
    metrics = {
        "reachable": "1 when the connection was made, else 0",
        "connect_time": "seconds the TCP handshake took (not name resolution)",
    }
    example = "- tcp_connect: {endpoints: ['22', 'db01:5432', '[2001:db8::1]:443'], connect_timeout: 3, warning: 0.2}"

    def run(self, ctx: CheckContext, params: TcpConnectParams) -> Iterable[Outcome]:
        endpoints = [split_endpoint(e, ctx.target.address) for e in params.endpoints]
        yield from probe_all(lambda ep: self.probe(ctx, params, *ep), endpoints, params.max_parallel)

    def probe(self, ctx: CheckContext, params: TcpConnectParams, host: str, port: int) -> Outcome:
        item = endpoint_label(host, port)
        budget = probe_budget(ctx, params.connect_timeout)
        deadline = time.monotonic() + budget
        try:
            done = connect(host, port, params.family, deadline)
        except ResolveError as exc:
            return failed(item, str(exc))
        except TimeoutError:
            return failed(item, f"no answer within {budget:g} s (filtered, host down or route lost)")
        except ConnectionRefusedError:
            return failed(item, "connection refused (the host answered; nothing listens on the port)")
        except OSError as exc:
            return failed(item, describe_os_error(exc))
        return Outcome(
            item=item,
            summary=f"connected in {format_value(done.seconds, 's')} to {done.address}",
            metrics=[metric("reachable", 1), metric("connect_time", round(done.seconds, 6), "s")],
            levels={"connect_time": Levels(params.warning, params.critical)},
        )


def connect(host: str, port: int, family: Family, deadline: float) -> Connected:
    """Connect to each address of ``host`` in turn until one answers; raise the last failure."""
    last: OSError = TimeoutError()
    for fam, sockaddr in resolve(host, port, family):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError()
        with socket.socket(fam, socket.SOCK_STREAM) as sock:
            sock.settimeout(remaining)
            start = time.monotonic()
            try:
                sock.connect(sockaddr)
            except OSError as exc:
                last = exc
                continue
            return Connected(time.monotonic() - start, endpoint_label(sockaddr[0], sockaddr[1]))
    raise last


def failed(item: str, reason: str) -> Outcome:
    return Outcome(item=item, summary=reason, metrics=[metric("reachable", 0)], status=Status.CRITICAL)


def describe_os_error(exc: OSError) -> str:
    if exc.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH):
        return f"{exc.strerror.lower()} (no route: the network or the host is down)"
    return exc.strerror or str(exc)
