"""History charts of a target's figures for the console, drawn by the report's matplotlib helpers.

One chart per (check, item): its thresholded figures (else its first one) over the period, with the
warning and critical levels as dashed lines, points coloured by status. Served as an SVG picture.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence

from checks.result import Result
from checks.status import Status
from checks.thresholds import Range
from collector.report.charts import STATUS_COLOURS
from collector.report.plots import _figure, _fonts, _style, _svg

LINES = 3  # figures drawn per chart (the same unit as the first)


def chosen_metrics(results: Sequence[Result]) -> list[str]:
    """The figures worth drawing: the thresholded ones, else the first; all in the first one's unit."""
    newest = results[-1]
    names = [t.metric for t in newest.thresholds] or [m.name for m in newest.metrics[:1]]
    units = {m.name: m.unit for m in newest.metrics}
    names = [n for n in dict.fromkeys(names) if n in units]
    if not names:
        return []
    unit = units[names[0]]
    return [n for n in names if units[n] == unit][:LINES]


def history_svg(results: Sequence[Result], title: str) -> str | None:
    """The chart, or None when there is nothing numeric to draw."""
    results = [r for r in results if r.collected and r.metrics]
    if len(results) < 1:
        return None
    names = chosen_metrics(results)
    if not names:
        return None
    figure = _figure(6.0, 2.0)
    if figure is None:
        return None
    unit = next(m.unit for m in results[-1].metrics if m.name == names[0])
    with _fonts():
        axes = figure.subplots()
        _style(axes)
        axes.grid(axis="y", color="#e5e7eb", linewidth=0.6)
        for name in names:
            points = [(r.started_at, _value(r, name), r.status) for r in results]
            points = [(t, v, s) for t, v, s in points if v is not None]
            if not points:
                continue
            times = [t for t, _, _ in points]
            values = [v for _, v, _ in points]
            # Few points (a new item, a daily patrol): markers, or a lone point would draw nothing.
            axes.plot(times, values, linewidth=1.2, label=name, marker="o" if len(points) < 30 else None,
                      markersize=3)
            for status in (Status.WARNING, Status.CRITICAL, Status.UNKNOWN):
                bad = [(t, v) for t, v, s in points if s is status]
                if bad:
                    axes.scatter([t for t, _ in bad], [v for _, v in bad], s=10, color=STATUS_COLOURS[status],
                                 zorder=3)
        for level, colour in _levels(results[-1], names[0]):
            axes.axhline(level, color=colour, linestyle="--", linewidth=0.8)
        first, last = results[0].started_at, results[-1].started_at
        pad = max((last - first) * 0.05, dt.timedelta(minutes=30))  # not years around a single point
        axes.set_xlim(first - pad, last + pad)
        axes.set_ylabel(unit or "")
        axes.tick_params(axis="x", labelrotation=0)
        import matplotlib.dates as mdates

        locator = mdates.AutoDateLocator(maxticks=6)
        axes.xaxis.set_major_locator(locator)
        axes.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
        if len(names) > 1:
            axes.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), ncols=len(names), frameon=False, fontsize=7)
        return str(_svg(figure, f"history-{title}", title))


def _value(result: Result, name: str) -> float | None:
    for metric in result.metrics:
        if metric.name == name:
            return metric.value
    return None


def _levels(result: Result, name: str) -> list[tuple[float, str]]:
    """The finite edges of the warning and critical ranges of figure ``name``."""
    out = []
    for spec in result.thresholds:
        if spec.metric != name:
            continue
        for text, status in ((spec.warning, Status.WARNING), (spec.critical, Status.CRITICAL)):
            if not text:
                continue
            try:
                edge = Range.parse(text)
            except ValueError:
                continue
            for value in (edge.start, edge.end):
                if math.isfinite(value) and value != 0:
                    out.append((value, STATUS_COLOURS[status]))
    return out


def period_start(hours: int, now: dt.datetime | None = None) -> dt.datetime:
    return (now or dt.datetime.now(dt.UTC)) - dt.timedelta(hours=hours)
