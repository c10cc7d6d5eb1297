"""raid — Linux software RAID (md) arrays from ``/proc/mdstat``, one item per array.

An array is CRITICAL when it is degraded (members missing, ``[U_]``, or failed, ``(F)``) with no
rebuild running, or inactive; WARNING while it rebuilds onto a new member (``recovery``) or
resynchronises (``resync``, after an unclean shutdown or on creation: redundancy is not there until it
ends) or waits to (``resync=DELAYED/PENDING``); OK while it is being checked or repaired (the
periodic scrub). Progress and the kernel's estimate of the time left are figures.

The file is read through the shell connection (locally, or ``tail`` over SSH); no privileges are
needed. Hardware RAID controllers are not visible here: the redfish_health check reads them from the
server's BMC.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from pydantic import Field

from checks.base import Check, CheckContext, Outcome, metric
from checks.errors import CheckUnavailable
from checks.params import CheckParams
from checks.platform.common import shell_for
from checks.status import Status

MDSTAT = "/proc/mdstat"


class RaidParams(CheckParams):
    required: bool = Field(
        default=False, description="UNKNOWN instead of OK when the host has no software RAID array"
    )
    arrays: list[str] = Field(
        default_factory=list, description="arrays that must exist (md0, md1): CRITICAL when one is missing"
    )
    mdstat_path: str = Field(
        default=MDSTAT, pattern=r"^/", description="the file to read (another path only for tests and replays)"
    )


# -- parsing (pure) ------------------------------------------------------------------------------


@dataclass
class Member:
    device: str
    role: int
    flags: str = ""  # F failed, S spare, W write-mostly, J journal, R replacement


@dataclass
class Array:
    name: str
    state: str  # active, inactive
    level: str = ""  # raid1, raid5, ... ("" for an inactive array)
    read_only: str = ""  # "read-only", "auto-read-only"
    members: list[Member] = field(default_factory=list)
    slots: int | None = None  # [n/m]: n devices the array should have
    working: int | None = None  # m of them working
    map: str = ""  # [UU_U]
    sync_action: str = ""  # recovery, resync, check, repair, reshape
    sync_progress: float | None = None  # percent
    sync_eta: float | None = None  # seconds
    sync_waiting: str = ""  # DELAYED, PENDING

    @property
    def failed(self) -> list[str]:
        return [m.device for m in self.members if "F" in m.flags]

    @property
    def spares(self) -> list[str]:
        return [m.device for m in self.members if "S" in m.flags]

    @property
    def missing(self) -> int:
        if self.map:
            return self.map.count("_")
        return max(0, (self.slots or 0) - (self.working or 0))


_ARRAY = re.compile(r"^(md[\w/]+)\s*:\s*(active|inactive)(?:\s+\(([\w-]+)\))?\s*(.*)$")
_MEMBER = re.compile(r"^(\S+)\[(\d+)\]((?:\([A-Z]\))*)$")
_STATUS = re.compile(r"\[(\d+)/(\d+)\]\s+\[([U_]+)\]")
_SYNC = re.compile(r"(recovery|resync|reshape|check|repair)\s*=\s*([\d.]+)%")
_FINISH = re.compile(r"finish=([\d.]+)min")
_WAITING = re.compile(r"(resync|recovery|reshape|check)\s*=\s*(DELAYED|PENDING|REMOTE)")


def parse_mdstat(text: str) -> tuple[list[str], list[Array]]:
    """The personalities line and the arrays of a /proc/mdstat text, in the kernel's order."""
    personalities: list[str] = []
    arrays: list[Array] = []
    current: Array | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("Personalities"):
            personalities = re.findall(r"\[(\w+)\]", line)
            continue
        if line.startswith("unused devices"):
            current = None
            continue
        found = _ARRAY.match(line)
        if found:
            name, state, read_only, rest = found.groups()
            current = Array(name=name, state=state, read_only=read_only or "")
            words = rest.split()
            if state == "active" and words and not _MEMBER.match(words[0]):
                current.level = words.pop(0)
            for word in words:
                member = _MEMBER.match(word)
                if member:
                    flags = "".join(re.findall(r"\(([A-Z])\)", member.group(3)))
                    current.members.append(Member(member.group(1), int(member.group(2)), flags))
            arrays.append(current)
            continue
        if current is None or not line:
            continue
        status = _STATUS.search(line)
        if status:
            current.slots, current.working, current.map = int(status.group(1)), int(status.group(2)), status.group(3)
        sync = _SYNC.search(line)
        if sync:
            current.sync_action = sync.group(1)
            current.sync_progress = float(sync.group(2))
            finish = _FINISH.search(line)
            if finish:
                current.sync_eta = round(float(finish.group(1)) * 60, 1)
        waiting = _WAITING.search(line)
        if waiting:
            current.sync_action, current.sync_waiting = waiting.group(1), waiting.group(2)
    return personalities, arrays


