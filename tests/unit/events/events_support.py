"""Helpers for the event engine's tests: a harness with an injected clock, and a scenario runner that
applies random operations and checks the engine's invariants after each one (property tests, and the
differential runs of the same operations against the memory and SQL repositories).

Imported by tests/unit/events and, by path, by tests/integration/test_events_backends.py.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from checks.result import Result
from checks.status import Status
from collector.events import (
    EventEngine,
    EventStateError,
    MaintenanceWindow,
    MemoryRepository,
    Policy,
    fingerprint_hash,
)
from collector.events.model import NODATA_CHECK, OPEN_STATES, Event
from collector.notify.notice import Notice

T0 = dt.datetime(2026, 11, 23, 8, 0, tzinfo=dt.UTC)
MINUTE = dt.timedelta(minutes=1)


def result(
    status: Status | str,
    at: dt.datetime,
    target: str = "web01",
    check: str = "disk",
    item: str = "/",
    collected: bool = True,
    summary: str | None = None,
) -> Result:
    status = Status(status)
    return Result(
        target=target, check=check, item=item, status=status, summary=summary or f"{item} is {status.value}",
        started_at=at, duration_seconds=0.01, collected=collected,
    )


class Harness:
    """An engine on a repository with a clock the test moves."""

    def __init__(self, policy: Policy | None = None, repository: Any = None, **engine_args: Any) -> None:
        self.now = T0
        self.repository = repository if repository is not None else MemoryRepository()
        self.engine = EventEngine(self.repository, policy or Policy(), clock=lambda: self.now, **engine_args)

    def advance(self, seconds: float = 60) -> dt.datetime:
        self.now += dt.timedelta(seconds=seconds)
        return self.now

    def feed(self, *statuses: Status | str, every: float = 60, **result_args: Any) -> list[Notice]:
        """One result per status, ``every`` seconds apart (the clock moves first)."""
        notices: list[Notice] = []
        for status in statuses:
            self.advance(every)
            notices += self.engine.observe([result(status, self.now, **result_args)])
        return notices

    def tick(self, seconds: float = 0) -> list[Notice]:
        self.advance(seconds)
        return self.engine.tick(self.now)

    def events(self, **filters: Any) -> list[Event]:
        return sorted(self.repository.list_events(**filters), key=lambda e: e.id)

    def event(self, target: str = "web01", check: str = "disk", item: str = "/") -> Event:
        """The newest event of the fingerprint."""
        found = [e for e in self.events() if (e.target, e.check, e.item) == (target, check, item)]
        assert found, f"no event for {target}/{check}/{item}"
        return found[-1]

    def kinds(self, event_id: int) -> list[str]:
        return [entry.kind for entry in self.repository.history(event_id)]


def changes(notices: list[Notice]) -> list[str]:
    return [n.change for n in notices]


# -- the scenario runner ---------------------------------------------------------------------------

TARGETS = ("sw01", "db01", "web01")
PARENTS = {"db01": ["sw01"], "web01": ["db01"]}
CHECKS = ("disk", "ping")
STATUSES = ("OK", "OK", "WARNING", "CRITICAL", "UNKNOWN")
PATTERNS = ("web01", "db*", "all", "sw*:!sw01", "~(db|web)")


@dataclass
class Scenario:
    """Applies operations (tuples) to an engine and checks the invariants after each one."""

    policy: Policy
    repository: Any
    now: dt.datetime = T0
    notices: list[Notice] = field(default_factory=list)
    bad_results: Counter = field(default_factory=Counter)  # per fingerprint hash
    discarded: Counter = field(default_factory=Counter)  # bad results of streaks that never opened an event
    view: dict[int, bool] = field(default_factory=dict)  # receivers' view from the notices: open or not

    def __post_init__(self) -> None:
        self.engine = EventEngine(self.repository, self.policy, clock=lambda: self.now, parents=PARENTS)

    def run(self, operations: list[tuple]) -> None:
        for operation in operations:
            self.apply(operation)

    def apply(self, operation: tuple) -> None:
        name, *args = operation
        before = {e.id: e for e in self.repository.list_events()}
        if name == "result":
            target, check, status, collected, advance = args
            self.now += dt.timedelta(seconds=advance)
            key = fingerprint_hash(target, check, "")
            if status != "OK":
                self.bad_results[key] += 1
            else:
                track = {t.fingerprint_hash: t for t in self.repository.tracks()}.get(key)
                is_open = any(e.fingerprint_hash == key and e.state in OPEN_STATES for e in before.values())
                if track is not None and not is_open:
                    self.discarded[key] += track.bad_streak
            out = self.engine.observe([result(status, self.now, target, check, "", collected)])
        elif name == "tick":
            self.now += dt.timedelta(seconds=args[0])
            out = self.engine.tick(self.now)
        elif name in ("ack", "resolve", "comment"):
            index, extra = args
            ids = sorted(before)
            if not ids:
                return
            event = before[ids[index % len(ids)]]
            try:
                if name == "ack":
                    expires = self.now + dt.timedelta(seconds=extra) if extra else None
                    out = self.engine.acknowledge(event.id, "alice", "on it", expires_at=expires)
                elif name == "resolve":
                    out = self.engine.resolve(event.id, "bob", "fixed")
                else:
                    self.engine.comment(event.id, "carol", f"note {extra}")
                    out = []
                assert name == "comment" or event.is_open
            except EventStateError:
                assert not event.is_open and name != "comment"
                assert self.repository.get_event(event.id) == event  # nothing changed
                return
        elif name == "silence":
            target, silent, advance = args
            self.now += dt.timedelta(seconds=advance)
            last_seen = self.now - dt.timedelta(seconds=1000 if silent else 10)
            out = self.engine.check_silence([(target, last_seen, 60.0)])
            nodata = [e for e in self.repository.list_events(states=OPEN_STATES)
                      if (e.target, e.check) == (target, NODATA_CHECK)]
            assert len(nodata) == (1 if silent else 0), (target, silent, nodata)
        elif name == "window":
            pattern, check, start, duration = args
            self.repository.add_window(MaintenanceWindow.once(
                "w", pattern, self.now + dt.timedelta(seconds=start),
                self.now + dt.timedelta(seconds=start + duration), check=check,
            ))
            out = []
        else:
            raise AssertionError(f"unknown operation {operation}")
        self.notices += out
        self.check(name, out, before)

    # -- invariants ------------------------------------------------------------------------------------

    def check(self, operation: str, out: list[Notice], before: dict[int, Event]) -> None:
        events = {e.id: e for e in self.repository.list_events()}
        tracks = {t.fingerprint_hash: t for t in self.repository.tracks()}
        policy = self.policy

        # At most one open event per fingerprint; every open event has its track (or is a silence).
        open_by_key = Counter(e.fingerprint_hash for e in events.values() if e.is_open)
        assert all(n == 1 for n in open_by_key.values()), open_by_key
        for event in events.values():
            if event.is_open and event.check != NODATA_CHECK:
                assert event.fingerprint_hash in tracks, event

        # No event lost: a streak long enough (or a flapping problem) has its open event; no track at rest.
        for key, track in tracks.items():
            rules = policy.rules(track.check)
            assert not track.at_rest or open_by_key[key], track
            if track.bad_streak >= rules.open_after or (track.flapping and track.bad_streak):
                assert open_by_key[key] == 1, track

        # Every result counted once: in an event, in a pending streak, or in a streak that never opened one.
        keys = set(self.bad_results) | {e.fingerprint_hash for e in events.values() if e.check != NODATA_CHECK}
        for key in keys:
            counted = sum(e.count for e in events.values() if e.fingerprint_hash == key)
            pending = tracks[key].bad_streak if key in tracks and not open_by_key[key] else 0
            assert counted + pending + self.discarded[key] == self.bad_results[key], key

        for event in events.values():
            self._check_event(event)

        # Notices: receivers' view follows them and matches what the engine believes it told.
        levels = {event_id: event.escalation_level for event_id, event in before.items()}
        for notice in out:
            event = events[notice.event_id]
            if notice.change in ("opened", "reopened"):
                assert not self.view.get(notice.event_id), notice  # told once until its resolution is told
                self.view[notice.event_id] = True
            elif notice.labels.get("flapping") == "started":
                self.view[notice.event_id] = True
            elif notice.change == "resolved":
                assert self.view.get(notice.event_id), notice
                self.view[notice.event_id] = False
            else:
                assert self.view.get(notice.event_id), notice  # nothing but an opening comes first
            if notice.change == "escalated":
                assert operation == "tick" and notice.at <= self.now and event.state == "firing"
                assert notice.escalation_level > levels.get(notice.event_id, 0), notice
                levels[notice.event_id] = notice.escalation_level
            # Held events tell nothing (the flapping notice itself excepted; closing tells the end regardless).
            if notice.state != "closed":
                assert not (event.suppressed or event.in_maintenance), (notice, event)
                if event.flapping:
                    assert notice.labels.get("flapping") == "started", (notice, event)
        for event in events.values():
            assert self.view.get(event.id, False) == event.notified, event
            if operation == "tick" and not event.held:
                assert event.notified == event.is_open, event
                if event.state == "firing":
                    top = policy.escalation[-1].level if policy.escalation else 0
                    assert (event.next_escalation_at or self.now + MINUTE) > self.now, event
                    assert event.next_escalation_at is not None or event.escalation_level == top, event

    def _check_event(self, event: Event) -> None:
        history = self.repository.history(event.id)
        assert history and history[0].kind == "opened" and history[0].from_state is None, history
        assert [h.kind for h in history].count("opened") == 1
        for previous, entry in zip(history, history[1:], strict=False):
            assert entry.from_state == previous.to_state, (previous, entry)
        assert history[-1].to_state == event.state, (event, history)
        # Every flag agrees with the last history entry about it.
        for flag, on, off in (
            ("flapping", "flapping_started", "flapping_stopped"),
            ("suppressed", "suppressed", "unsuppressed"),
            ("in_maintenance", "maintenance_started", "maintenance_ended"),
        ):
            last = next((h.kind for h in reversed(history) if h.kind in (on, off)), off)
            assert getattr(event, flag) == (last == on), (flag, event, history)
        assert event.count >= 1 and event.first_seen <= event.last_seen
        assert event.opened_at <= self.now
        assert (event.resolved_at is None) == event.is_open, event
        assert (event.closed_at is not None) == (event.state == "closed"), event
        if event.state == "acknowledged":
            assert event.acknowledged_by == "alice" and event.acknowledged_at is not None
        elif event.state == "firing":
            assert event.acknowledged_by is None and event.acknowledged_at is None, event
        assert event.ack_expires_at is None or event.state == "acknowledged", event
        if event.next_escalation_at is not None:
            assert event.state == "firing" and event.notified and not event.held, event
        if not event.is_open:
            assert not event.down
        if event.first_acknowledged_at is not None:
            assert "acknowledged" in [h.kind for h in history]


def snapshot(repository: Any) -> tuple:
    """Everything a repository holds, for comparing two runs of the same operations."""
    events = sorted(repository.list_events(), key=lambda e: e.id)
    return (
        events,
        [repository.history(e.id) for e in events],
        [repository.comments(e.id) for e in events],
        repository.tracks(),
    )
