"""The event engine: results in, events and notices out, pure and deterministic.

    engine = EventEngine(repository, Policy(), clock=clock, parents={"db01": ["sw01"]}, inventory=inventory)
    notices = engine.observe(results)        # after the results are stored
    notices += engine.tick()                 # every few seconds: escalations, expiries, windows, closing
    notices += engine.check_silence([("web01", last_seen, 60.0)])   # every few seconds too
    engine.acknowledge(event_id, "alice", "looking", expires_at=None)

Every public call is one transaction of the repository and returns the notices it produced, after the
commit; nothing here sleeps, spawns a thread or talks to the network. Times of changes come from the
injected clock (``tick(now)`` takes its own), result times from the results. The rules are in
docs/events.md; the defaults in ``collector.events.policy``.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from checks.result import Result
from collector.events.maintenance import MaintenanceWindow, TargetMatcher
from collector.events.model import (
    ACKNOWLEDGED,
    CLOSED,
    EVENT_FIELDS,
    FIRING,
    FLAP_MASK,
    NODATA,
    NODATA_CHECK,
    PROBLEM,
    RESOLVED,
    TRACK_FIELDS,
    UNKNOWN,
    Event,
    EventComment,
    EventRepository,
    EventSession,
    HistoryEntry,
    Track,
    fingerprint_hash,
    flap_percent,
)
from collector.events.policy import Policy, Rules
from collector.notify.notice import Notice

ACTOR_MAX_LENGTH = 255
COMMENT_MAX_LENGTH = 2000
# Severity order inside an event: knowing the figures (WARNING) beats not knowing them (UNKNOWN).
_RANK = {"UNKNOWN": 1, "WARNING": 2, "CRITICAL": 3}
_event_values = operator.attrgetter(*EVENT_FIELDS)
_track_values = operator.attrgetter(*TRACK_FIELDS)

Clock = Callable[[], dt.datetime]
FeedStep = tuple[str, int, int]  # feed name, position read, position after these results
SilenceSource = tuple[str, dt.datetime | None, float | dt.timedelta | None]


class EventNotFound(LookupError):
    def __init__(self, event_id: int) -> None:
        self.event_id = event_id
        super().__init__(f"no event with id {event_id}")


class EventStateError(ValueError):
    """The change does not apply to the event in its state (acknowledging a resolved event, say)."""


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class EventEngine:
    def __init__(
        self,
        repository: EventRepository,
        policy: Policy | None = None,
        *,
        clock: Clock = utcnow,
        parents: Mapping[str, Iterable[str]] | None = None,
        inventory: Any = None,
    ) -> None:
        """``parents``: target -> the targets it depends on (a host behind a switch, a database on a host).
        ``inventory``: a ``collector.config.inventory.Inventory`` for host patterns and notice groups."""
        self.repository = repository
        self.policy = policy or Policy()
        self.clock = clock
        self._parents = {
            child: tuple(dict.fromkeys(p for p in ps if p != child)) for child, ps in (parents or {}).items()
        }
        self._ancestors: dict[str, tuple[str, ...]] = {}
        self._inventory = inventory
        self._matcher = TargetMatcher(inventory)
        self._rules: dict[str, Rules] = {}
        self._groups: dict[str, tuple[str, ...]] = {}

    # -- the public calls ---------------------------------------------------------------------------

    def observe(self, results: Iterable[Result], *, feed: FeedStep | None = None) -> list[Notice]:
        """Evaluate stored results (any order; each fingerprint's are taken oldest first, and one older
        than the newest already evaluated for its fingerprint is skipped). Returns the notices due.

        ``feed`` (name, old, new): move that feed's position in the same transaction, so results read
        from a feed are evaluated exactly once (``FeedMoved`` and nothing kept if another evaluator
        moved it first)."""
        batch = sorted(results, key=_started_at)
        if not batch and feed is None:
            return []
        keyed = [(fingerprint_hash(r.target, r.check, r.item), r) for r in batch]
        with self.repository.session() as session:
            if feed is not None:
                session.advance_feed(*feed)  # first: on PostgreSQL it also makes evaluators take turns
            work = _Work(self, session, self._now())
            tracks = session.tracks({key for key, _ in keyed})
            for track in tracks.values():
                work.watch_track(track, existed=True)
            # Only fingerprints with a track or a problem in this batch can change anything; the steady OK
            # majority stops here.
            keys = set(tracks)
            keys.update(key for key, r in keyed if r.status.value != "OK")
            relevant = [(key, r) for key, r in keyed if key in keys]
            if relevant:
                events = session.current_events(
                    {key for key, _ in relevant}, work.now - self.policy.reopen_within
                )
                for event in events.values():
                    work.watch(event)
                work.load_down(self._with_ancestors({r.target for _, r in relevant}))
                for key, result in relevant:
                    self._apply(work, key, result, tracks, events)
            work.flush()
        return work.notices

    def tick(self, now: dt.datetime | None = None) -> list[Notice]:
        """Time passing: acknowledgements expire, maintenance windows and parents' outages begin and end,
        escalations fall due, resolved events close. Call it every few seconds."""
        now = self._now() if now is None else _aware(now, "now")
        cutoff = now - self.policy.close_after
        with self.repository.session() as session:
            work = _Work(self, session, now)
            events = {event.id: event for event in session.live_events()}
            for event in session.resolved_before(cutoff):
                events.setdefault(event.id, event)
            for event in events.values():
                work.watch(event)
            work.down = {}
            for event in events.values():
                if event.down and event.is_open:
                    work.down.setdefault(event.target, set()).add(event.id)  # type: ignore[arg-type]
            work.down_complete = True
            for event in sorted(events.values(), key=_event_id):
                if event.state == RESOLVED and event.resolved_at <= cutoff:  # type: ignore[operator]
                    self._close(work, event)
                    continue
                resumed = None
                if event.state == ACKNOWLEDGED and event.ack_expires_at is not None and event.ack_expires_at <= now:
                    resumed = event.ack_expires_at  # escalation resumes from the expiry, however late the tick
                    self._expire_ack(work, event)
                self._update_holds(work, event)
                self._reconcile(work, event, since=resumed)
                self._escalate(work, event)
            work.flush()
        return work.notices

    def check_silence(self, sources: Iterable[SilenceSource], now: dt.datetime | None = None) -> list[Notice]:
        """Silence is an event: each source is (name, last_seen, expected interval in seconds or a
        timedelta). A source silent for longer than the policy's limit gets a NODATA event; a source
        reporting again resolves it. Sources without a last contact or an interval are skipped."""
        now = self._now() if now is None else _aware(now, "now")
        checked: list[tuple[str, str, dt.datetime, dt.timedelta]] = []
        for name, last_seen, interval in sources:
            if last_seen is None or interval is None:
                continue
            if not isinstance(interval, dt.timedelta):
                interval = dt.timedelta(seconds=float(interval))
            checked.append((fingerprint_hash(name, NODATA_CHECK, ""), name, _aware(last_seen, "last_seen"), interval))
        if not checked:
            return []
        with self.repository.session() as session:
            work = _Work(self, session, now)
            events = session.current_events({key for key, *_ in checked}, now - self.policy.reopen_within)
            for event in events.values():
                work.watch(event)
            work.load_down(self._with_ancestors({name for _, name, *_ in checked}))
            for key, name, last_seen, interval in checked:
                self._silence(work, key, name, last_seen, interval, events)
            work.flush()
        return work.notices

    def acknowledge(
        self, event_id: int, actor: str, comment: str | None = None, expires_at: dt.datetime | None = None
    ) -> list[Notice]:
        """Acknowledge an open event: escalation stops; with ``expires_at``, the event fires again then and
        escalation resumes. Acknowledging again replaces the acknowledgement."""
        _actor(actor)
        _comment(comment)
        now = self._now()
        if expires_at is not None and _aware(expires_at, "expires_at") <= now:
            raise ValueError(f"expires_at {expires_at.isoformat()} is not in the future")
        with self.repository.session() as session:
            work = _Work(self, session, now)
            event = self._get(work, event_id)
            if not event.is_open:
                raise EventStateError(f"event {event_id} is {event.state}: only open events can be acknowledged")
            before = event.state
            event.state = ACKNOWLEDGED
            event.acknowledged_at = work.now
            event.acknowledged_by = actor
            event.ack_expires_at = expires_at
            if event.first_acknowledged_at is None:
                event.first_acknowledged_at = work.now
            event.next_escalation_at = None
            detail = f"until {expires_at.astimezone(dt.UTC):%Y-%m-%d %H:%M:%S} UTC" if expires_at else None
            work.record(event, "acknowledged", before, ACKNOWLEDGED, actor=actor, comment=comment, detail=detail)
            if event.notified and not event.held:
                work.notify(event, "acknowledged", actor=actor, comment=comment)
            work.flush()
        return work.notices

    def resolve(self, event_id: int, actor: str, comment: str | None = None) -> list[Notice]:
        """Resolve an open event by hand. Its fingerprint's bad streak starts again: if the check still
        fails, the event reopens after ``open_after`` more results."""
        _actor(actor)
        _comment(comment)
        with self.repository.session() as session:
            work = _Work(self, session, self._now())
            event = self._get(work, event_id)
            if not event.is_open:
                raise EventStateError(f"event {event_id} is {event.state}: only open events can be resolved")
            self._resolve(work, event, actor=actor, comment=comment)
            track = session.tracks({event.fingerprint_hash}).get(event.fingerprint_hash)
            if track is not None:
                work.watch_track(track, existed=True)
                track.bad_streak = 0
                track.streak_started_at = None
                track.streak_worst = None
            self._reconcile(work, event, actor=actor, comment=comment)
            work.flush()
        return work.notices

    def comment(self, event_id: int, author: str, text: str) -> EventComment:
        """Add a comment to an event in any state (it is recorded in the history too)."""
        _actor(author)
        if not isinstance(text, str) or not text.strip() or len(text) > COMMENT_MAX_LENGTH:
            raise ValueError(f"comment: expected 1 to {COMMENT_MAX_LENGTH} characters")
        with self.repository.session() as session:
            work = _Work(self, session, self._now())
            event = self._get(work, event_id)
            stored = session.add_comment(EventComment(event_id=event_id, at=work.now, author=author, text=text))
            work.record(event, "commented", event.state, event.state, actor=author, comment=text)
            work.flush()
        return stored

    # -- results ------------------------------------------------------------------------------------

    def _apply(self, work: _Work, key: str, result: Result, tracks: dict[str, Track], events: dict[str, Event]) -> None:
        status = result.status.value
        ok = status == "OK"
        event = events.get(key)
        track = tracks.get(key)
        if track is None:
            if ok and (event is None or not event.is_open):
                return
            track = tracks[key] = Track(key, result.target, result.check, result.item)
            work.watch_track(track, existed=False)
        elif track.last_at is not None and result.started_at < track.last_at:
            return  # late: an older result than one already evaluated (a replayed spool); stored, not evaluated
        rules = self._rules_for(result.check)

        # Flap detection, Icinga's way: a ring of the last 20 results, 1 where the status changed.
        track.flap_bits = ((track.flap_bits << 1) | (status != track.status)) & FLAP_MASK
        if rules.flap_detection:
            value = flap_percent(track.flap_bits)
            track.flapping = value > rules.flap_low if track.flapping else value > rules.flap_high
        else:
            track.flapping = False
        track.status = status
        track.last_at = result.started_at
        if ok:
            track.ok_streak += 1
            track.bad_streak = 0
            track.streak_started_at = None
            track.streak_worst = None
        else:
            if track.bad_streak == 0:
                track.streak_started_at = result.started_at
                track.streak_worst = status
            elif _RANK[status] > _RANK[track.streak_worst or "UNKNOWN"]:
                track.streak_worst = status
            track.bad_streak += 1
            track.ok_streak = 0

        raised: str | None = None
        if event is not None and event.is_open:
            event.last_summary = result.summary
            if ok:
                self._set_down(work, event, False)
                if track.ok_streak >= rules.resolve_after:
                    self._resolve(work, event)
            else:
                event.count += 1
                if result.started_at > event.last_seen:
                    event.last_seen = result.started_at
                raised = self._raise_severity(work, event, status)
                self._set_down(work, event, self._says_down(result))
        elif not ok and (track.bad_streak >= rules.open_after or track.flapping):
            kind, severity = _kind_and_severity(track.streak_worst or status)
            if self._reopens(work, event):
                self._reopen(work, event, kind, severity, track.bad_streak, result.started_at, result.summary)
            else:
                event = self._open(
                    work, key, result.target, result.check, result.item, kind, severity,
                    first_seen=track.streak_started_at or result.started_at, last_seen=result.started_at,
                    count=track.bad_streak, summary=result.summary,
                )
                events[key] = event
            self._set_down(work, event, self._says_down(result))

        if event is not None and (event.is_open or event.notified):
            flap: str | None = None
            if event.flapping != track.flapping:
                event.flapping = track.flapping
                flap = "started" if track.flapping else "stopped"
                detail = f"{flap_percent(track.flap_bits):.1f}% of the last results changed state"
                work.record(event, f"flapping_{flap}", event.state, event.state, detail=detail)
            self._update_holds(work, event)
            if flap is not None and not (event.suppressed or event.in_maintenance):
                if flap == "started":
                    if event.first_notified_at is None:
                        event.first_notified_at = work.now
                    event.notified = event.is_open or event.notified
                    work.notify(event, "flapping", labels={"flapping": "started"})
                elif event.is_open and event.notified:
                    work.notify(event, "flapping", labels={"flapping": "stopped"})
            if raised is not None and event.notified and not event.held:
                work.notify(event, "severity_changed")
            self._reconcile(work, event)

        work.settle_track(track, rest=track.at_rest and (event is None or not event.is_open))

    def _raise_severity(self, work: _Work, event: Event, status: str) -> str | None:
        """Severity follows the worst status while the event is open; UNKNOWN never lowers what is known."""
        if event.kind == NODATA or _RANK[status] <= _RANK.get(event.severity, 0):
            return None
        before = event.severity
        event.kind, event.severity = _kind_and_severity(status)
        work.record(event, "severity_changed", event.state, event.state, detail=f"{before} -> {event.severity}")
        return before

    def _says_down(self, result: Result) -> bool:
        return result.status.value == "CRITICAL" and (not result.collected or result.check in self.policy.down_checks)

    # -- silence ------------------------------------------------------------------------------------

    def _silence(
        self, work: _Work, key: str, name: str, last_seen: dt.datetime, interval: dt.timedelta, events: dict[str, Event]
    ) -> None:
        silent_for = work.now - last_seen
        silent = silent_for > self.policy.nodata_limit(interval)
        event = events.get(key)
        if silent:
            summary = f"no data for {_duration(silent_for)} (expected every {_duration(interval)})"
            if event is not None and event.is_open:
                event.last_summary = summary
            elif self._reopens(work, event):
                self._reopen(work, event, NODATA, "NODATA", 1, last_seen, summary)
            else:
                event = events[key] = self._open(
                    work, key, name, NODATA_CHECK, "", NODATA, "NODATA",
                    first_seen=last_seen, last_seen=last_seen, count=1, summary=summary,
                )
            self._set_down(work, event, True)
        elif event is not None and event.is_open:
            event.last_summary = f"data again since {last_seen.astimezone(dt.UTC):%Y-%m-%d %H:%M:%S} UTC"
            self._resolve(work, event)
        if event is not None and (event.is_open or event.notified):
            self._update_holds(work, event)
            self._reconcile(work, event)

    # -- transitions --------------------------------------------------------------------------------

    def _open(
        self, work: _Work, key: str, target: str, check: str, item: str, kind: str, severity: str, *,
        first_seen: dt.datetime, last_seen: dt.datetime, count: int, summary: str,
    ) -> Event:
        event = Event(
            id=None, fingerprint_hash=key, target=target, check=check, item=item, kind=kind, severity=severity,
            state=FIRING, first_seen=first_seen, last_seen=last_seen, count=count, opened_at=work.now,
            last_summary=summary,
        )
        work.insert(event)
        work.record(event, "opened", None, FIRING, detail=severity)
        return event

    def _reopens(self, work: _Work, event: Event | None) -> bool:
        """Whether a problem now reopens ``event`` rather than opening a new one: it resolved recently, or
        receivers were never told it resolved (a held resolution), so for them it is the same problem."""
        return (
            event is not None and event.state == RESOLVED
            and (event.notified or event.resolved_at >= work.now - self.policy.reopen_within)  # type: ignore[operator]
        )

    def _reopen(
        self, work: _Work, event: Event, kind: str, severity: str, count: int, last_seen: dt.datetime, summary: str
    ) -> None:
        event.state = FIRING
        event.kind, event.severity = kind, severity
        event.count += count
        event.last_seen = max(event.last_seen, last_seen)
        event.last_summary = summary
        event.resolved_at = event.resolved_by = None
        event.acknowledged_at = event.acknowledged_by = event.ack_expires_at = None
        event.escalation_level = 0
        event.next_escalation_at = None
        work.record(event, "reopened", RESOLVED, FIRING, detail=severity)

    def _resolve(self, work: _Work, event: Event, actor: str | None = None, comment: str | None = None) -> None:
        before = event.state
        event.state = RESOLVED
        event.resolved_at = work.now
        event.resolved_by = actor
        event.ack_expires_at = None
        event.next_escalation_at = None
        self._set_down(work, event, False)
        work.record(event, "resolved", before, RESOLVED, actor=actor, comment=comment)

    def _close(self, work: _Work, event: Event) -> None:
        event.state = CLOSED
        event.closed_at = work.now
        work.record(event, "closed", RESOLVED, CLOSED)
        if event.notified:  # whatever held it, receivers learn the end before the event leaves the live set
            event.notified = False
            work.notify(event, "resolved")

    def _expire_ack(self, work: _Work, event: Event) -> None:
        detail = f"acknowledged by {event.acknowledged_by}"
        expired_at = event.ack_expires_at
        event.state = FIRING
        event.acknowledged_at = event.acknowledged_by = event.ack_expires_at = None
        event.next_escalation_at = None
        work.record(event, "ack_expired", ACKNOWLEDGED, FIRING, detail=detail, at=expired_at)

    def _set_down(self, work: _Work, event: Event, down: bool) -> None:
        down = down and event.is_open
        if event.down == down:
            return
        event.down = down
        # The span kept for availability: from the first time it went down to the last time it came up.
        # An event down from its opening was down from its streak's first result (nodata: the last contact).
        if down:
            event.down_from = event.down_from or (event.first_seen if event.opened_at == work.now else work.now)
            event.down_to = None
        else:
            event.down_to = work.now
        ids = work.down.get(event.target)
        if ids is None and work.down_complete:
            ids = work.down[event.target] = set()
        if ids is not None:
            (ids.add if down else ids.discard)(event.id)  # type: ignore[operator]

    # -- holds, notices, escalation -----------------------------------------------------------------

    def _update_holds(self, work: _Work, event: Event) -> None:
        windows = [w for w in work.active_windows() if w.covers(event.target, event.check, self._matcher)]
        if bool(windows) != event.in_maintenance:
            event.in_maintenance = bool(windows)
            if windows:
                detail = "; ".join(w.name for w in windows)[:200]
                work.record(event, "maintenance_started", event.state, event.state, detail=detail)
            else:
                work.record(event, "maintenance_ended", event.state, event.state)
        down = self._down_causes(work, event)
        if bool(down) != event.suppressed:
            event.suppressed = bool(down)
            if down:
                detail = ("down: " + ", ".join(down))[:200]
                work.record(event, "suppressed", event.state, event.state, detail=detail)
            else:
                work.record(event, "unsuppressed", event.state, event.state)
        if event.held:
            event.next_escalation_at = None

    def _down_causes(self, work: _Work, event: Event) -> list[str]:
        causes = [parent for parent in self._ancestors_of(event.target) if work.down.get(parent)]
        if self.policy.own_target_suppresses and event.is_open:
            # The target's first down event speaks for it: an unreachable host fails every check at once.
            others = work.down.get(event.target, set()) - {event.id}
            if others and (not event.down or min(others) < event.id):  # type: ignore[operator]
                causes.append(event.target)
        return causes

    def _reconcile(
        self, work: _Work, event: Event, actor: str | None = None, comment: str | None = None,
        since: dt.datetime | None = None,
    ) -> None:
        """Bring receivers' view in line with the event, unless its notices are held: tell an open event
        they were not told about, tell a resolution they were not told about, keep escalation scheduled
        (the next level counted from ``since``, default now)."""
        if event.held:
            event.next_escalation_at = None
            return
        if event.is_open:
            if not event.notified:
                change = "reopened" if event.first_notified_at is not None else "opened"
                event.notified = True
                if event.first_notified_at is None:
                    event.first_notified_at = work.now
                work.notify(event, change)
            if event.state == FIRING and event.next_escalation_at is None:
                delay = self._next_delay(event.escalation_level)
                event.next_escalation_at = None if delay is None else (since or work.now) + delay
        else:
            event.next_escalation_at = None
            if event.notified:
                event.notified = False
                work.notify(event, "resolved", actor=actor, comment=comment)

    def _escalate(self, work: _Work, event: Event) -> None:
        while (
            event.state == FIRING and event.notified and not event.held
            and event.next_escalation_at is not None and event.next_escalation_at <= work.now
        ):
            due = event.next_escalation_at
            level = self._next_level(event.escalation_level)
            if level is None:
                event.next_escalation_at = None
                return
            event.escalation_level = level
            work.record(event, "escalated", FIRING, FIRING, detail=f"level {level}", at=due)
            work.notify(event, "escalated", at=due)
            delay = self._next_delay(level)
            event.next_escalation_at = None if delay is None else due + delay

    def _next_level(self, level: int) -> int | None:
        return next((step.level for step in self.policy.escalation if step.level > level), None)

    def _next_delay(self, level: int) -> dt.timedelta | None:
        """The wait from reaching ``level`` (0: the first notice) to the next level."""
        base = dt.timedelta(0)
        for step in self.policy.escalation:
            if step.level <= level:
                base = step.after
            else:
                return step.after - base
        return None

    # -- helpers ------------------------------------------------------------------------------------

    def _get(self, work: _Work, event_id: int) -> Event:
        event = work.session.event(event_id)
        if event is None:
            raise EventNotFound(event_id)
        work.watch(event)
        return event

    def _now(self) -> dt.datetime:
        return _aware(self.clock(), "the clock's time")

    def _rules_for(self, check: str) -> Rules:
        rules = self._rules.get(check)
        if rules is None:
            rules = self._rules[check] = self.policy.rules(check)
        return rules

    def _ancestors_of(self, target: str) -> tuple[str, ...]:
        found = self._ancestors.get(target)
        if found is None:
            seen: dict[str, None] = {}
            pending = list(self._parents.get(target, ()))
            while pending:
                parent = pending.pop(0)
                if parent == target or parent in seen:
                    continue
                seen[parent] = None
                pending.extend(self._parents.get(parent, ()))
            found = self._ancestors[target] = tuple(seen)
        return found

    def _with_ancestors(self, targets: set[str]) -> set[str]:
        out = set(targets)
        for target in targets:
            out.update(self._ancestors_of(target))
        return out

    def groups_of(self, target: str) -> tuple[str, ...]:
        groups = self._groups.get(target)
        if groups is None:
            host = self._inventory.hosts.get(target) if self._inventory is not None else None
            groups = self._groups[target] = tuple(getattr(host, "groups", ()) or ())
        return groups


class _Work:
    """What one engine call does inside its transaction: the events and tracks it touched (written at the
    end, only what changed), their history, the notices, and caches of the call."""

    def __init__(self, engine: EventEngine, session: EventSession, now: dt.datetime) -> None:
        self.engine = engine
        self.session = session
        self.now = now
        self.notices: list[Notice] = []
        self.history: list[HistoryEntry] = []
        self._events: dict[int, tuple[Event, tuple]] = {}
        self._tracks: dict[str, tuple[Track, tuple | None]] = {}
        self._deleted: set[str] = set()
        self._windows: list[MaintenanceWindow] | None = None
        self.down: dict[str, set[int]] = {}  # target -> its open down events (for the targets loaded)
        self.down_complete = False  # True: a target missing from `down` has none

    def watch(self, event: Event) -> None:
        if event.id not in self._events:
            self._events[event.id] = (event, _event_values(event))  # type: ignore[index]

    def insert(self, event: Event) -> None:
        self.session.insert_event(event)
        self.watch(event)

    def watch_track(self, track: Track, existed: bool) -> None:
        if track.fingerprint_hash not in self._tracks:
            self._tracks[track.fingerprint_hash] = (track, _track_values(track) if existed else None)
        self._deleted.discard(track.fingerprint_hash)

    def settle_track(self, track: Track, rest: bool) -> None:
        """A track at rest is deleted (absence means at rest); any other is kept."""
        (self._deleted.add if rest else self._deleted.discard)(track.fingerprint_hash)

    def load_down(self, targets: set[str]) -> None:
        missing = [t for t in targets if t not in self.down]
        if missing:
            found = self.session.down_events(missing)
            for target in missing:
                self.down[target] = set(found.get(target, ()))

    def active_windows(self) -> list[MaintenanceWindow]:
        if self._windows is None:
            self._windows = [w for w in self.session.windows() if w.active(self.now)]
        return self._windows

    def record(
        self, event: Event, kind: str, from_state: str | None, to_state: str, *, actor: str | None = None,
        comment: str | None = None, detail: str | None = None, at: dt.datetime | None = None,
    ) -> None:
        self.history.append(HistoryEntry(
            event_id=event.id, at=at or self.now, kind=kind, from_state=from_state, to_state=to_state,  # type: ignore[arg-type]
            actor=actor, comment=comment, detail=detail,
        ))

    def notify(
        self, event: Event, change: str, *, at: dt.datetime | None = None, actor: str | None = None,
        comment: str | None = None, labels: dict[str, str] | None = None,
    ) -> None:
        self.notices.append(Notice(
            event_id=event.id,  # type: ignore[arg-type]
            fingerprint=event.fingerprint,
            target=event.target,
            check=event.check,
            item=event.item,
            severity=event.severity,  # type: ignore[arg-type]
            state=event.state,  # type: ignore[arg-type]
            change=change,  # type: ignore[arg-type]
            summary=event.last_summary,
            first_seen=event.first_seen,
            last_seen=event.last_seen,
            count=event.count,
            at=at or self.now,
            groups=self.engine.groups_of(event.target),
            escalation_level=event.escalation_level,
            actor=actor,
            comment=comment,
            labels=labels or {},
        ))

    def flush(self) -> None:
        changed = [event for event, before in self._events.values() if _event_values(event) != before]
        if changed:
            self.session.update_events(changed)
        save = [
            track for key, (track, before) in self._tracks.items()
            if key not in self._deleted and _track_values(track) != before
        ]
        if save:
            self.session.save_tracks(save)
        gone = [key for key in self._deleted if self._tracks.get(key, (None, None))[1] is not None]
        if gone:
            self.session.delete_tracks(gone)
        if self.history:
            self.session.add_history(self.history)
        if self.notices:
            self.session.queue_notices(self.notices)


def _kind_and_severity(status: str) -> tuple[str, str]:
    return (UNKNOWN, "UNKNOWN") if status == "UNKNOWN" else (PROBLEM, status)


def _started_at(result: Result) -> dt.datetime:
    return result.started_at


def _event_id(event: Event) -> int:
    return event.id  # type: ignore[return-value]


def _aware(value: dt.datetime, what: str) -> dt.datetime:
    if not isinstance(value, dt.datetime) or value.tzinfo is None:
        raise ValueError(f"{what}: expected a time with a time zone, got {value!r}")
    return value


def _actor(actor: object) -> None:
    if not isinstance(actor, str) or not actor.strip() or len(actor) > ACTOR_MAX_LENGTH:
        raise ValueError(f"actor: expected 1 to {ACTOR_MAX_LENGTH} characters, got {actor!r}")


def _comment(comment: object) -> None:
    if comment is not None and (not isinstance(comment, str) or len(comment) > COMMENT_MAX_LENGTH):
        raise ValueError(f"comment: expected at most {COMMENT_MAX_LENGTH} characters")


def _duration(value: dt.timedelta) -> str:
    seconds = int(value.total_seconds())
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    if seconds < 172800:
        return f"{seconds // 3600} h {seconds % 3600 // 60} min"
    return f"{seconds // 86400} d {seconds % 86400 // 3600} h"
