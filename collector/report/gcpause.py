"""Pausing Python's cyclic garbage collector while a report is built and rendered.

A large site's report makes millions of objects (results and their metrics, table rows, template
output) that all live until the report is written. CPython runs a collection every few hundred new
objects and, ever more often as the heap grows, walks the whole heap: for the 1,000-target daily report
that was a third of the time (bench/report_daily.py), spent finding almost nothing to free. Reference
counting still frees objects as usual; only the search for reference cycles waits until the report is
done, and the first collection after it finds any cycles made meanwhile.

The collector is process-wide: nested and concurrent reports (scheduled patrols in ``patrol serve``)
share one count, and collection resumes when the last of them ends.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_holders = 0
_was_enabled = False


@contextmanager
def gc_paused() -> Iterator[None]:
    """Keep the cyclic collector off inside the block (usable as a decorator, too)."""
    global _holders, _was_enabled
    with _lock:
        if _holders == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _holders += 1
    try:
        yield
    finally:
        with _lock:
            _holders -= 1
            if _holders == 0 and _was_enabled:
                gc.enable()
