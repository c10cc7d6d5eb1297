"""Figures as a report shows them: observed values against their thresholds, and key metrics.

"used 91.2% > 90 (critical)" reads better than a threshold table, so each thresholded metric of a
result becomes one such phrase; figures use ``checks.units.format_value`` like the checks' own messages.
"""

from __future__ import annotations

from collections import Counter
from typing import Literal

from pydantic import BaseModel, ConfigDict

from checks.result import Metric, Result, ThresholdSpec
from checks.status import Status
from checks.thresholds import Levels, Range
from checks.units import format_value
from collector.report.labels import labels

KEY_METRICS_SHOWN = 4  # per result row; the JSON report keeps every metric
_BREACHED: dict[Status, Literal["warning", "critical"]] = {Status.CRITICAL: "critical", Status.WARNING: "warning"}


class ObservedValue(BaseModel):
    """One thresholded figure of a finding: its value, the ranges applied and which one it breaches."""

    model_config = ConfigDict(frozen=True)

    metric: str
    value: float
    unit: str
    warning: str | None
    critical: str | None
    breached: Literal["warning", "critical"] | None
    text: str


def observed_values(result: Result, language: str = "en") -> list[ObservedValue]:
    words = labels(language)
    measured = {}
    for metric in result.metrics:
        measured.setdefault(metric.name, metric)
    out = []
    for spec in result.thresholds:
        metric = measured.get(spec.metric)
        if metric is None:
            continue
        warning, critical = _range(spec.warning), _range(spec.critical)
        status = Levels(warning, critical).evaluate(metric.value)
        breached: Literal["warning", "critical"] | None = _BREACHED.get(status)
        head = f"{_name(metric.name)} {format_value(metric.value, metric.unit)}"
        if breached is not None:
            broken = critical if breached == "critical" else warning
            assert broken is not None
            text = f"{head} {broken.describe(metric.unit)}{_paren(words[breached + '_level'], language)}"
        else:
            levels = [
                f"{words[level + '_level']} {rng.describe(metric.unit)}"
                for level, rng in (("warning", warning), ("critical", critical))
                if rng is not None
            ]
            text = head + (
                _paren(("，" if language == "zh" else ", ").join(levels), language) if levels else ""
            )
        out.append(
            ObservedValue(
                metric=metric.name,
                value=metric.value,
                unit=metric.unit,
                warning=spec.warning,
                critical=spec.critical,
                breached=breached,
                text=text,
            )
        )
    return out


def observed_text(result: Result, values: list[ObservedValue], language: str = "en") -> str:
    """The breached figures if any, else every thresholded figure, else the key metrics; for a result
    that collected nothing, why (the reason is what a reader of any format needs to act on)."""
    if not result.collected:
        reason = result.summary.removeprefix("cannot check: ")
        words = labels(language)
        return words["not_collected_because"].format(reason=reason) if reason else words["not_collected"]
    breached = [v.text for v in values if v.breached]
    if breached or values:
        return "; ".join(breached or [v.text for v in values])
    return "; ".join(key_metrics(result.metrics, result.thresholds))


def key_metrics(
    metrics: list[Metric], thresholds: list[ThresholdSpec], limit: int = KEY_METRICS_SHOWN
) -> list[str]:
    """The metrics worth a glance, thresholded ones first: ['used 91.2%', 'free 3.9 GiB']. ``*_info``
    metrics (value 1, their text in labels: the facts check's) are not figures; the assets section shows them."""
    metrics = [m for m in metrics if not m.name.endswith("_info")]
    watched = {spec.metric for spec in thresholds}
    ordered = sorted(metrics, key=lambda m: m.name not in watched)  # stable: keeps the check's order
    repeated = Counter(m.name for m in metrics)
    shown = []
    for metric in ordered[:limit]:
        name = _name(metric.name)
        if repeated[metric.name] > 1 and metric.labels:
            name += f" [{','.join(metric.labels.values())}]"
        shown.append(f"{name} {format_value(metric.value, metric.unit)}")
    return shown


def _range(text: str | None) -> Range | None:
    if text is None:
        return None
    try:
        return Range.parse(text)
    except ValueError:  # a stored threshold we cannot read must not break the report
        return None


def _name(metric: str) -> str:
    return metric.replace("_", " ")


def _paren(text: str, language: str) -> str:
    return f"（{text}）" if language == "zh" else f" ({text})"
