"""The notifier: routes notices to channels and delivers them without ever blocking the caller.

Each channel has its own worker thread and its own bounded queue. ``submit`` only routes (a few
comparisons) and appends to the queues; grouping, rendering, delivery and retries happen in the workers.
A channel that hangs or fails holds up nobody but itself; when it holds more than ``queue_size`` notices
the oldest are dropped, counted and logged. A channel delivers its messages in order: a message waiting
for a retry holds back the ones after it (so "resolved" never overtakes "opened").
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any
from zoneinfo import ZoneInfo

import requests

from checks.errors import ConfigError, Path
from checks.secrets import Scrubber
from collector.notify.channels import CHANNELS, Channel, Secrets
from collector.notify.delivery import Delivery, DeliveryError, DeliveryLog, MemoryDeliveryLog, backoff
from collector.notify.grouping import Batcher
from collector.notify.notice import Notice
from collector.notify.routing import Router
from collector.notify.settings import SECTION, Grouping, NotificationSettings, Retries
from collector.notify.templates import Message, Renderer

log = logging.getLogger("patrol.notify")


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class ChannelStats:
    """Counters of one channel since the notifier started, and what it holds now."""

    queued: int = 0  # notices waiting: in the queue, in a group, or in a message not yet delivered
    submitted: int = 0  # notices routed to the channel
    delivered: int = 0  # messages the receiver took
    delivered_notices: int = 0
    retried: int = 0  # failed tries followed by another
    failed: int = 0  # messages given up on
    dropped: int = 0  # notices dropped because the channel held too many
    last_error: str | None = None
    last_delivered: dt.datetime | None = None


@dataclass
class _Outgoing:
    message: Message
    attempt: int = 0  # tries made so far
    next_try: float = 0.0


@dataclass
class _Job:
    kind: str  # "deliver" or "refresh"
    outgoing: _Outgoing | None = None
    records: list[Delivery] = field(default_factory=list)


class ChannelWorker:
    """One channel's queue and thread: grouping, rendering, delivery, retries, refreshes."""

    def __init__(self, channel: Channel, renderer: Renderer, grouping: Grouping, retries: Retries,
                 delivery_log: DeliveryLog, scrubber: Scrubber, queue_size: int,
                 clock: Callable[[], float] = time.monotonic, now: Callable[[], dt.datetime] = utc_now) -> None:
        self.channel = channel
        self.name = channel.name
        self.renderer = renderer
        self.retries = retries
        self.log = delivery_log
        self.scrubber = scrubber
        self.queue_size = queue_size
        self.clock = clock
        self.now = now
        self.stats = ChannelStats()
        self._intake: deque[Notice] = deque()
        self._batcher = Batcher(grouping)
        self._outbox: deque[_Outgoing] = deque()
        self._in_flight: _Outgoing | None = None
        self._cond = threading.Condition()
        self._closing = False
        self._deadline: float | None = None
        self._next_refresh = clock() + channel.refresh_seconds if channel.refresh_seconds else None
        # Told of notices this channel is done with (delivered, given up on, dropped): the notifier counts
        # them down across channels. Called under this worker's lock: it must only do bookkeeping.
        self.settle: Callable[[list[Notice]], None] = lambda notices: None
        self._thread = threading.Thread(target=self._run, name=f"patrol-notify-{self.name}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    # -- the caller's side: never waits for the channel ----------------------------------------------

    def put(self, notices: Iterable[Notice]) -> None:
        dropped: list[Delivery] = []
        with self._cond:
            for notice in notices:
                if self._closing:
                    dropped.append(self._lost([notice], "dropped", "the notifier is closing"))
                    continue
                self._intake.append(notice)
                self.stats.submitted += 1
            while self._held() > self.queue_size:
                dropped.append(self._drop_oldest())
            self._cond.notify_all()
        self._record(dropped)

    def close(self, deadline: float) -> None:
        with self._cond:
            self._closing = True
            self._deadline = deadline
            self._cond.notify_all()

    def join(self, timeout: float) -> bool:
        self._thread.join(max(timeout, 0))
        return not self._thread.is_alive()

    def wait_idle(self, timeout: float) -> bool:
        with self._cond:
            return self._cond.wait_for(self._idle, timeout)

    def snapshot(self) -> ChannelStats:
        with self._cond:
            flying = self._in_flight
            if flying is not None and not (self._outbox and self._outbox[0] is flying):  # not back for a retry
                return replace(self.stats, queued=self._held() + len(flying.message.notices))
            return replace(self.stats, queued=self._held())

    # -- bookkeeping, under the lock ------------------------------------------------------------------

    def _held(self) -> int:
        return len(self._intake) + len(self._batcher) + sum(len(o.message.notices) for o in self._outbox)

    def _idle(self) -> bool:
        return not self._intake and not len(self._batcher) and not self._outbox and self._in_flight is None

    def _drop_oldest(self) -> Delivery:
        reason = f"the channel held more than {self.queue_size} notices"
        if self._outbox:
            outgoing = self._outbox.popleft()
            return self._lost(outgoing.message.notices, "dropped", reason, outgoing.message.id, outgoing.attempt)
        notice = self._batcher.drop_oldest()
        if notice is None:
            notice = self._intake.popleft()
        return self._lost([notice], "dropped", reason)

    def _lost(self, notices: list[Notice], status: str, reason: str, delivery_id: str = "",
              attempt: int = 0) -> Delivery:
        before = self.stats.dropped
        if status == "dropped":
            self.stats.dropped += len(notices)
            if not self._closing:  # dropped at close: left to the next notifier (the outbox keeps them)
                self.settle(notices)
        # A stuck channel under a flood drops thousands: log the first and then one in a hundred.
        if status != "dropped" or before == 0 or before // 100 != self.stats.dropped // 100:
            log.warning("channel %s: %s %d notice(s) (%d dropped in all): %s", self.name, status, len(notices),
                        self.stats.dropped, reason)
        return Delivery(delivery_id, self.name, status, attempt, self.now(),  # type: ignore[arg-type]
                        tuple(n.event_id for n in notices), len(notices), reason)

    def _record(self, records: Iterable[Delivery]) -> None:
        for record in records:
            try:
                self.log.record(record)
            except Exception:  # noqa: BLE001 - a failing log must not stop deliveries
                log.exception("cannot record a delivery of channel %s", self.name)

    # -- the worker thread ----------------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            job = self._next_job()
            if job is None:
                return
            self._record(job.records)
            if job.kind == "deliver":
                assert job.outgoing is not None
                self._record(self._deliver(job.outgoing))
                with self._cond:  # idle only once the try is in the log
                    self._in_flight = None
                    self._cond.notify_all()
            elif job.kind == "refresh":
                self._refresh()

    def _next_job(self) -> _Job | None:
        """Wait for something to do; None when closed. Abandoned messages come back as records of a job."""
        records: list[Delivery] = []
        with self._cond:
            while True:
                now = self.clock()
                while self._intake:
                    self._batcher.add(self._intake.popleft(), now)
                batches = self._batcher.flush(now) if self._closing else self._batcher.due(now)
                for batch in batches:
                    self._outbox.append(_Outgoing(self.renderer.message(batch.notices, self.name)))
                if self._closing and self._outbox and self._deadline is not None and (
                        now >= self._deadline or self._outbox[0].next_try > self._deadline):
                    while self._outbox:
                        outgoing = self._outbox.popleft()
                        records.append(self._lost(outgoing.message.notices, "abandoned",
                                                  "the notifier closed before the message could be delivered",
                                                  outgoing.message.id, outgoing.attempt))
                if self._outbox and self._outbox[0].next_try <= now:
                    self._in_flight = self._outbox.popleft()
                    return _Job("deliver", self._in_flight, records)
                if self._closing and not self._outbox:
                    self._cond.notify_all()
                    return _Job("stop", records=records) if records else None
                if self._next_refresh is not None and now >= self._next_refresh and not self._outbox:
                    self._next_refresh = now + (self.channel.refresh_seconds or 0)
                    return _Job("refresh", records=records)
                if records:
                    return _Job("none", records=records)
                if self._idle():
                    self._cond.notify_all()
                times = (self._batcher.next_due(), self._outbox[0].next_try if self._outbox else None,
                         None if self._outbox else self._next_refresh, self._deadline if self._closing else None)
                wake = [t for t in times if t is not None]
                self._cond.wait(max(min(wake) - now, 0.001) if wake else None)

    def _deliver(self, outgoing: _Outgoing) -> list[Delivery]:
        message = outgoing.message
        outgoing.attempt += 1
        started = self.clock()
        error: DeliveryError | None = None
        try:
            self.channel.send(message)
        except DeliveryError as exc:
            error = exc
        except Exception as exc:  # noqa: BLE001 - a template or channel bug fails this message, not the worker
            log.exception("channel %s failed unexpectedly", self.name)
            error = DeliveryError(f"{exc.__class__.__name__}: {exc}", retry=False)
        seconds = self.clock() - started
        event_ids = tuple(n.event_id for n in message.notices)
        base = Delivery(message.id, self.name, "delivered", outgoing.attempt, self.now(), event_ids,
                        len(message.notices), None, round(seconds, 3))
        with self._cond:
            if error is None:
                self.settle(message.notices)
                self.stats.delivered += 1
                self.stats.delivered_notices += len(message.notices)
                self.stats.last_delivered = base.at
                record = base
            else:
                reason = self.scrubber.scrub(error.reason)
                self.stats.last_error = reason
                closing_too_soon = self._closing and self._deadline is not None and self.clock() >= self._deadline
                if error.retry and outgoing.attempt < self.retries.attempts and not closing_too_soon:
                    wait = backoff(outgoing.attempt, self.retries)
                    outgoing.next_try = self.clock() + wait
                    self._outbox.appendleft(outgoing)
                    self.stats.retried += 1
                    record = replace(base, status="retrying", reason=reason,
                                     next_try=base.at + dt.timedelta(seconds=wait))
                    log.info("channel %s: try %d failed (%s); next in %.1f s", self.name, outgoing.attempt, reason,
                             wait)
                else:
                    self.settle(message.notices)
                    self.stats.failed += 1
                    record = replace(base, status="failed", reason=reason)
                    log.warning("channel %s: delivery failed after %d tr%s: %s", self.name, outgoing.attempt,
                                "y" if outgoing.attempt == 1 else "ies", reason)
            self._cond.notify_all()
        return [record]

    def _refresh(self) -> None:
        try:
            self.channel.refresh()
        except Exception as exc:  # noqa: BLE001 - the next refresh tries again
            reason = self.scrubber.scrub(getattr(exc, "reason", None) or f"{exc.__class__.__name__}: {exc}")
            with self._cond:
                self.stats.last_error = reason
            log.warning("channel %s: refresh failed: %s", self.name, reason)


class Notifier:
    """Routes notices to channels and delivers them in the background.

    ``submit`` returns at once, whatever the channels do. ``close`` sends what is still grouped and waits
    (at most its timeout) for the channels to finish.
    """

    def __init__(self, settings: NotificationSettings, router: Router, workers: Mapping[str, ChannelWorker],
                 delivery_log: DeliveryLog) -> None:
        self.settings = settings
        self.router = router
        self.workers = dict(workers)
        self.log = delivery_log
        self.unrouted = 0  # notices no route sent anywhere
        self._closed = False
        # Notices submitted with a key: how many channels still have each, and its key. ``on_settled`` gets
        # the keys of those every channel is done with (the event service deletes them from the outbox).
        self.on_settled: Callable[[list[Any]], None] = lambda keys: None
        self._tracked: dict[int, list[Any]] = {}
        self._tracked_lock = threading.Lock()
        for worker in self.workers.values():
            worker.settle = self._settle

    @classmethod
    def from_settings(
        cls,
        settings: NotificationSettings,
        *,
        delivery_log: DeliveryLog | None = None,
        timezone: str | dt.tzinfo | None = None,
        environ: Mapping[str, str] | None = None,
        session_factory: Callable[[], requests.Session] = requests.Session,
        clock: Callable[[], float] = time.monotonic,
        path: Path = SECTION,
        start: bool = True,
    ) -> Notifier:
        """Resolve the channels' secrets and start a worker per channel.

        Raises ConfigError naming every secret that cannot be read (``path`` places them in the settings).
        ``timezone`` is the zone messages show times in (default: this host's).
        """
        zone = ZoneInfo(timezone) if isinstance(timezone, str) else timezone
        scrubber = Scrubber()
        delivery_log = delivery_log if delivery_log is not None else MemoryDeliveryLog()
        problems = []
        workers = {}
        for i, config in enumerate(settings.channels):
            secrets = Secrets(scrubber, path + ("channels", i), environ)
            channel = CHANNELS[config.type](config, secrets, session_factory)  # type: ignore[attr-defined]
            problems.extend(secrets.problems)
            renderer = Renderer(settings.templates.merged(config.templates), config.language or settings.language,
                                zone)
            workers[config.name] = ChannelWorker(
                channel, renderer, config.grouping or settings.grouping, config.retries or settings.retries,
                delivery_log, scrubber, settings.queue_size, clock,
            )
        if problems:
            raise ConfigError(problems)
        notifier = cls(settings, Router(settings), workers, delivery_log)
        if start:
            for worker in workers.values():
                worker.start()
        return notifier

    def submit(self, notices: Notice | Iterable[Notice], keys: Iterable[Any] | None = None) -> None:
        """Hand notices over for delivery; never blocks on a channel. With ``keys`` (one per notice),
        ``on_settled`` is told each notice's key once every channel it was routed to is done with it."""
        batch = [notices] if isinstance(notices, Notice) else list(notices)
        per_channel: dict[str, list[Notice]] = {}
        settled = []
        with self._tracked_lock:
            for notice, key in zip(batch, keys if keys is not None else [None] * len(batch), strict=True):
                names = self.router.route(notice)
                if not names:
                    self.unrouted += 1
                    if key is not None:
                        settled.append(key)
                elif key is not None:
                    self._tracked[id(notice)] = [len(names), key]  # the object travels to every channel
                for name in names:
                    per_channel.setdefault(name, []).append(notice)
        if settled:
            self.on_settled(settled)
        for name, routed in per_channel.items():
            self.workers[name].put(routed)

    def _settle(self, notices: list[Notice]) -> None:
        keys = []
        with self._tracked_lock:
            for notice in notices:
                entry = self._tracked.get(id(notice))
                if entry is not None:
                    entry[0] -= 1
                    if entry[0] == 0:
                        del self._tracked[id(notice)]
                        keys.append(entry[1])
        if keys:
            self.on_settled(keys)

    def stats(self) -> dict[str, ChannelStats]:
        return {name: worker.snapshot() for name, worker in self.workers.items()}

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Wait until every channel has delivered (or given up on) everything; False on timeout."""
        deadline = time.monotonic() + timeout
        return all(w.wait_idle(deadline - time.monotonic()) for w in self.workers.values())

    def close(self, timeout: float = 10.0) -> bool:
        """Send what is grouped now, wait up to ``timeout`` s for deliveries; what is left is abandoned.

        Returns True when every channel finished in time (a channel stuck in a try past the timeout
        is left to its daemon thread).
        """
        if self._closed:
            return True
        self._closed = True
        deadline = time.monotonic() + timeout
        for worker in self.workers.values():
            worker.close(worker.clock() + timeout)
        finished = all(w.join(deadline - time.monotonic()) for w in self.workers.values())
        for worker in self.workers.values():
            worker.channel.close()
        return finished

    def __enter__(self) -> Notifier:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
