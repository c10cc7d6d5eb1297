"""nagios — run any Nagios-compatible plugin here: its exit code is the status, its perfdata the metrics.

The plugin runs where the check runs: on the collector for agentless targets (like Nagios itself,
usually against ``-H {host}``), on the host's own agent for agent hosts. To run a plugin *on* a remote
host without an agent, use ``ssh_command``. Arguments are a list, never a shell string, so nothing in
them is interpreted by a shell. ``{host}`` in an argument becomes the target's address; an argument
written ``{secret: VARIABLE}`` is the inventory variable's secret (``{env: ...}`` or ``{file: ...}``),
resolved at run time and scrubbed from every message.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from checks.base import Check, CheckContext, Outcome, metric
from checks.errors import CheckUnavailable
from checks.params import CheckParams
from checks.plugin_output import EXIT_STATUS, parse_plugin_output, perf_metrics, plugin_summary
from checks.plugins.process import ProcessTimedOut, run_program
from checks.status import Status

PLUGIN_DIR = "/usr/lib/nagios/plugins"
# Plugins get a small, fixed environment, not the collector's or agent's own: that holds the very
# variables secrets are referenced from ({env: NAME}) and tokens, which a third-party plugin has no
# business reading. The C locale keeps perfdata decimals as dots and messages in one language.
PLUGIN_ENV = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C", "LANG": "C"}
HOST_PLACEHOLDER = "{host}"

NonEmpty = Annotated[str, StringConstraints(min_length=1)]


class SecretArgument(BaseModel):
    """An argument taken from an inventory variable holding a secret reference."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    secret: NonEmpty = Field(description="name of the inventory variable holding the secret reference")


class NagiosParams(CheckParams):
    plugin: NonEmpty = Field(
        description="the plugin: an absolute path, or a name resolved in plugin_dir (e.g. check_disk)"
    )
    args: list[str | SecretArgument] = Field(
        default_factory=list,
        description="arguments, one list element each (no shell); '{host}' becomes the target's address; "
        "{secret: VARIABLE} is an inventory variable's secret",
    )
    plugin_dir: NonEmpty = Field(default=PLUGIN_DIR, description="where plugin names without a leading / are found")
    item: str | None = Field(
        default=None, max_length=200, description="item name of the result (default: the plugin and its arguments)"
    )
    env: dict[str, str] = Field(
        default_factory=dict,
        description="environment variables for the plugin besides PATH and LC_ALL=C (not for secrets); "
        "the collector's or agent's own environment is not passed on",
    )

    @field_validator("plugin_dir")
    @classmethod
    def _absolute(cls, value: str) -> str:
        if not value.startswith("/"):
            raise ValueError("must be an absolute path")
        return value


def plugin_path(params: NagiosParams) -> Path:
    path = Path(params.plugin)
    return path if path.is_absolute() else Path(params.plugin_dir) / path


class NagiosCheck(Check):
    name = "nagios"
    title = "Run a Nagios-compatible plugin: exit code as status, perfdata as metrics in base units"
    Params = NagiosParams
    own_connection = True
    default_timeout = 30.0
    metrics = {
        "exit_code": "the plugin's exit status",
        "<label>": "each performance-data value, named after its label in snake_case "
        "(KB/MB/GB/TB in bytes, ms/us in seconds; the label and any unknown unit as labels)",
    }
    example = "- nagios: {plugin: check_tcp, args: ['-H', '{host}', '-p', '443'], item: https-port}"

    def run(self, ctx: CheckContext, params: NagiosParams) -> Iterable[Outcome]:
        path = plugin_path(params)
        shown = [a if isinstance(a, str) else "***" for a in params.args]
        item = params.item or " ".join([params.plugin, *shown])[:200]
        try:
            argv = [str(path), *self.arguments(ctx, params)]
            if not path.is_file():
                raise CheckUnavailable(f"plugin {path} does not exist (plugin: {params.plugin!r})")
            if not os.access(path, os.X_OK):
                raise CheckUnavailable(f"plugin {path} is not executable by this user")
            # The plugin may use all the time the check has left, keeping a moment to report.
            done = run_program(argv, timeout=max(0.1, ctx.remaining() - 0.5), env={**PLUGIN_ENV, **params.env})
        except (CheckUnavailable, ProcessTimedOut, OSError) as exc:
            # Reported here, with the item, so several nagios tasks on one target keep apart.
            yield Outcome(item=item, summary=self.describe_failure(exc), status=Status.UNKNOWN, collected=False)
            return
        output = parse_plugin_output(done.stdout)
        summary = plugin_summary(done.exit_status, output, done.stderr)
        if done.exit_status < 0:
            summary = f"killed by signal {-done.exit_status}" + (f": {output.text}" if output.text else "")
        yield Outcome(
            item=item,
            summary=summary,
            metrics=[metric("exit_code", done.exit_status), *perf_metrics(output)],
            status=EXIT_STATUS.get(done.exit_status, Status.UNKNOWN),
        )

    @staticmethod
    def arguments(ctx: CheckContext, params: NagiosParams) -> list[str]:
        out = []
        for arg in params.args:
            if isinstance(arg, SecretArgument):
                value = ctx.secret(arg.secret)  # registered with the scrubber as it is resolved
                if value is None:
                    raise CheckUnavailable(f"args: inventory variable {arg.secret!r} is not set for this target")
                out.append(value)
            else:
                out.append(arg.replace(HOST_PLACEHOLDER, ctx.target.address))
        return out
