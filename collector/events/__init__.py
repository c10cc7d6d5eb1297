"""Events: results become events with a lifecycle, acknowledgement, escalation, maintenance and history.

    from collector.events import EventEngine, MemoryRepository, Policy
    engine = EventEngine(MemoryRepository(), Policy(open_after=2, resolve_after=2))
    notices = engine.observe(results)

``collector.events.repository.DatabaseRepository`` keeps them in the store's database (SQLite or
PostgreSQL). The model, the rules and their defaults are described in docs/events.md.
"""

from collector.events.engine import EventEngine, EventNotFound, EventStateError
from collector.events.kpi import EventKpis, event_kpis
from collector.events.maintenance import MaintenanceWindow, TargetMatcher
from collector.events.memory import MemoryRepository
from collector.events.model import (
    ACKNOWLEDGED,
    CLOSED,
    FIRING,
    NODATA_CHECK,
    OPEN_STATES,
    RESOLVED,
    STATES,
    Event,
    EventComment,
    EventRepository,
    FeedMoved,
    HistoryEntry,
    Track,
    fingerprint_hash,
)
from collector.events.policy import CheckRules, EscalationStep, Policy, Rules

__all__ = [
    "ACKNOWLEDGED",
    "CLOSED",
    "FIRING",
    "NODATA_CHECK",
    "OPEN_STATES",
    "RESOLVED",
    "STATES",
    "CheckRules",
    "EscalationStep",
    "Event",
    "EventComment",
    "EventEngine",
    "EventKpis",
    "EventNotFound",
    "EventRepository",
    "EventStateError",
    "FeedMoved",
    "HistoryEntry",
    "MaintenanceWindow",
    "MemoryRepository",
    "Policy",
    "Rules",
    "TargetMatcher",
    "Track",
    "event_kpis",
    "fingerprint_hash",
]
