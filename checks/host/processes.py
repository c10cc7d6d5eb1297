"""processes — process count against pid_max, zombies, and processes that must be running."""

from __future__ import annotations

import os
from collections.abc import Iterable

from pydantic import Field

from checks.base import Check, CheckContext, Outcome, metric
from checks.host.source import Process
from checks.params import CheckParams
from checks.status import Status
from checks.thresholds import Levels, UpperLimit


class ProcessesParams(CheckParams):
    warning: UpperLimit = Field(default=80, description="process count as % of pid_max at which to warn")
    critical: UpperLimit = Field(default=90, description="process count as % of pid_max at which critical")
    zombies_warning: UpperLimit = Field(default=0, description="zombie count above which to warn (0: any zombie)")
    zombies_critical: UpperLimit = Field(default=10, description="zombie count above which the state is critical")
    required: list[str] = Field(
        default_factory=list,
        description="process names that must be running (matched against the name, executable and argv[0])",
    )


def matches(process: Process, wanted: str) -> bool:
    # Linux truncates the process name to 15 characters, so also look at the executable and argv[0].
    names = {process.name, os.path.basename(process.exe), os.path.basename(process.argv0)}
    return wanted in names or (len(wanted) > 15 and process.name == wanted[:15])


class ProcessesCheck(Check):
    name = "processes"
    title = "Process count vs pid_max, zombie processes, required processes running"
    Params = ProcessesParams
    connection_kind = "host"
    metrics = {
        "total": "number of processes",
        "pid_usage": "number of processes as a share of kernel.pid_max (%)",
        "zombies": "number of zombie (defunct) processes",
        "count": "number of processes matching a required name (item: the name)",
    }
    example = "- processes: {required: [sshd, crond], zombies_critical: 20}"

    def run(self, ctx: CheckContext, params: ProcessesParams) -> Iterable[Outcome]:
        host = ctx.connection("host")
        procs = host.processes(details=bool(params.required))
        pid_max = host.pid_max()
        zombies = sum(1 for p in procs if p.status == "zombie")
        figures = [metric("total", len(procs)), metric("zombies", zombies)]
        levels = {"zombies": Levels(params.zombies_warning, params.zombies_critical)}
        summary = f"{len(procs)} processes"
        if pid_max > 0:
            usage = round(100.0 * len(procs) / pid_max, 3)
            figures.append(metric("pid_usage", usage, "%"))
            levels["pid_usage"] = Levels(params.warning, params.critical)
            summary += f" ({usage:.2f}% of pid_max {pid_max})"
        summary += f", {zombies} zombie{'s' if zombies != 1 else ''}"
        yield Outcome(summary=summary, metrics=figures, levels=levels)
        for wanted in params.required:
            count = sum(1 for p in procs if matches(p, wanted))
            yield Outcome(
                item=wanted,
                summary=f"{count} running" if count else "not running",
                metrics=[metric("count", count)],
                status=Status.OK if count else Status.CRITICAL,
            )
