"""Reading a Nagios plugin's answer: ``TEXT | label=value[UOM];warn;crit;min;max ...``.

The format (Nagios plugin development guidelines): the first line is the status text, optionally
followed by ``|`` and performance data; later lines are long output, and a ``|`` on one of them
starts performance data that runs to the end. Labels with spaces are single-quoted ('' is a quote inside one).
A value of ``U`` means the plugin could not determine it. Collector code that *writes* this format
lives in collector/nagios.py; this module only reads it, for checks that run plugins.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from checks.result import Metric, Unit
from checks.status import Status

# Nagios units of measure and how they become ours (the factor turns the value into the base unit).
# KB/MB/... are taken as powers of 1024, as the monitoring-plugins (check_disk, check_swap) mean them.
UOM: dict[str, tuple[Unit, float]] = {
    "": ("", 1.0), "c": ("", 1.0), "%": ("%", 1.0),
    "s": ("s", 1.0), "ms": ("s", 1e-3), "us": ("s", 1e-6),
    "B": ("B", 1.0), "KB": ("B", 1024.0), "MB": ("B", 1024.0**2), "GB": ("B", 1024.0**3), "TB": ("B", 1024.0**4),
}  # fmt: skip
_ITEM = re.compile(r"""\s*('(?:[^']|'')+'|[^\s=']+)=(\S*)""")
_VALUE = re.compile(r"^(-?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|-?\.\d+|U)([^;\d.\-]*)$")


@dataclass(frozen=True)
class PerfValue:
    label: str
    value: float | None  # None: "U", the plugin could not determine it
    uom: str
    warn: str = ""
    crit: str = ""
    min: str = ""
    max: str = ""


@dataclass(frozen=True)
class PluginOutput:
    text: str  # the first line's status text, without performance data
    long_text: str
    perfdata: tuple[PerfValue, ...]
    malformed: tuple[str, ...] = ()  # performance data items that could not be read


def parse_plugin_output(output: str) -> PluginOutput:
    lines = output.strip("\n").splitlines() or [""]
    text, _, perf = lines[0].partition("|")
    long_lines: list[str] = []
    perf_parts = [perf]
    in_perf = False  # after a "|" in the long output, every further line is performance data
    for line in lines[1:]:
        if in_perf:
            perf_parts.append(line)
            continue
        body, sep, more = line.partition("|")
        long_lines.append(body)
        if sep:
            perf_parts.append(more)
            in_perf = True
    values, malformed = parse_perfdata(" ".join(perf_parts))
    return PluginOutput(text.strip(), "\n".join(long_lines).strip(), tuple(values), tuple(malformed))


def parse_perfdata(perf: str) -> tuple[list[PerfValue], list[str]]:
    values, malformed = [], []
    pos = 0
    perf = perf.rstrip()
    while pos < len(perf):
        match = _ITEM.match(perf, pos)
        if not match:
            rest = perf[pos:].split(None, 1)
            malformed.append(rest[0])
            pos = len(perf) - len(rest[1]) if len(rest) > 1 else len(perf)
            continue
        pos = match.end()
        label = match[1]
        if label.startswith("'"):
            label = label[1:-1].replace("''", "'")
        fields = (match[2].split(";") + [""] * 5)[:5]
        value = _VALUE.match(fields[0])
        if not value:
            malformed.append(match[0].strip())
            continue
        number = None if value[1] == "U" else float(value[1])
        values.append(PerfValue(label, number, value[2], *fields[1:5]))
    return values, malformed


# -- from a plugin's answer to metrics and a status (shared by ssh_command and nagios) -----------

# Exit 0 is OK, 1 WARNING, 2 CRITICAL; 3 and anything else (127 for a missing command, a signal) UNKNOWN.
EXIT_STATUS = {0: Status.OK, 1: Status.WARNING, 2: Status.CRITICAL}


def metric_name(label: str) -> str:
    """A perfdata label as a metric name (snake_case, starting with a letter)."""
    name = re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_")
    if name in ("", "_"):
        name = "root" if label.strip() == "/" else "value"
    return name if name[0].isalpha() else f"m_{name}"


def perf_metrics(output: PluginOutput) -> list[Metric]:
    """The performance data as metrics in base units (ms -> s, KB -> bytes); ``U`` values are left out."""
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
        figures.append(Metric(name=name, value=perf.value * factor, unit=unit, labels=labels))
    return figures


def plugin_summary(exit_status: int, output: PluginOutput, stderr: str = "") -> str:
    """The one-line summary of a plugin's answer; an unexpected exit code is named in it."""
    stderr = stderr.strip()
    summary = output.text or (stderr.splitlines()[0] if stderr else "")
    if exit_status not in (0, 1, 2, 3):
        summary = f"exit {exit_status}" + (f": {summary}" if summary else "")
    elif not summary:
        summary = f"exit {exit_status}, no output"
    if output.malformed:
        summary += f" (unreadable performance data: {' '.join(output.malformed)[:200]})"
    return summary
