"""Geometry for the HTML report's inline SVG charts; the template draws them, no JavaScript involved.

Computed here rather than in the template so the arithmetic is tested and the template stays markup.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from checks.status import Status

STATUS_COLOURS = {
    Status.OK: "#2e7d32",
    Status.WARNING: "#f59e0b",
    Status.CRITICAL: "#c62828",
    Status.UNKNOWN: "#8a8f98",
}
BAND_COLOURS = {
    "excellent": "#2e7d32",
    "good": "#66a33a",
    "fair": "#f59e0b",
    "poor": "#e8710a",
    "critical": "#c62828",
}
TRACK_COLOUR = "#e5e7eb"


@dataclass(frozen=True)
class Gauge:
    """A half-circle gauge: the grey track and the coloured arc for the score."""

    width: int
    height: int
    track: str  # SVG path data
    arc: str | None  # None for a score of 0
    colour: str
    stroke: int
    centre_x: float
    centre_y: float


@dataclass(frozen=True)
class BarSegment:
    status: Status
    count: int
    x: float
    width: float
    colour: str


def gauge(score: int, band: str, radius: int = 80, stroke: int = 16) -> Gauge:
    """Arc from the left (0) over the top to the right (100) of a half circle."""
    margin = stroke / 2 + 2
    cx, cy = radius + margin, radius + margin
    fraction = min(max(score, 0), 100) / 100

    def point(f: float) -> tuple[float, float]:
        angle = math.pi * (1 - f)
        return round(cx + radius * math.cos(angle), 2), round(cy - radius * math.sin(angle), 2)

    def path(f: float) -> str:
        (x0, y0), (x1, y1) = point(0), point(f)
        # A half circle at most, so the large-arc flag is always 0; sweep 1 goes clockwise (over the top).
        return f"M {x0} {y0} A {radius} {radius} 0 0 1 {x1} {y1}"

    return Gauge(
        width=int(2 * cx),
        height=int(cy + margin + 4),
        track=path(1),
        arc=path(fraction) if fraction > 0 else None,
        colour=BAND_COLOURS[band],
        stroke=stroke,
        centre_x=cx,
        centre_y=cy,
    )


def status_bar(counts: dict[Status, int], width: float = 600) -> list[BarSegment]:
    """A horizontal stacked bar: one segment per status with results, widths proportional to counts."""
    total = sum(counts.values())
    segments = []
    x = 0.0
    for status, count in counts.items():
        if not count:
            continue
        share = round(width * count / total, 2)
        segments.append(BarSegment(status, count, round(x, 2), share, STATUS_COLOURS[status]))
        x += share
    return segments


def sparkline(values: list[float], width: int = 120, height: int = 24, top: float = 100.0) -> str:
    """SVG polyline points for percentages (0 to ``top``) left to right; one value draws a flat line."""
    if not values:
        return ""
    if len(values) == 1:
        values = values * 2
    step = width / (len(values) - 1)
    def y(v: float) -> float:
        return height - max(0.0, min(v, top)) / top * height
    return " ".join(f"{i * step:.1f},{y(v):.1f}" for i, v in enumerate(values))
