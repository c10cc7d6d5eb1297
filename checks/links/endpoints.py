"""What the link checks share: naming endpoints, resolving them, and probing several at once."""

from __future__ import annotations

import concurrent.futures as cf
import socket
import time
from collections.abc import Callable, Sequence
from typing import Literal, TypeVar

from checks.base import CheckContext

Family = Literal["auto", "ipv4", "ipv6"]
FAMILIES = {"auto": socket.AF_UNSPEC, "ipv4": socket.AF_INET, "ipv6": socket.AF_INET6}
HOST_PLACEHOLDER = "{host}"

# Time kept back from the check's own deadline, so every probe reports its item before the base
# class gives up on the whole check.
REPORT_MARGIN = 0.5

T = TypeVar("T")
R = TypeVar("R")


class ResolveError(OSError):
    pass


def split_endpoint(text: str | int, default_host: str) -> tuple[str, int]:
    """``host:port``, ``[v6 address]:port`` or a bare port (on ``default_host``) as (host, port)."""
    raw = str(text).strip()
    if raw.isdigit():
        host, port_text = default_host, raw
    elif raw.startswith("["):
        host, sep, port_text = raw[1:].partition("]:")
        if not sep:
            raise ValueError(f"{raw!r}: expected [IPv6 address]:port")
    else:
        host, sep, port_text = raw.rpartition(":")
        if not sep or not host:
            raise ValueError(f"{raw!r}: expected host:port or a port number")
        if ":" in host:
            raise ValueError(f"{raw!r}: write an IPv6 address in brackets, [address]:port")
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ValueError(f"{raw!r}: the port must be a number from 1 to 65535")
    return host, int(port_text)


def endpoint_label(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def resolve(host: str, port: int | None, family: Family, kind: int = socket.SOCK_STREAM) -> list[tuple]:
    """Addresses of ``host`` as getaddrinfo gives them (sockaddr tuples), or ResolveError naming the host."""
    try:
        infos = socket.getaddrinfo(host, port, FAMILIES[family], kind)
    except socket.gaierror as exc:
        raise ResolveError(f"cannot resolve {host}: {exc.strerror}") from None
    if not infos:
        raise ResolveError(f"cannot resolve {host}: no {family} address")
    return [(info[0], info[4]) for info in infos]


def probe_budget(ctx: CheckContext, wanted: float) -> float:
    """Seconds one probe may take: its own timeout, bounded by what the check has left."""
    return max(0.05, min(wanted, ctx.remaining() - REPORT_MARGIN))


def probe_all(probe: Callable[[T], R], items: Sequence[T], max_parallel: int) -> list[R]:
    """Run ``probe`` on every item concurrently and return the answers in the items' order.

    Each probe bounds its own waits (socket timeouts), so the pool is only a way to overlap them:
    a list of endpoints costs about its slowest member, not the sum.
    """
    if len(items) == 1:
        return [probe(items[0])]
    with cf.ThreadPoolExecutor(max_workers=min(max_parallel, len(items)), thread_name_prefix="probe") as pool:
        return list(pool.map(probe, items))


def elapsed_since(start: float) -> float:
    return time.monotonic() - start
