"""ping — packet loss, round-trip time and jitter over a series of ICMP echo requests.

Whom it pings: each host in ``hosts`` (one item each), else the target's own address
(``ansible_host``, else its inventory name). Run by the poller it measures the path from the
collector; on an agent host, the agent pings the listed hosts from that host. See checks/links/icmp.py
for the sockets it uses and the permissions they need.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterable

from pydantic import Field, PositiveFloat, model_validator

from checks.base import Check, CheckContext, Outcome, metric
from checks.links.endpoints import Family, ResolveError, probe_all, resolve
from checks.links.icmp import EchoStats, ping
from checks.params import CheckParams
from checks.status import Status
from checks.thresholds import Levels, UpperLimit
from checks.units import format_value

DEFAULT_TIMEOUT = 30.0
SETTLE = 1.0  # seconds of the check's timeout kept for resolving names and reporting


class PingParams(CheckParams):
    hosts: list[str] = Field(
        default_factory=list, description="hosts or addresses to ping, one item each (default: the target's address)"
    )
    count: int = Field(default=10, ge=1, le=1000, description="echo requests sent to each host")
    interval: float = Field(default=0.2, ge=0.01, le=60, description="seconds between two requests")
    reply_timeout: PositiveFloat = Field(
        default=1.0, le=60, description="seconds a reply may take; a later one counts as lost"
    )
    warning: UpperLimit | None = Field(default=20, description="packet loss % above which to warn")
    critical: UpperLimit | None = Field(default=60, description="packet loss % above which critical (100 % always is)")
    rtt_warning: UpperLimit | None = Field(default=None, description="average round-trip seconds above which to warn")
    rtt_critical: UpperLimit | None = Field(default=None, description="average round-trip seconds above which critical")
    jitter_warning: UpperLimit | None = Field(default=None, description="jitter seconds above which to warn")
    jitter_critical: UpperLimit | None = Field(default=None, description="jitter seconds above which critical")
    family: Family = Field(default="auto", description="address family: auto, ipv4 or ipv6")
    max_parallel: int = Field(default=16, ge=1, le=256, description="hosts pinged at the same time")

    @model_validator(mode="after")
    def _fits_in_timeout(self) -> PingParams:
        # A series that cannot finish would end as a bare timeout with no figures; say so up front.
        needed = (self.count - 1) * self.interval + self.reply_timeout
        allowed = (self.timeout or DEFAULT_TIMEOUT) - SETTLE
        if needed > allowed:
            raise ValueError(
                f"count x interval + reply_timeout needs {needed:g} s, more than the check's timeout allows "
                f"({allowed:g} s after {SETTLE:g} s for names and reporting): lower count or interval, or raise timeout"
            )
        return self


class PingCheck(Check):
    name = "ping"
    title = "ICMP echo: packet loss, round-trip time (min/avg/max) and jitter, per host"
    Params = PingParams
    own_connection = True
    default_timeout = DEFAULT_TIMEOUT
    metrics = {
        "loss": "echo requests without a reply within reply_timeout (%)",
        "rtt_min": "shortest round trip (seconds)",
        "rtt_avg": "average round trip (seconds)",
        "rtt_max": "longest round trip (seconds)",
        "jitter": "mean difference between consecutive round trips (seconds)",
        "sent": "echo requests sent",
        "received": "echo replies received in time",
    }
    example = "- ping: {hosts: [core-sw1, 10.0.0.1], count: 20, warning: 20, critical: 60, rtt_warning: 0.1}"

    def run(self, ctx: CheckContext, params: PingParams) -> Iterable[Outcome]:
        hosts = params.hosts or [ctx.target.address]
        yield from probe_all(lambda host: self.probe(ctx, params, host), hosts, params.max_parallel)

    def probe(self, ctx: CheckContext, params: PingParams, host: str) -> Outcome:
        try:
            family, sockaddr = resolve(host, None, params.family, socket.SOCK_RAW)[0]
        except ResolveError as exc:
            return Outcome(item=host, summary=str(exc), status=Status.CRITICAL, metrics=[metric("loss", 100, "%")])
        deadline = time.monotonic() + max(0.05, ctx.remaining() - 0.5)
        stats = ping(family, sockaddr, params.count, params.interval, params.reply_timeout, deadline)
        return self.evaluate(host, sockaddr[0], stats, params)

    @staticmethod
    def evaluate(host: str, address: str, stats: EchoStats, params: PingParams) -> Outcome:
        loss = round(stats.loss_percent, 2)
        figures = [metric("loss", loss, "%"), metric("sent", stats.sent), metric("received", stats.received)]
        levels = {"loss": Levels(params.warning, params.critical)}
        shown = host if host == address else f"{host} ({address})"
        if not stats.received:
            reason = f"; {stats.errors[-1]}" if stats.errors else ""
            return Outcome(
                item=host,
                summary=f"{shown}: no reply to {stats.sent} echo requests (100% loss{reason})",
                metrics=figures,
                status=Status.CRITICAL,  # whatever the thresholds say, a silent link is down
            )
        rtts = stats.rtts
        avg = sum(rtts) / len(rtts)
        figures += [
            metric("rtt_min", round(min(rtts), 6), "s"),
            metric("rtt_avg", round(avg, 6), "s"),
            metric("rtt_max", round(max(rtts), 6), "s"),
        ]
        levels["rtt_avg"] = Levels(params.rtt_warning, params.rtt_critical)
        summary = (
            f"{shown}: {loss:g}% loss ({stats.received}/{stats.sent}), rtt min/avg/max "
            f"{ms(min(rtts))}/{ms(avg)}/{ms(max(rtts))} ms"
        )
        jitter = stats.jitter
        if jitter is not None:
            figures.append(metric("jitter", round(jitter, 6), "s"))
            levels["jitter"] = Levels(params.jitter_warning, params.jitter_critical)
            summary += f", jitter {ms(jitter)} ms"
        return Outcome(item=host, summary=summary, metrics=figures, levels=levels)


def ms(seconds: float) -> str:
    return format_value(round(seconds * 1000, 3))
