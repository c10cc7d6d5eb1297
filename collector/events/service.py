"""The event engine at work in the collector: stored results in, notices out to the channels.

    service = EventService.build(store, settings.events, settings.notifications, inventory=inventory)
    service.start()          # patrol serve: a thread evaluating, ticking and delivering
    service.wake()           # after a push was stored in this process: evaluate now
    service.close()

    service.run_once()       # patrol run: evaluate what was stored, hand the notices over

Three steps, each safe to run in several processes at once:
- **evaluate**: the results stored since the ``results`` feed's position go through the engine, and the
  position moves in the same transaction (exactly once, whoever stores or evaluates them);
- **tick**: escalations, acknowledgement expiries, maintenance windows, closing, and silent agents;
- **deliver**: notices are claimed from the outbox (each by one replica, for ``CLAIM_SECONDS``, renewed
  while it holds them) and handed to the notifier; each is deleted once every channel it was routed to
  is done with it. A replica that dies leaves its claims to run out: another sends those notices.

Nothing here blocks a push: HTTP handlers only store results and ``wake`` the thread.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from collector.events.engine import EventEngine
from collector.events.model import FeedMoved
from collector.events.repository import DatabaseRepository
from collector.events.settings import EventSettings
from collector.notify.dispatcher import Notifier
from collector.notify.settings import NotificationSettings
from collector.store.engine import StoreError

log = logging.getLogger("patrol.events")

RESULTS_FEED = "results"
FEED_BATCH = 5000  # results per engine call: one transaction each (bench/events.py: 500+ keeps commits cheap)
# Under a stream of pushes, wake-ups come faster than evaluations end: start one at most this often.
# On PostgreSQL each evaluation waits for every push in flight on every replica (the feed's advisory
# lock, taken exclusively to read a safe high-water mark) and new pushes queue behind it, so evaluating
# after every push stalls ingest; batched, the same results cost a few evaluations a second.
EVALUATE_GAP_SECONDS = 0.25
CLAIM_SECONDS = 120.0  # how long a dead replica's notices wait before another replica sends them


def build_engine(store: Any, events: EventSettings, notifications: NotificationSettings | None,
                 inventory: Any = None, repository: DatabaseRepository | None = None) -> EventEngine:
    """An engine on the store with the site's rules, escalation levels and dependencies.

    Every process that changes events (the service, an HTTP worker acknowledging, the CLI) builds its own
    from the same settings, so they agree on escalation delays. ``repository``: one already made on the
    store (the HTTP application keeps one and builds an engine per request around it)."""
    parents = inventory.parents() if inventory is not None else {}
    return EventEngine(
        repository or DatabaseRepository.from_store(store), events.policy(notifications), parents=parents,
        inventory=inventory,
    )


class EventService:
    def __init__(self, store: Any, engine: EventEngine, notifier: Notifier | None = None,
                 events: EventSettings | None = None, wake: threading.Event | None = None,
                 holder: str | None = None, claim_seconds: float = CLAIM_SECONDS) -> None:
        """``notifier`` None: notices stay in the outbox for a collector that has channels. ``wake``: the
        signal that results were stored in this process (``wake()`` sets it too). ``holder``: this
        replica's name in the outbox's claims; ``claim_seconds``: how long its claims outlive it."""
        from collector.store.leases import replica_id

        self.store = store
        self.holder = holder or replica_id()
        self._claimed: set[int] = set()  # outbox ids this service's notifier has
        self._settled: list[int] = []  # of those, the ones every channel is done with
        self._claims_lock = threading.Lock()
        self._claims_renewed = 0.0
        self.claim_seconds = claim_seconds
        self.engine = engine
        self.notifier = notifier
        self.settings = events or EventSettings()
        self.evaluated = 0  # results evaluated by this service
        self.delivered = 0  # notices handed to the notifier
        self.discarded = 0  # notices taken without a notifier (a collector with no channels)
        self.keep_undelivered = False  # without a notifier: leave notices in the outbox (patrol run)
        self._wake = wake or threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_tick = 0.0
        self._lock = threading.Lock()  # one step at a time: run_once from a caller and the thread
        self._site: Any = None
        self._inventory: Any = None
        self._notifications: NotificationSettings | None = None

    @classmethod
    def build(cls, store: Any, events: EventSettings, notifications: NotificationSettings | None,
              *, inventory: Any = None, site: Any = None, timezone: str | None = None,
              deliver: bool = True, wake: threading.Event | None = None,
              keep_undelivered: bool = False, holder: str | None = None,
              claim_seconds: float = CLAIM_SECONDS) -> EventService:
        """The service with its engine and, when ``deliver`` and channels are configured, a notifier
        (secrets are read now: a missing one is a ConfigError naming its field). With ``site`` (a
        ``SiteWatcher``) the engine follows inventory changes: dependencies, host patterns, groups."""
        notifier = None
        if deliver and notifications is not None and notifications.channels:
            notifier = Notifier.from_settings(notifications, timezone=timezone)
        if site is not None:
            inventory = site.site.inventory
        service = cls(store, build_engine(store, events, notifications, inventory), notifier, events, wake, holder,
                      claim_seconds)
        if notifier is not None:
            notifier.on_settled = service._on_settled
        service._site, service._inventory, service._notifications = site, inventory, notifications
        service.keep_undelivered = keep_undelivered
        return service

    def _follow_site(self) -> None:
        if self._site is None:
            return
        self._site.reload_if_changed()
        inventory = self._site.site.inventory
        if inventory is not self._inventory:
            self.engine = build_engine(self.store, self.settings, self._notifications, inventory)
            self._inventory = inventory

    # -- the steps ------------------------------------------------------------------------------------

    def evaluate(self) -> int:
        """Evaluate every result stored since the feed's position; the number evaluated here."""
        repository = self.engine.repository
        done = 0
        while True:
            position = repository.feed_position(RESULTS_FEED)
            last, results = self.store.results_after(position, FEED_BATCH)
            if last == position:
                return done
            try:
                self.engine.observe(results, feed=(RESULTS_FEED, position, last))
            except FeedMoved:
                continue  # another process evaluated them; read on from where it left the feed
            done += len(results)
            self.evaluated += len(results)

    def tick(self) -> None:
        """Time passing, and agents gone silent (last contact against their expected interval)."""
        self._follow_site()
        self.engine.tick()
        sources = [
            (agent.name, agent.last_seen or agent.first_seen, agent.expected_interval_seconds)
            for agent in self.store.agents()
        ]
        self.engine.check_silence(sources)

    def deliver(self) -> int:
        """Hand the outbox to the notifier. Without one, a one-shot command leaves the notices for a
        collector that has channels; the collector itself (``keep_undelivered`` False) takes and drops
        them, so an outbox nobody reads does not grow for ever."""
        if self.notifier is None and self.keep_undelivered:
            return 0
        repository = self.engine.repository
        handed = 0
        if self.notifier is None:
            while notices := repository.take_notices(1000):
                self.discarded += len(notices)
                handed += len(notices)
            return handed
        self._keep_claims()
        while claimed := repository.claim_notices(self.holder, self.claim_seconds, 1000):
            with self._claims_lock:
                self._claimed.update(outbox_id for outbox_id, _ in claimed)
            self.notifier.submit([notice for _, notice in claimed], keys=[outbox_id for outbox_id, _ in claimed])
            self.delivered += len(claimed)
            handed += len(claimed)
        self._forget_settled()
        return handed

    def _on_settled(self, outbox_ids: list[int]) -> None:
        """The notifier is done with these (any thread: bookkeeping only, the store is written later)."""
        with self._claims_lock:
            self._settled.extend(outbox_ids)

    def _forget_settled(self) -> None:
        with self._claims_lock:
            settled, self._settled = self._settled, []
            self._claimed.difference_update(settled)
        if settled:
            try:
                self.engine.repository.forget_notices(self.holder, settled)
            except Exception:
                with self._claims_lock:  # the store is away: forget them next time
                    self._settled.extend(settled)
                raise

    def _keep_claims(self) -> None:
        """Renew the claims on notices still with the notifier (a channel retrying, a group waiting)."""
        if time.monotonic() - self._claims_renewed < self.claim_seconds / 3:
            return
        self._forget_settled()
        with self._claims_lock:
            held = set(self._claimed)
        kept = self.engine.repository.renew_notices(self.holder, held, self.claim_seconds) if held else set()
        if held - kept:
            log.warning("%d notice(s) were claimed by another replica meanwhile (this one was too slow to renew)",
                        len(held - kept))
        self._claims_renewed = time.monotonic()

    def run_once(self, tick: bool = False) -> int:
        """Evaluate, optionally tick, deliver; returns the results evaluated."""
        with self._lock:
            evaluated = self.evaluate()
            if tick:
                self.tick()
            self.deliver()
        return evaluated

    # -- the background thread ------------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="patrol-events", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """Results were stored (or an event changed) in this process: evaluate and deliver now."""
        self._wake.set()

    def _loop(self) -> None:
        poll = self.settings.evaluate_interval.total_seconds()
        tick_every = self.settings.tick_interval.total_seconds()
        failing = False
        gap = min(EVALUATE_GAP_SECONDS, poll)
        started = 0.0
        while not self._stop.is_set():
            self._wake.wait(poll)
            if self._stop.wait(max(0.0, started + gap - time.monotonic())):  # pushes meanwhile join this one
                break
            self._wake.clear()
            if self._stop.is_set():
                break
            now = started = time.monotonic()
            due = now - self._last_tick >= tick_every
            try:
                self.run_once(tick=due)
                if due:
                    self._last_tick = now
                if failing:
                    log.info("event evaluation works again")
                failing = False
            except Exception as exc:  # noqa: BLE001 - the loop must outlive a database outage
                if not failing:
                    log.error("event evaluation failed (retrying every %.1f s): %s", poll, exc)
                failing = True
                self._stop.wait(min(5.0, poll * 4))

    def close(self, timeout: float = 10.0) -> None:
        """Stop the thread (after its current step), deliver what is left, close the notifier."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        try:
            with self._lock:
                self.deliver()
        except StoreError as exc:
            log.warning("notices left in the outbox at shutdown: %s", exc)
        if self.notifier is not None:
            self.notifier.close(timeout)
            try:  # what the channels finished is deleted; the rest goes back to the outbox for another replica
                self._forget_settled()
                with self._claims_lock:
                    left = set(self._claimed)
                if left:
                    self.engine.repository.release_notices(self.holder, left)
                    log.warning("%d notice(s) not delivered before shutdown stay in the outbox", len(left))
            except StoreError as exc:
                log.warning("notice claims left to run out (%g s): %s", self.claim_seconds, exc)

