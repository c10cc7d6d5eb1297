"""memory — memory in use, from MemAvailable (what can still be allocated without swapping)."""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import Field

from checks.base import Check, CheckContext, Outcome, metric
from checks.params import CheckParams
from checks.thresholds import Levels, UpperLimit
from checks.units import format_bytes


class MemoryParams(CheckParams):
    warning: UpperLimit = Field(default=85, description="used % (total minus available) at which to warn")
    critical: UpperLimit = Field(default=95, description="used % at which the state is critical")


class MemoryCheck(Check):
    name = "memory"
    title = "Memory used, based on MemAvailable (page cache counts as available)"
    Params = MemoryParams
    connection_kind = "host"
    metrics = {
        "used": "memory not available for new allocations, of total (%)",
        "available": "memory available for new allocations without swapping (bytes)",
        "total": "physical memory (bytes)",
    }
    example = "- memory: {warning: 85, critical: 95}"

    def run(self, ctx: CheckContext, params: MemoryParams) -> Iterable[Outcome]:
        mem = ctx.connection("host").memory()
        if mem.total <= 0:
            raise RuntimeError("the host reports no physical memory")
        used = round(100.0 * (mem.total - mem.available) / mem.total, 2)
        yield Outcome(
            summary=f"{used:.1f}% used, {format_bytes(mem.available)} available of {format_bytes(mem.total)}",
            metrics=[
                metric("used", used, "%"),
                metric("available", mem.available, "B"),
                metric("total", mem.total, "B"),
            ],
            levels={"used": Levels(params.warning, params.critical)},
        )
