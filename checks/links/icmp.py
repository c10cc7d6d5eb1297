"""ICMP echo without privileges where the system allows it, with a raw socket where we are root.

Linux lets ordinary users send echo requests through ICMP *datagram* sockets
(``socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP)``) when one of their groups is inside the sysctl
``net.ipv4.ping_group_range`` (per network namespace; it covers IPv6 too). The kernel then owns the
echo identifier and hands each socket only its own replies. Otherwise a raw socket needs root or
CAP_NET_RAW, and sees every ICMP packet of the host, so replies are matched by identifier, sequence and
a random token in the payload.

Probes are pipelined as ping(8) does: one every ``interval``, replies collected as they come; a
reply later than ``reply_timeout`` after its request counts as lost.
"""

from __future__ import annotations

import itertools
import os
import select
import socket
import struct
import time
from dataclasses import dataclass, field

from checks.errors import CheckUnavailable

ECHO_REQUEST = {socket.AF_INET: 8, socket.AF_INET6: 128}
ECHO_REPLY = {socket.AF_INET: 0, socket.AF_INET6: 129}
PROTOCOL = {socket.AF_INET: socket.IPPROTO_ICMP, socket.AF_INET6: socket.IPPROTO_ICMPV6}
PING_GROUP_RANGE = "/proc/sys/net/ipv4/ping_group_range"
_HEADER = struct.Struct("!BBHHH")  # type, code, checksum, identifier, sequence
PAYLOAD_SIZE = 56  # as ping(8): 64 bytes of ICMP


class IcmpUnavailable(CheckUnavailable):
    """Neither kind of ICMP socket may be opened by this process."""


@dataclass
class EchoStats:
    sent: int = 0
    rtts: list[float] = field(default_factory=list)  # seconds, in sequence order of the answered probes
    errors: list[str] = field(default_factory=list)  # send or receive errors (network unreachable ...)
    raw: bool = False  # sent through a raw socket (root) rather than an ICMP datagram socket

    @property
    def received(self) -> int:
        return len(self.rtts)

    @property
    def loss_percent(self) -> float:
        return 100.0 * (self.sent - self.received) / self.sent if self.sent else 100.0

    @property
    def jitter(self) -> float | None:
        """Mean difference between consecutive round-trip times (as RFC 3550 smooths it, unsmoothed)."""
        if len(self.rtts) < 2:
            return None
        return sum(abs(b - a) for a, b in itertools.pairwise(self.rtts)) / (len(self.rtts) - 1)


def open_icmp_socket(family: int) -> tuple[socket.socket, bool]:
    """An ICMP datagram socket if allowed, else a raw one; (socket, is_raw). IcmpUnavailable otherwise."""
    proto = PROTOCOL[family]
    try:
        return socket.socket(family, socket.SOCK_DGRAM, proto), False
    except OSError as dgram_error:
        try:
            return socket.socket(family, socket.SOCK_RAW, proto), True
        except PermissionError:
            raise IcmpUnavailable(unavailable_message(dgram_error)) from None


def unavailable_message(dgram_error: OSError) -> str:
    try:
        with open(PING_GROUP_RANGE, encoding="ascii") as f:
            allowed = " ".join(f.read().split())
    except OSError:
        allowed = "unreadable"
    groups = sorted({os.getgid(), *os.getgroups()})
    return (
        f"cannot send ICMP echo: an unprivileged ICMP socket was refused ({dgram_error.strerror}; sysctl "
        f"net.ipv4.ping_group_range is '{allowed}', this process's groups are {groups}) and a raw socket needs "
        "root or CAP_NET_RAW; allow a group of this user, e.g. sysctl -w net.ipv4.ping_group_range='0 2147483647'"
    )


def checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return ~total & 0xFFFF


def echo_request(family: int, ident: int, seq: int, payload: bytes) -> bytes:
    header = _HEADER.pack(ECHO_REQUEST[family], 0, 0, ident, seq)
    # IPv6 checksums cover a pseudo header the kernel fills in; for IPv4 we compute it (the kernel
    # does it too for datagram sockets, but a raw socket sends what it is given).
    value = checksum(header + payload) if family == socket.AF_INET else 0
    return _HEADER.pack(ECHO_REQUEST[family], 0, value, ident, seq) + payload


def parse_reply(family: int, data: bytes, raw: bool) -> tuple[int, int, int, bytes] | None:
    """(type, identifier, sequence, payload) of an ICMP message as received, or None if too short."""
    if raw and family == socket.AF_INET:  # raw IPv4 sockets deliver the IP header too
        if not data:
            return None
        data = data[(data[0] & 0x0F) * 4 :]
    if len(data) < _HEADER.size:
        return None
    kind, _code, _sum, ident, seq = _HEADER.unpack_from(data)
    return kind, ident, seq, data[_HEADER.size :]


def ping(
    family: int, sockaddr: tuple, count: int, interval: float, reply_timeout: float, deadline: float
) -> EchoStats:
    """Send ``count`` echo requests to ``sockaddr`` and collect the replies; never past ``deadline``."""
    sock, raw = open_icmp_socket(family)
    stats = EchoStats(raw=raw)
    with sock:
        sock.setblocking(False)
        token = os.urandom(8)
        payload = token + bytes(PAYLOAD_SIZE - len(token))
        ident = int.from_bytes(os.urandom(2), "big")  # the kernel replaces it on datagram sockets
        sent_at: dict[int, float] = {}
        answered: dict[int, float] = {}
        next_send = time.monotonic()
        wait_until = deadline
        while True:
            now = time.monotonic()
            if now >= deadline:
                break
            if stats.sent < count and now >= next_send:
                seq = stats.sent
                stats.sent += 1
                sent_at[seq] = now
                try:
                    sock.sendto(echo_request(family, ident, seq, payload), sockaddr)
                except OSError as exc:  # network unreachable, no buffer space: the probe is lost
                    stats.errors.append(exc.strerror or str(exc))
                next_send += interval
                if stats.sent == count:
                    wait_until = min(deadline, now + reply_timeout)
                continue
            if stats.sent == count and (len(answered) == count or now >= wait_until):
                break
            wake = next_send if stats.sent < count else wait_until
            readable, _, _ = select.select([sock], [], [], max(0.0, min(wake, deadline) - now))
            if readable:
                _drain(sock, family, raw, ident, token, sent_at, answered, reply_timeout, stats)
        stats.rtts = [answered[seq] for seq in sorted(answered)]
    return stats


def _drain(sock, family, raw, ident, token, sent_at, answered, reply_timeout, stats) -> None:
    while True:
        try:
            data = sock.recv(2048)
        except BlockingIOError:
            return
        except OSError as exc:  # an ICMP error queued on the socket (host unreachable ...)
            stats.errors.append(exc.strerror or str(exc))
            return
        received_at = time.monotonic()
        reply = parse_reply(family, data, raw)
        if reply is None:
            continue
        kind, reply_ident, seq, payload = reply
        if kind != ECHO_REPLY[family] or not payload.startswith(token):
            continue  # another program's ICMP, or our own request looped back on a raw socket
        if raw and reply_ident != ident:
            continue
        sent = sent_at.get(seq)
        if sent is None or seq in answered:
            continue  # unknown or duplicate reply
        rtt = received_at - sent
        if rtt <= reply_timeout:
            answered[seq] = rtt
