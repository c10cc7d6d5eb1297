"""swap — free swap space. A host without swap is reported as such, not as a problem."""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import Field

from checks.base import Check, CheckContext, Outcome, metric
from checks.params import CheckParams
from checks.thresholds import Levels, LowerLimit
from checks.units import format_bytes


class SwapParams(CheckParams):
    warning: LowerLimit = Field(default=50, description="free % below which to warn")
    critical: LowerLimit = Field(default=20, description="free % below which the state is critical")


class SwapCheck(Check):
    name = "swap"
    title = "Free swap space"
    Params = SwapParams
    connection_kind = "host"
    metrics = {
        "free": "swap space free, of total (%)",
        "used": "swap space in use (bytes)",
        "total": "swap space configured (bytes)",
    }
    example = "- swap: {warning: 50, critical: 20}"

    def run(self, ctx: CheckContext, params: SwapParams) -> Iterable[Outcome]:
        swap = ctx.connection("host").swap()
        if swap.total <= 0:
            yield Outcome(summary="no swap configured", metrics=[metric("total", 0, "B")])
            return
        free = round(100.0 * (swap.total - swap.used) / swap.total, 2)
        yield Outcome(
            summary=f"{free:.1f}% free, {format_bytes(swap.used)} used of {format_bytes(swap.total)}",
            metrics=[metric("free", free, "%"), metric("used", swap.used, "B"), metric("total", swap.total, "B")],
            levels={"free": Levels(params.warning, params.critical)},
        )
