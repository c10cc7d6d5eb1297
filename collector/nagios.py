"""Results as a Nagios plugin answer, so Nagios, Icinga or Checkmk can run Patrol's checks.

Output: the first line is ``CHECK STATUS - summary | perfdata``; further lines are the other items
(Nagios "long output"). The exit code is the worst status's Nagios code.
"""

from __future__ import annotations

import re

from checks.result import Result
from checks.status import Status

# Nagios knows these units of measure; others are written without a unit.
_UOM = {"%": "%", "B": "B", "s": "s"}


def perf_label(result: Result, metric_name: str) -> str:
    label = f"{result.item}_{metric_name}" if result.item else metric_name
    label = re.sub(r"['=]", "_", label)
    return f"'{label}'" if re.search(r"\s", label) or label != label.strip() else label


def perfdata(result: Result) -> list[str]:
    limits = {t.metric: t for t in result.thresholds}
    out = []
    for m in result.metrics:
        spec = limits.get(m.name)
        warn = spec.warning if spec and spec.warning else ""
        crit = spec.critical if spec and spec.critical else ""
        minimum, maximum = ("0", "100") if m.unit == "%" else ("", "")
        value = f"{m.value:g}" if abs(m.value) < 1e15 else f"{m.value:.0f}"
        fields = [f"{value}{_UOM.get(m.unit, '')}", warn, crit, minimum, maximum]
        out.append(f"{perf_label(result, m.name)}=" + ";".join(fields).rstrip(";"))
    return out


def nagios_output(check: str, results: list[Result]) -> tuple[str, int]:
    worst = Status.worst(r.status for r in results)
    ordered = sorted(results, key=lambda r: -r.status.severity)
    head = ordered[0]
    first = f"{check.upper()} {worst.value} - {_line(head)}"
    if len(results) > 1:
        first += f" ({len(results)} items, {sum(r.status is not Status.OK for r in results)} not OK)"
    perf = [p for r in results for p in perfdata(r)]
    lines = [first + (" | " + " ".join(perf) if perf else "")]
    lines += [f"{r.status.value}: {_line(r)}" for r in ordered[1:]]
    return "\n".join(lines), worst.code


def _line(result: Result) -> str:
    text = f"{result.item}: {result.summary}" if result.item else result.summary
    return text.replace("|", "/")  # a pipe would start the performance data
