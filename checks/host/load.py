"""load — load averages divided by the number of CPUs."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from pydantic import Field

from checks.base import Check, CheckContext, Outcome, metric
from checks.params import CheckParams
from checks.thresholds import Levels, UpperLimit


class LoadParams(CheckParams):
    warning: UpperLimit = Field(default=0.7, description="load per CPU at which to warn")
    critical: UpperLimit = Field(default=1.5, description="load per CPU at which the state is critical")
    average: Literal["load1", "load5", "load15"] = Field(
        default="load5", description="which average the thresholds apply to"
    )


class LoadCheck(Check):
    name = "load"
    title = "Load average per CPU (1, 5 and 15 minutes)"
    Params = LoadParams
    connection_kind = "host"
    metrics = {
        "load1": "1-minute load average divided by the number of CPUs",
        "load5": "5-minute load average divided by the number of CPUs",
        "load15": "15-minute load average divided by the number of CPUs",
        "cpus": "number of logical CPUs",
    }
    example = "- load: {warning: 0.7, critical: 1.5, average: load15}"

    def run(self, ctx: CheckContext, params: LoadParams) -> Iterable[Outcome]:
        host = ctx.connection("host")
        cpus = host.cpu_count()
        raw = dict(zip(("load1", "load5", "load15"), host.load_average(), strict=True))
        per_cpu = {name: round(value / cpus, 3) for name, value in raw.items()}
        figures = [metric(name, value) for name, value in per_cpu.items()] + [metric("cpus", cpus)]
        summary = "load per CPU {load1:.2f}, {load5:.2f}, {load15:.2f}".format(**per_cpu) + f" ({cpus} CPUs)"
        yield Outcome(
            summary=summary, metrics=figures, levels={params.average: Levels(params.warning, params.critical)}
        )
