"""cpu — CPU utilisation over a sampling interval, with iowait and steal where the OS has them."""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import Field, PositiveFloat

from checks.base import Check, CheckContext, Outcome, metric
from checks.host.sampling import rates_over_interval
from checks.params import CheckParams
from checks.thresholds import Levels, UpperLimit

# Linux counts guest time inside user and nice as well; adding it again would inflate the total.
_NOT_IN_TOTAL = {"guest", "guest_nice"}
_IDLE = {"idle", "iowait"}


class CpuParams(CheckParams):
    warning: UpperLimit = Field(default=80, description="utilisation % (all CPUs) at which to warn")
    critical: UpperLimit = Field(default=90, description="utilisation % at which the state is critical")
    iowait_warning: UpperLimit | None = Field(default=20, description="% of time waiting for I/O")
    iowait_critical: UpperLimit | None = Field(default=None, description="% of time waiting for I/O, critical")
    steal_warning: UpperLimit | None = Field(default=10, description="% of time stolen by the hypervisor")
    steal_critical: UpperLimit | None = Field(default=None, description="% of time stolen, critical")
    interval: PositiveFloat = Field(
        default=2.0, le=60, description="seconds between the two samples when no earlier sample is held"
    )


class CpuCheck(Check):
    name = "cpu"
    title = "CPU utilisation, iowait and steal over a sampling interval"
    Params = CpuParams
    connection_kind = "host"
    metrics = {
        "utilisation": "share of CPU time not idle and not waiting for I/O, all CPUs (%)",
        "user": "share of CPU time in user space, including nice (%)",
        "system": "share of CPU time in the kernel, including interrupts (%)",
        "iowait": "share of CPU time idle while waiting for I/O (%), where the OS reports it",
        "steal": "share of CPU time taken by the hypervisor for other guests (%), where reported",
    }
    example = "- cpu: {warning: 80, critical: 90, interval: 5}"

    def run(self, ctx: CheckContext, params: CpuParams) -> Iterable[Outcome]:
        host = ctx.connection("host")
        rates = rates_over_interval(ctx, "cpu_times", lambda: {"cpu": host.cpu_times()}, params.interval)["cpu"]
        if any(value is None for value in rates.values()):
            raise RuntimeError("CPU time counters went backwards between samples; try again")
        total = sum(v for k, v in rates.items() if k not in _NOT_IN_TOTAL)
        if total <= 0:
            raise RuntimeError("no CPU time elapsed between samples")

        def share(*names: str) -> float:
            return round(100.0 * sum(rates.get(n) or 0.0 for n in names) / total, 2)

        busy = round(100.0 - share(*(_IDLE & rates.keys())), 2)
        figures = [
            metric("utilisation", busy, "%"),
            metric("user", share("user", "nice"), "%"),
            metric("system", share("system", "irq", "softirq"), "%"),
        ]
        levels = {"utilisation": Levels(params.warning, params.critical)}
        summary = f"{busy:.1f}% busy"
        for extra, warn, crit in (
            ("iowait", params.iowait_warning, params.iowait_critical),
            ("steal", params.steal_warning, params.steal_critical),
        ):
            if extra in rates:
                figures.append(metric(extra, share(extra), "%"))
                levels[extra] = Levels(warn, crit)
                summary += f", {extra} {share(extra):.1f}%"
        yield Outcome(summary=summary, metrics=figures, levels=levels)
