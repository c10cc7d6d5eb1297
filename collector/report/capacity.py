"""Capacity: growth trend and "days until full" for file systems (and any check publishing a used %),
from the stored history.

One sample per item per day (the day's last result) over ``CAPACITY_DAYS``; a least-squares line
through them gives the growth in percentage points per day; an item growing toward 100 % gets the
days until it gets there at that pace. Fewer than ``MIN_DAYS`` days of history, or no growth, gives no
forecast, said as such rather than guessed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from pydantic import BaseModel, ConfigDict

# The checks whose used % (their metric "used", unit %, kept per day in the store's daily rollup) is forecast.
CAPACITY_CHECKS = ("disk", "postgres_tablespaces", "mysql_tablespaces", "oracle_tablespaces")
CAPACITY_DAYS = 30
MIN_DAYS = 3
SHOWN = 50  # rows: the soonest full first


class CapacityRow(BaseModel):
    model_config = ConfigDict(frozen=True)

    target: str
    check: str
    item: str
    used_percent: float
    growth_per_day: float | None  # percentage points per day; None: not enough history
    days_until_full: float | None  # None: not growing, or not enough history
    days_of_history: int
    daily_used: list[float]  # one value per day, oldest first (the chart)


def forecast(points: Sequence[tuple[dt.datetime, float]]) -> tuple[float | None, float | None]:
    """(growth per day, days until 100 %) from (time, used %) points; None where it cannot be told."""
    if len({t.date() for t, _ in points}) < MIN_DAYS:
        return None, None
    t0 = points[0][0]
    xs = [(t - t0).total_seconds() / 86400 for t, _ in points]
    ys = [v for _, v in points]
    n = len(xs)
    mean_x, mean_y = sum(xs) / n, sum(ys) / n
    spread = sum((x - mean_x) ** 2 for x in xs)
    if spread == 0:
        return None, None
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / spread
    if slope <= 1e-9:
        return slope, None
    return slope, max(0.0, (100.0 - ys[-1]) / slope)


def capacity_rows(history: Mapping[tuple[str, str, str], Sequence[tuple[dt.datetime, float]]]) -> list[CapacityRow]:
    """Rows for every item with history, the soonest full first (then the fullest)."""
    rows = []
    for (target, check, item), points in history.items():
        points = sorted(points)
        if not points:
            continue
        growth, days = forecast(points)
        rows.append(CapacityRow(
            target=target, check=check, item=item, used_percent=points[-1][1], growth_per_day=growth,
            days_until_full=days, days_of_history=len({t.date() for t, _ in points}),
            daily_used=[v for _, v in points],
        ))
    rows.sort(key=lambda r: (r.days_until_full is None, r.days_until_full or 0.0, -r.used_percent))
    return rows[:SHOWN]


def fit_forecast(fit) -> tuple[float | None, float | None]:
    """``forecast`` from the sums of a ``Store.daily_used_fits`` row (the same least-squares line)."""
    if fit.n < MIN_DAYS:
        return None, None
    spread = fit.n * fit.sum_xx - fit.sum_x**2
    if spread <= 1e-12:
        return None, None
    slope = (fit.n * fit.sum_xy - fit.sum_x * fit.sum_y) / spread
    if slope <= 1e-9:
        return slope, None
    return slope, max(0.0, (100.0 - fit.last) / slope)


def capacity_for_report(store, end: dt.datetime, targets: set[str] | None = None) -> list[CapacityRow]:
    """The rows for ``targets`` (None: all) from the history ending at ``end``: every item's forecast from
    sums the database computes, then the daily points of the rows shown only."""
    since = end - dt.timedelta(days=CAPACITY_DAYS)
    fits = store.daily_used_fits(CAPACITY_CHECKS, since, end)
    if targets is not None:
        fits = {key: fit for key, fit in fits.items() if key[0] in targets}
    ranked = []
    for key, fit in fits.items():
        growth, days = fit_forecast(fit)
        ranked.append((days is None, days or 0.0, -fit.last, key, growth, days, fit))
    ranked.sort(key=lambda r: r[:4])
    shown = ranked[:SHOWN]
    history = store.daily_used_history(CAPACITY_CHECKS, since, end, targets={r[3][0] for r in shown})
    rows = []
    for *_, key, growth, days, fit in shown:
        target, check, item = key
        rows.append(CapacityRow(
            target=target, check=check, item=item, used_percent=fit.last, growth_per_day=growth,
            days_until_full=days, days_of_history=fit.n, daily_used=[v for _, v in history.get(key, [])],
        ))
    return rows
