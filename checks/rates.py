"""Counters to rates, in one place: deltas, counter wraps and resets.

A monotonic counter (interface octets, error counts) only means something as a rate between two
samples. ``counter_delta`` decides what a decrease means: a 32-bit counter that went down wrapped
(unless the caller knows the device restarted); a 64-bit or unknown-width counter that went down
was reset, so no rate can be given for that interval. ``RateTracker`` keeps the previous sample per
key so a long-running agent or poller gets rates from consecutive runs, and a one-shot patrol
takes two samples itself.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass


def counter_delta(previous: int, current: int, width: int | None = None, restarted: bool = False) -> int | None:
    """Increase of a counter between two samples, or None when it cannot be known (reset)."""
    if restarted:
        return None
    if current >= previous:
        return current - previous
    if width == 32:
        wrapped = current + 2**32 - previous
        return wrapped
    return None


@dataclass(frozen=True)
class Sample:
    at: float  # monotonic seconds
    values: Mapping[str, int]


class RateTracker:
    """Previous samples per key; turns a new sample into per-second rates.

    ``max_age`` bounds how old a previous sample may be to still be used: older ones are stale (the
    process was idle, the host was away) and the rate would hide spikes.
    """

    def __init__(self, max_age: float = 900.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_age = max_age
        self.clock = clock
        self._samples: dict[Hashable, Sample] = {}
        self._lock = threading.Lock()

    def previous(self, key: Hashable) -> Sample | None:
        with self._lock:
            sample = self._samples.get(key)
        if sample is None or self.clock() - sample.at > self.max_age:
            return None
        return sample

    def update(
        self, key: Hashable, values: Mapping[str, int], width: int | None = None, restarted: bool = False
    ) -> dict[str, float | None] | None:
        """Store ``values`` as the latest sample; return per-second rates against the previous one.

        Returns None when there is no usable previous sample; a counter that was reset gets None.
        """
        now = self.clock()
        previous = self.previous(key)
        with self._lock:
            self._samples[key] = Sample(now, dict(values))
        if previous is None or now <= previous.at:
            return None
        elapsed = now - previous.at
        rates: dict[str, float | None] = {}
        for name, value in values.items():
            if name not in previous.values:
                rates[name] = None
                continue
            delta = counter_delta(previous.values[name], value, width, restarted)
            rates[name] = None if delta is None else delta / elapsed
        return rates

    def forget(self, key: Hashable) -> None:
        with self._lock:
            self._samples.pop(key, None)