def _minutes(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 2 * 3600:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def evaluate(array: Array) -> Outcome:
    """Status, summary and figures of one array."""
    figures = [metric("members", len(array.members))]
    if array.slots is not None:
        figures += [metric("devices_expected", array.slots), metric("devices_working", array.working or 0)]
    figures += [metric("failed_members", len(array.failed)), metric("missing_members", array.missing),
                metric("spares", len(array.spares))]
    kind = " ".join(x for x in (array.state, array.read_only and f"({array.read_only})", array.level) if x)
    parts = [kind]
    if array.map:
        parts.append(f"[{array.slots}/{array.working}] [{array.map}]")
    problems: list[str] = []
    status = Status.OK
    if array.state == "inactive":
        status = Status.CRITICAL
        problems.append("array inactive (not assembled or not started)")
    degraded = array.missing > 0 or bool(array.failed)
    if array.failed:
        problems.append(f"failed member(s): {', '.join(array.failed)}")
    if array.missing:
        problems.append(f"{array.missing} of {array.slots} member(s) missing")
    if array.sync_action and array.sync_progress is not None:
        figures.append(metric("sync_progress", array.sync_progress, "%"))
        eta = f", about {_minutes(array.sync_eta)} left" if array.sync_eta is not None else ""
        if array.sync_eta is not None:
            figures.append(metric("sync_eta", array.sync_eta, "s"))
        parts.append(f"{array.sync_action} {array.sync_progress:g}%{eta}")
    elif array.sync_waiting:
        parts.append(f"{array.sync_action} {array.sync_waiting.lower()}")
    rebuilding = array.sync_action in ("recovery", "reshape") and not array.sync_waiting
    if degraded:
        status = Status.worst([status, Status.WARNING if rebuilding else Status.CRITICAL])
        if rebuilding:
            problems.append("rebuilding")
        else:
            problems.append("degraded, no rebuild running" + (" (a spare is present)" if array.spares else ""))
    elif array.sync_action in ("resync", "recovery", "reshape"):
        status = Status.worst([status, Status.WARNING])  # redundancy is not complete until it ends
    if array.spares and not degraded:
        parts.append(f"{len(array.spares)} spare")
    summary = ", ".join(parts)
    if problems:
        summary = "; ".join(problems) + " - " + summary
    return Outcome(item=array.name, summary=summary, metrics=figures, status=status)


# -- the check ----------------------------------------------------------------------------------


class RaidCheck(Check):
    name = "raid"
    title = "Linux software RAID (md): degraded arrays, failed members, rebuild progress"
    Params = RaidParams
    connection_kind = "shell"
    metrics = {
        "members": "member devices listed for the array (spares and failed ones included)",
        "devices_expected": "devices the array should have ([n/m]: n)",
        "devices_working": "devices working ([n/m]: m)",
        "failed_members": "members marked failed (F)",
        "missing_members": "slots without a working device ('_' in [UU_])",
        "spares": "spare members (S)",
        "sync_progress": "progress of a running recovery, resync, reshape or check (%)",
        "sync_eta": "the kernel's estimate of the time left for it (s)",
    }
    example = "- raid: {arrays: [md0, md1]}"

    def run(self, ctx: CheckContext, params: RaidParams) -> Iterable[Outcome]:
        try:
            _info, data, _now = shell_for(ctx).read_tail(params.mdstat_path, 1 << 20)
        except FileNotFoundError:
            if params.mdstat_path != MDSTAT:
                raise CheckUnavailable(f"{params.mdstat_path} does not exist") from None
            data = b""  # no md driver loaded: no software RAID on this host
        except PermissionError as exc:
            raise CheckUnavailable(f"cannot read {params.mdstat_path}: {exc}") from None
        _personalities, arrays = parse_mdstat(data.decode("utf-8", "replace"))
        names = {a.name for a in arrays}
        for wanted in params.arrays:
            if wanted not in names:
                yield Outcome(item=wanted, summary=f"array {wanted} does not exist", status=Status.CRITICAL,
                              metrics=[metric("members", 0)])
        if not arrays:
            reason = "no md driver loaded" if not data else "no arrays in " + params.mdstat_path
            if params.required:
                yield Outcome(summary=f"no software RAID arrays ({reason}), but the parameters require one",
                              status=Status.UNKNOWN, collected=False)
            elif not params.arrays:
                yield Outcome(summary=f"no software RAID arrays ({reason})", status=Status.OK)
            return
        for array in sorted(arrays, key=lambda a: _natural(a.name)):
            yield evaluate(array)


def _natural(name: str) -> tuple:
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", name))
