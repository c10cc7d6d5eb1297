"""network_interfaces — link state, error and drop rates, and throughput of each interface."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable

from pydantic import Field, PositiveFloat

from checks.base import Check, CheckContext, Outcome, metric
from checks.host.sampling import rates_over_interval
from checks.params import CheckParams
from checks.status import Status
from checks.thresholds import Levels, UpperLimit
from checks.units import format_bytes

# Virtual interfaces that come and go with containers and VMs; their state says nothing of the host.
VIRTUAL = ["lo", "docker*", "veth*", "br-*", "virbr*", "vnet*", "cni*", "flannel*", "cali*", "tun*", "ifb*"]


class NetworkInterfacesParams(CheckParams):
    include: list[str] = Field(default_factory=list, description="interface name patterns to check (default: all)")
    exclude: list[str] = Field(default_factory=lambda: list(VIRTUAL), description="interface name patterns to skip")
    errors_warning: UpperLimit | None = Field(default=1, description="errors per second (in + out) to warn at")
    errors_critical: UpperLimit | None = Field(default=10, description="errors per second to be critical at")
    drops_warning: UpperLimit | None = Field(default=10, description="drops per second (in + out) to warn at")
    drops_critical: UpperLimit | None = Field(default=100, description="drops per second to be critical at")
    utilisation_warning: UpperLimit | None = Field(
        default=90, description="% of link speed (busier direction) to warn at, where the speed is known"
    )
    utilisation_critical: UpperLimit | None = Field(default=None, description="% of link speed, critical")
    link_down: Status = Field(
        default=Status.CRITICAL,
        description="status of an interface that is administratively up but has no carrier",
    )
    interval: PositiveFloat = Field(default=2.0, le=60, description="seconds between samples when none is held")


class NetworkInterfacesCheck(Check):
    name = "network_interfaces"
    title = "Interface link state, error and drop rates, throughput and utilisation"
    Params = NetworkInterfacesParams
    connection_kind = "host"
    metrics = {
        "up": "1 when the link is operationally up, else 0",
        "errors": "receive and transmit errors per second",
        "drops": "received and transmitted packets dropped per second",
        "rx": "bytes received per second",
        "tx": "bytes sent per second",
        "utilisation": "busier direction's throughput as a share of the link speed (%)",
    }
    example = "- network_interfaces: {exclude: [lo, 'docker*'], errors_warning: 1, drops_warning: 10}"

    def run(self, ctx: CheckContext, params: NetworkInterfacesParams) -> Iterable[Outcome]:
        host = ctx.connection("host")
        stats = host.nic_stats()
        names = [n for n in sorted(stats) if self.wanted(n, params)]
        if not names:
            yield Outcome(summary="no interface matches the include/exclude settings", status=Status.UNKNOWN)
            return
        rates = rates_over_interval(
            ctx, "nic_counters", lambda: {n: c for n, c in host.nic_counters().items() if n in names}, params.interval
        )
        for name in names:
            yield self.evaluate(name, stats[name], rates.get(name), params)

    @staticmethod
    def wanted(name: str, params: NetworkInterfacesParams) -> bool:
        if params.include and not any(fnmatch.fnmatchcase(name, p) for p in params.include):
            return False
        return not any(fnmatch.fnmatchcase(name, p) for p in params.exclude)

    @staticmethod
    def evaluate(name, st, rates, params: NetworkInterfacesParams) -> Outcome:
        if not st.admin_up:
            return Outcome(item=name, summary="administratively down", metrics=[metric("up", 0)])
        if not st.running:
            return Outcome(
                item=name, summary="link down (no carrier)", metrics=[metric("up", 0)], status=params.link_down
            )
        figures = [metric("up", 1)]
        summary = "up" + (f", {st.speed_mbps} Mbit/s" if st.speed_mbps else "")
        levels = {}
        if not rates or any(rates.get(k) is None for k in ("errin", "errout", "dropin", "dropout", "bytes_recv")):
            return Outcome(item=name, summary=summary + "; counters were reset, rates next time", metrics=figures)
        errors = rates["errin"] + rates["errout"]
        drops = rates["dropin"] + rates["dropout"]
        rx, tx = rates["bytes_recv"], rates["bytes_sent"]
        figures += [
            metric("errors", round(errors, 3), "/s"),
            metric("drops", round(drops, 3), "/s"),
            metric("rx", round(rx, 1), "B/s"),
            metric("tx", round(tx, 1), "B/s"),
        ]
        levels["errors"] = Levels(params.errors_warning, params.errors_critical)
        levels["drops"] = Levels(params.drops_warning, params.drops_critical)
        summary += f", rx {format_bytes(rx)}/s, tx {format_bytes(tx)}/s, {errors:g} err/s, {drops:g} drop/s"
        if st.speed_mbps > 0:
            utilisation = round(100.0 * max(rx, tx) * 8 / (st.speed_mbps * 1_000_000), 2)
            figures.append(metric("utilisation", utilisation, "%"))
            levels["utilisation"] = Levels(params.utilisation_warning, params.utilisation_critical)
        return Outcome(item=name, summary=summary, metrics=figures, levels=levels)
