"""Exponential backoff with full jitter (a uniform draw between 0 and the exponential bound).

Full jitter spreads the retries of many agents that lost the collector at the same moment, so
they do not all come back in step when it returns.
"""

from __future__ import annotations

import random
from collections.abc import Callable


class Backoff:
    def __init__(self, base: float = 1.0, cap: float = 60.0, rand: Callable[[float, float], float] = random.uniform):
        if base <= 0 or cap <= 0:
            raise ValueError("base and cap must be positive")
        self.base = base
        self.cap = cap
        self.rand = rand
        self.failures = 0

    def bound(self) -> float:
        """The upper bound of the next delay: base * 2**failures, at most cap."""
        return min(self.cap, self.base * 2 ** min(self.failures, 62))

    def next_delay(self, at_least: float = 0.0) -> float:
        """Seconds to wait before the next attempt; ``at_least`` honours a server's Retry-After (capped)."""
        delay = self.rand(0.0, self.bound())
        self.failures += 1
        return min(self.cap, max(delay, at_least))

    def reset(self) -> None:
        self.failures = 0
