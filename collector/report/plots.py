"""The report's charts, drawn by matplotlib as inline SVG: health by category, the daily trend of
results by status, and capacity with its forecast.

Each chart is a matplotlib ``Figure`` (no pyplot: no global state, safe in the collector's threads)
saved as SVG with its text kept as text, so the HTML stays one self-contained file, the browser or
WeasyPrint picks the fonts (Chinese labels need no font inside matplotlib), and the text can be
searched and read back from the PDF. Output is deterministic (fixed hash salt, no date), so the same
report renders to the same bytes.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Mapping, Sequence

from markupsafe import Markup, escape

from checks.status import Status
from collector.report.capacity import CapacityRow
from collector.report.charts import STATUS_COLOURS

STATUSES = (Status.OK, Status.WARNING, Status.CRITICAL, Status.UNKNOWN)
CAPACITY_LINES = 6  # the soonest-full items drawn; the table lists the rest
FORECAST_DAYS = 30
TREND_LABELS = 8  # dates under the trend chart; half an A4 page holds about as many
FONT = ["Noto Sans CJK SC", "Noto Sans", "DejaVu Sans", "Helvetica", "Arial", "sans-serif"]
_PROLOG = re.compile(r"^.*?(?=<svg)", re.S)


def _figure(width: float, height: float):
    try:
        from matplotlib.figure import Figure
    except ModuleNotFoundError:  # pragma: no cover - matplotlib is in the collector extra
        return None
    figure = Figure(figsize=(width, height), dpi=96)
    figure.patch.set_alpha(0)
    return figure


def _style(axes) -> None:
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    axes.spines["left"].set_color("#9ca3af")
    axes.spines["bottom"].set_color("#9ca3af")
    axes.tick_params(colors="#374151", labelsize=8)
    axes.grid(axis="x", color="#e5e7eb", linewidth=0.6)
    axes.set_axisbelow(True)


def _svg(figure, name: str, title: str) -> Markup:
    import matplotlib

    with matplotlib.rc_context({
        "svg.fonttype": "none",  # text as <text>: readable, searchable, any script
        "svg.hashsalt": f"patrol-{name}",  # distinct, stable clip-path ids per chart in one page
    }):
        buffer = io.StringIO()
        # No RDF metadata block (creator, date, format): the chart's title is its only description.
        figure.savefig(buffer, format="svg", metadata={"Creator": None, "Date": None, "Format": None, "Type": None},
                       bbox_inches="tight", pad_inches=0.05)
    svg = _PROLOG.sub("", buffer.getvalue(), count=1)
    # Scale with the page instead of keeping matplotlib's fixed size in points.
    svg = re.sub(r'<svg([^>]*?) width="[^"]*" height="[^"]*"', r'<svg\1 class="chart" role="img"', svg, count=1)
    svg = svg.replace(">", f"><title>{escape(title)}</title>", 1)  # read out by screen readers, shown on hover
    return Markup(svg)


def category_health(
    counts: Mapping[str, Mapping[Status, int]], words: Mapping[str, str]
) -> Markup | None:
    """Targets per category by their worst status, one horizontal stacked bar per category."""
    if not counts:
        return None
    categories = list(counts)[::-1]  # the first category on top
    figure = _figure(5.0, 0.55 + 0.3 * len(categories))
    if figure is None:
        return None
    with _fonts():
        axes = figure.subplots()
        _style(axes)
        left = [0] * len(categories)
        for status in STATUSES:
            values = [counts[c].get(status, 0) for c in categories]
            if not any(values):
                continue
            bars = axes.barh([words.get(c, c) for c in categories], values, left=left,
                             color=STATUS_COLOURS[status], height=0.62, label=words[status.value])
            axes.bar_label(bars, labels=[str(v) if v else "" for v in values], label_type="center",
                           color="white", fontsize=7, fontweight="bold")
            left = [a + b for a, b in zip(left, values, strict=True)]
        axes.set_xlabel(words["targets"])
        axes.xaxis.get_major_locator().set_params(integer=True)
        axes.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), ncols=4, frameon=False, fontsize=7)
        return _svg(figure, "category-health", words["health_by_category"])


def daily_trend(days: Sequence[tuple[dt.date, Mapping[Status, int]]], words: Mapping[str, str]) -> Markup | None:
    """Results by status per day, as shares of the day's results (stacked columns)."""
    days = [(day, counts) for day, counts in days if sum(counts.values())]
    if len(days) < 2:
        return None
    figure = _figure(5.0, 2.0)
    if figure is None:
        return None
    with _fonts():
        axes = figure.subplots()
        _style(axes)
        axes.grid(axis="x", visible=False)
        axes.grid(axis="y", color="#e5e7eb", linewidth=0.6)
        labels = [day.strftime("%m-%d") for day, _ in days]
        totals = [sum(counts.values()) for _, counts in days]
        bottom = [0.0] * len(days)
        for status in STATUSES:
            shares = [100.0 * counts.get(status, 0) / total for (_, counts), total in zip(days, totals, strict=True)]
            if not any(shares):
                continue
            axes.bar(labels, shares, bottom=bottom, color=STATUS_COLOURS[status], width=0.75,
                     label=words[status.value])
            bottom = [a + b for a, b in zip(bottom, shares, strict=True)]
        low = min(100.0 * counts.get(Status.OK, 0) / total for (_, counts), total in zip(days, totals, strict=True))
        axes.set_ylim(max(0.0, (low // 10) * 10 - 10), 100)  # the problems, not a wall of green
        axes.set_ylabel(words["results_percent"])
        step = -(-len(days) // TREND_LABELS)  # at most TREND_LABELS dates: they must not run into each other
        axes.set_xticks(range(0, len(days), step), [labels[i] for i in range(0, len(days), step)])
        axes.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), ncols=4, frameon=False, fontsize=7)
        return _svg(figure, "daily-trend", words["trend_by_day"])


def capacity(rows: Sequence[CapacityRow], words: Mapping[str, str]) -> Markup | None:
    """The used % of the soonest-full items over their history (x: days before the report), each with
    its least-squares forecast drawn on to 100 % as a dashed line."""
    shown = [r for r in rows if len(r.daily_used) >= 2][:CAPACITY_LINES]
    if not shown:
        return None
    figure = _figure(9.6, 2.4)
    if figure is None:
        return None
    with _fonts():
        axes = figure.subplots()
        _style(axes)
        axes.grid(axis="y", color="#e5e7eb", linewidth=0.6)
        axes.axhline(100, color=STATUS_COLOURS[Status.CRITICAL], linewidth=0.8)
        axes.axvline(0, color="#9ca3af", linewidth=0.6, linestyle=":")
        for row in shown:
            history = row.daily_used
            xs = list(range(1 - len(history), 1))
            line, = axes.plot(xs, history, linewidth=1.4, label=_short(f"{row.target} {row.item}"))
            if row.days_until_full is not None and row.growth_per_day:
                ahead = min(row.days_until_full, FORECAST_DAYS)
                axes.plot([0, ahead], [history[-1], history[-1] + row.growth_per_day * ahead],
                          linestyle="--", linewidth=1.0, color=line.get_color())
        axes.set_xlim(-max(len(r.daily_used) for r in shown) + 1, FORECAST_DAYS)
        axes.set_ylim(top=105)
        axes.set_xlabel(words["days_from_report"])
        axes.set_ylabel(words["used"] + " %")
        axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=7)
        return _svg(figure, "capacity", words["capacity"])


def _short(text: str, limit: int = 32) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class _fonts:
    """Fonts for the figure being drawn: set before any text is made (a text takes its font when it is
    created), with the CJK family first so Chinese labels are measured right. matplotlib's warnings
    about glyphs a fallback family lacks are silenced: the text is kept as text in the SVG and the
    browser or WeasyPrint draws it with the page's fonts."""

    def __enter__(self) -> None:
        import logging
        import warnings

        import matplotlib

        self._logger = logging.getLogger("matplotlib.font_manager")
        self._level = self._logger.level
        self._logger.setLevel(logging.ERROR)
        self._warnings = warnings.catch_warnings()
        self._warnings.__enter__()
        warnings.filterwarnings("ignore", message=r"Glyph .* missing from font", category=UserWarning)
        self._rc = matplotlib.rc_context({"font.family": FONT, "font.size": 8})
        self._rc.__enter__()

    def __exit__(self, *exc: object) -> None:
        self._rc.__exit__(*exc)
        self._warnings.__exit__(*exc)
        self._logger.setLevel(self._level)
