"""Two samples of a set of counters, for checks that report rates (CPU time, NIC counters).

A long-running agent already holds the previous sample from its last run (``ctx.rates``); a
one-shot patrol has none, so it takes a sample, waits ``interval`` seconds and takes another.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable, Mapping

from checks.base import CheckContext

Counters = Mapping[str, Mapping[str, int | float]]  # entity (NIC, "cpu") -> counter name -> value


def rates_over_interval(
    ctx: CheckContext, key: Hashable, read: Callable[[], Counters], interval: float, width: int | None = None
) -> dict[str, dict[str, float | None]]:
    """Per-second rates for every counter of every entity ``read`` returns.

    An entity that is new since the previous sample, or whose counter was reset, gets None rates.
    """
    if ctx.rates.previous(_per_target(ctx, key)) is None:
        record_sample(ctx, key, read(), width)
        # Never sleep past the check's own deadline: leave time to read the second sample.
        time.sleep(max(0.0, min(interval, ctx.remaining() - 0.5)))
    return record_sample(ctx, key, read(), width)


def record_sample(
    ctx: CheckContext, key: Hashable, sample: Counters, width: int | None
) -> dict[str, dict[str, float | None]]:
    key = _per_target(ctx, key)
    ctx.rates.update(key, {})  # marks when this set of counters was last sampled
    out: dict[str, dict[str, float | None]] = {}
    for entity, counters in sample.items():
        rates = ctx.rates.update((key, entity), counters, width)
        out[entity] = rates if rates is not None else {name: None for name in counters}
    return out


def _per_target(ctx: CheckContext, key: Hashable) -> Hashable:
    # One tracker serves every target of a poller: each target's counters are its own.
    return (ctx.target.name, key)
