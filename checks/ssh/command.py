"""ssh_command — run a command on the target over SSH; its exit code is the status, as with Nagios.

Exit 0 is OK, 1 WARNING, 2 CRITICAL, anything else (3, 127 for a missing command, a signal) is
UNKNOWN. Output in the Nagios plugin format (``TEXT | label=value[UOM];warn;crit;min;max``) becomes
the summary and metrics, so any plugin installed on the target (check_disk, check_ntp_time, a site's
own script) runs agentless. The command runs as the SSH user, through its login shell.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from pydantic import Field, field_validator

from checks.base import Check, CheckContext, Outcome, metric
from checks.errors import CheckUnavailable
from checks.params import CheckParams
from checks.plugin_output import UOM, PluginOutput, parse_plugin_output
from checks.result import Metric
from checks.status import Status

EXIT_STATUS = {0: Status.OK, 1: Status.WARNING, 2: Status.CRITICAL}


class SshCommandParams(CheckParams):
    command: str = Field(description="the command line, run through the SSH user's login shell")
    item: str | None = Field(
        default=None, max_length=200, description="item name of the result (default: the command itself)"
    )

    @field_validator("command")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        return value


def metric_name(label: str) -> str:
    """A perfdata label as a metric name (snake_case, starting with a letter)."""
    name = re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_")
    if name in ("", "_"):
        name = "root" if label.strip() == "/" else "value"
    return name if name[0].isalpha() else f"m_{name}"


def perf_metrics(output: PluginOutput) -> list[Metric]:
    figures: list[Metric] = []
    taken: set[str] = set()
    for perf in output.perfdata:
        if perf.value is None:  # "U": the plugin could not determine the value
            continue
        unit, factor = UOM.get(perf.uom, ("", 1.0))
        name = base = metric_name(perf.label)[:90]
        n = 1
        while name in taken:  # "/" and "root" both become "root": keep both
            n += 1
            name = f"{base}_{n}"
        taken.add(name)
        labels = {"label": perf.label}
        if perf.uom not in UOM:
            labels["uom"] = perf.uom
        figures.append(metric(name, perf.value * factor, unit, **labels))
    return figures


class SshCommandCheck(Check):
    name = "ssh_command"
    title = "Run a command over SSH: exit code as status (Nagios plugins), perfdata as metrics"
    Params = SshCommandParams
    connection_kind = "ssh"
    default_timeout = 60.0
    metrics = {
        "exit_code": "the command's exit status",
        "<label>": "each performance-data value, named after its label in snake_case (ms, KB ... in base units)",
    }
    example = "- ssh_command: {command: '/usr/lib/nagios/plugins/check_disk -w 20% -c 10% -p /', item: root-disk}"

    def run(self, ctx: CheckContext, params: SshCommandParams) -> Iterable[Outcome]:
        item = params.item or params.command[:200]
        try:
            conn = ctx.connection("ssh")
            # The command may use all the time the check has left, keeping a moment to report.
            done = conn.run(params.command, timeout=max(0.1, ctx.remaining() - 0.5))
        except (CheckUnavailable, TimeoutError) as exc:
            # Reported here rather than by the base class so the failure keeps its item: several
            # ssh_command tasks on one target must not overwrite each other's results.
            yield Outcome(item=item, summary=self.describe_failure(exc), status=Status.UNKNOWN, collected=False)
            return
        stdout = done.stdout.decode("utf-8", "replace")
        stderr = done.stderr.decode("utf-8", "replace").strip()
        output = parse_plugin_output(stdout)
        status = EXIT_STATUS.get(done.exit_status, Status.UNKNOWN)
        summary = output.text or (stderr.splitlines()[0] if stderr else "")
        if status is Status.UNKNOWN and done.exit_status != 3:
            summary = f"exit {done.exit_status}" + (f": {summary}" if summary else "")
        elif not summary:
            summary = f"exit {done.exit_status}, no output"
        if output.malformed:
            summary += f" (unreadable performance data: {' '.join(output.malformed)[:200]})"
        yield Outcome(
            item=item,
            summary=summary,
            metrics=[metric("exit_code", done.exit_status), *perf_metrics(output)],
            status=status,
        )
