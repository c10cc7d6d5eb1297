"""ssh_command — run a command on the target over SSH; its exit code is the status, as with Nagios.

Exit 0 is OK, 1 WARNING, 2 CRITICAL, anything else (3, 127 for a missing command, a signal) is
UNKNOWN. Output in the Nagios plugin format (``TEXT | label=value[UOM];warn;crit;min;max``) becomes
the summary and metrics, so any plugin installed on the target (check_disk, check_ntp_time, a site's
own script) runs agentless. The command runs as the SSH user, through its login shell.
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import Field, field_validator

from checks.base import Check, CheckContext, Outcome, metric
from checks.errors import CheckUnavailable
from checks.params import CheckParams
from checks.plugin_output import EXIT_STATUS, parse_plugin_output, perf_metrics, plugin_summary
from checks.plugin_output import metric_name as metric_name  # re-exported: older imports name it here
from checks.status import Status


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
        stderr = done.stderr.decode("utf-8", "replace")
        output = parse_plugin_output(stdout)
        yield Outcome(
            item=item,
            summary=plugin_summary(done.exit_status, output, stderr),
            metrics=[metric("exit_code", done.exit_status), *perf_metrics(output)],
            status=EXIT_STATUS.get(done.exit_status, Status.UNKNOWN),
        )
