"""systemd_units — failed systemd units, and units that must be active but are not.

Reads ``systemctl list-units --all --output=json`` (systemd 246 and later; older systemd gets the
same table from ``--plain --no-legend``), so one call sees every loaded unit. Two kinds of item:

- ``failed units``: every unit in the ``failed`` state that the ``ignore`` patterns do not cover,
  at ``failed_status`` (WARNING by default: a failed one-shot job is worth a look, not a page);
- one item per ``required`` pattern: CRITICAL unless each unit it names is active. A bare name is a
  service (``sshd`` is ``sshd.service``); globs (``postgresql@*``) need at least one matching unit.
  A required unit that is not loaded at all (never started since boot, or no such unit) is looked up
  with ``systemctl show`` so the summary says which it is.

Listing units needs no privileges. A host whose PID 1 is not systemd, or where systemctl cannot reach
the manager ("Failed to connect to bus", usual in containers), is UNKNOWN with systemctl's reason.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from pydantic import Field, field_validator

from checks.base import Check, CheckContext, Outcome, metric
from checks.errors import CheckUnavailable
from checks.params import CheckParams
from checks.platform.common import run_tool
from checks.status import Status

# Unit types systemd knows: a pattern ending in one of them is taken as written.
UNIT_SUFFIXES = (".service", ".socket", ".target", ".device", ".mount", ".automount", ".swap", ".timer",
                 ".path", ".slice", ".scope")  # fmt: skip


def unit_pattern(name: str) -> str:
    """``sshd`` → ``sshd.service``; names with a unit suffix (or ending in a glob) stay as they are."""
    if name.endswith(UNIT_SUFFIXES) or name.endswith("*"):
        return name
    return name + ".service"


class SystemdUnitsParams(CheckParams):
    required: list[str] = Field(
        default_factory=list,
        description="units that must be active: names or globs (a bare name is a .service: sshd, postgresql@*)",
    )
    ignore: list[str] = Field(
        default_factory=list, description="failed units to disregard (names or globs, e.g. 'dnf-makecache.*')"
    )
    failed_status: Literal["WARNING", "CRITICAL"] = Field(
        default="WARNING", description="status of the 'failed units' item when a unit has failed"
    )
    command: str = Field(default="systemctl", min_length=1, description="the systemctl program on the host")

    @field_validator("required", "ignore")
    @classmethod
    def _names(cls, names: list[str]) -> list[str]:
        for name in names:
            if not name.strip() or any(c.isspace() for c in name):
                raise ValueError(f"expected a unit name or glob without spaces, got {name!r}")
        return names


# -- parsing (pure) ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Unit:
    name: str
    load: str  # loaded, not-found, masked, error, bad-setting
    active: str  # active, inactive, failed, activating, deactivating, reloading
    sub: str  # running, exited, dead, failed, auto-restart, ...
    description: str = ""

    @property
    def state(self) -> str:
        return f"{self.active} ({self.sub})" if self.sub and self.sub != self.active else self.active


def parse_json(text: str) -> list[Unit]:
    """Units of ``systemctl list-units --output=json``; ValueError when it is not that table."""
    rows = json.loads(text)
    if not isinstance(rows, list):
        raise ValueError("expected a JSON list of units")
    return [Unit(str(r["unit"]), str(r.get("load", "")), str(r.get("active", "")), str(r.get("sub", "")),
                 str(r.get("description") or "")) for r in rows]  # fmt: skip


def parse_plain(text: str) -> list[Unit]:
    """Units of ``systemctl list-units --plain --no-legend``: UNIT LOAD ACTIVE SUB DESCRIPTION."""
    units = []
    for line in text.splitlines():
        words = line.split(None, 4)
        if words and words[0] in ("●", "*"):  # the failure marker, should --plain not have removed it
            words = line.split(None, 5)[1:]
        if len(words) >= 4:
            units.append(Unit(words[0], words[1], words[2], words[3], words[4] if len(words) > 4 else ""))
    return units


def parse_show(text: str, names: list[str]) -> dict[str, dict[str, str]]:
    """``systemctl show -p Id,LoadState,...`` for ``names``: one block per name, in their order.

    Keyed by the name asked for, not by ``Id``: an alias (Debian's ``sshd.service``) answers with the
    unit it stands for (``Id=ssh.service``).
    """
    blocks = [dict(line.split("=", 1) for line in block.splitlines() if "=" in line) for block in text.split("\n\n")]
    blocks = [b for b in blocks if b]
    return dict(zip(names, blocks, strict=True)) if len(blocks) == len(names) else {}


def matches(name: str, patterns: Iterable[str]) -> bool:
    return any(fnmatch.fnmatchcase(name, unit_pattern(p)) for p in patterns)


def failed_outcome(units: list[Unit], ignore: list[str], status: Status) -> Outcome:
    failed = [u for u in units if u.active == "failed"]
    counted = [u for u in failed if not matches(u.name, ignore)]
    figures = [metric("units", len(units)), metric("failed_units", len(counted)),
               metric("ignored_failed_units", len(failed) - len(counted))]  # fmt: skip
    ignored = f" ({len(failed) - len(counted)} ignored)" if len(failed) > len(counted) else ""
    if not counted:
        return Outcome(item="failed units", status=Status.OK, metrics=figures,
                       summary=f"no failed units among {len(units)}{ignored}")  # fmt: skip
    names = ", ".join(u.name for u in counted[:10]) + (f" and {len(counted) - 10} more" if len(counted) > 10 else "")
    return Outcome(item="failed units", status=status, metrics=figures,
                   summary=f"{len(counted)} failed unit(s): {names}{ignored}")  # fmt: skip


def required_outcome(pattern: str, units: list[Unit], shown: dict[str, dict[str, str]]) -> Outcome:
    wanted = unit_pattern(pattern)
    found = [u for u in units if fnmatch.fnmatchcase(u.name, wanted) and u.load != "not-found"]
    if not found and wanted in shown:  # an exact name list-units did not show: what systemctl show says of it
        props = shown[wanted]
        real = props.get("Id") or wanted
        name = wanted if real == wanted else f"{wanted} ({real})"
        found = [Unit(name, props.get("LoadState", ""), props.get("ActiveState", ""), props.get("SubState", ""))]
    found = [u for u in found if u.load != "not-found"]
    if not found:
        what = "no such unit" if not any(c in wanted for c in "*?[") else "no unit matches"
        return Outcome(item=wanted, status=Status.CRITICAL, metrics=[metric("active", 0)],
                       summary=f"{what} ({wanted} is not loaded)")  # fmt: skip
    down = [u for u in found if u.active != "active"]
    figures = [metric("active", len(found) - len(down))]
    if len(found) > 1:
        figures.append(metric("matched", len(found)))
    if not down:
        states = ", ".join(f"{u.name} {u.state}" for u in found[:5]) + (" ..." if len(found) > 5 else "")
        return Outcome(item=wanted, status=Status.OK, metrics=figures, summary=states)
    details = []
    for unit in down:
        why = unit.state
        if unit.load not in ("loaded", ""):
            why += f", {unit.load}"  # masked, error, bad-setting: why it cannot start
        details.append(f"{unit.name} {why}")
    summary = "not active: " + "; ".join(details)
    if len(found) > len(down):
        summary += f" ({len(found) - len(down)} of {len(found)} active)"
    return Outcome(item=wanted, status=Status.CRITICAL, metrics=figures, summary=summary)


# -- the check ----------------------------------------------------------------------------------


class SystemdUnitsCheck(Check):
    name = "systemd_units"
    title = "systemd: failed units, and required units that are not active"
    Params = SystemdUnitsParams
    connection_kind = "shell"
    metrics = {
        "units": "units loaded by systemd (systemctl list-units --all)",
        "failed_units": "units in the failed state, less the ignored ones",
        "ignored_failed_units": "failed units the 'ignore' patterns cover",
        "active": "required units (of the pattern) that are active",
        "matched": "units a required glob matched",
    }
    example = "- systemd_units: {required: [sshd, chrony, 'postgresql@*'], ignore: [dnf-makecache.service]}"

    def run(self, ctx: CheckContext, params: SystemdUnitsParams) -> Iterable[Outcome]:
        units = self._list(ctx, params)
        yield failed_outcome(units, params.ignore, Status[params.failed_status])
        if not params.required:
            return
        loaded = {u.name for u in units if u.load != "not-found"}
        unseen = [unit_pattern(p) for p in params.required
                  if not any(c in p for c in "*?[") and unit_pattern(p) not in loaded]  # fmt: skip
        shown = self._show(ctx, params, unseen) if unseen else {}
        for pattern in params.required:
            yield required_outcome(pattern, units, shown)

    def _list(self, ctx: CheckContext, params: SystemdUnitsParams) -> list[Unit]:
        base = [params.command, "list-units", "--all", "--no-pager", "--full"]
        done = run_tool(ctx, [*base, "--output=json"])
        if done.exit_status == 0:
            try:
                return parse_json(done.stdout.decode("utf-8", "replace"))
            except (ValueError, KeyError, TypeError):
                pass  # a systemd without JSON tables: the plain form below
        elif _no_manager(done.error_text()):
            _unavailable(done.error_text(), done.exit_status)
        # else an older systemctl refusing --output=json ("Unknown output"): ask for the plain table
        plain = run_tool(ctx, [*base, "--plain", "--no-legend"])
        if plain.exit_status != 0:
            _unavailable(plain.error_text(), plain.exit_status)
        return parse_plain(plain.stdout.decode("utf-8", "replace"))

    def _show(self, ctx: CheckContext, params: SystemdUnitsParams, names: list[str]) -> dict[str, dict[str, str]]:
        props = "--property=Id,LoadState,ActiveState,SubState"
        done = run_tool(ctx, [params.command, "show", props, "--no-pager", "--", *names])
        return parse_show(done.stdout.decode("utf-8", "replace"), names) if done.exit_status == 0 else {}


def _no_manager(error: str) -> bool:
    return "booted with systemd" in error or "Failed to connect to bus" in error


def _unavailable(error: str, exit_status: int) -> None:
    if "booted with systemd" in error:
        raise CheckUnavailable(f"systemd is not the init system (PID 1) on this host: {error}")
    if "Failed to connect to bus" in error:
        raise CheckUnavailable(f"systemctl cannot reach the system manager: {error}")
    raise CheckUnavailable(f"systemctl list-units failed (exit status {exit_status}): {error or 'no message'}")
