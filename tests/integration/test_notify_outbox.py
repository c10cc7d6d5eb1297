"""The outbox between the event engine and the notifier, on both backends, with real HTTP receivers: a
notice leaves the outbox only once every channel it was routed to is done with it, so the notices a
replica had when it died are sent by another replica; one replica's claims are not another's."""
# ruff: noqa: F811 - ``store`` is the backends' fixture, taken as a parameter by the tests

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa

from collector.events.service import EventService, build_engine
from collector.events.settings import EventSettings
from collector.notify import Notifier, load_notifications

from .notify_support import HANG, Receiver, notice
from .test_events_backends import store  # noqa: F401 - the fixture: SQLite and PostgreSQL

pytestmark = pytest.mark.integration


def outbox(store) -> list[tuple[int, str | None]]:
    with store.engine.connect() as conn:
        return [tuple(row) for row in conn.execute(sa.text("SELECT id, claimed_by FROM event_outbox ORDER BY id"))]


def queue(store, *event_ids: int) -> None:
    from collector.events.repository import DatabaseRepository

    with DatabaseRepository.from_store(store).session() as session:
        session.queue_notices([notice(i) for i in event_ids])


def service(store, holder: str, *receivers: tuple[str, Receiver], **hook) -> EventService:
    channels = [{"name": name, "type": "webhook", "url": receiver.url + "/" + name, **hook}
                for name, receiver in receivers]
    settings = load_notifications({"channels": channels, "routes": [{"channels": [n for n, _ in receivers]}],
                                   "grouping": {"wait": 0, "window": 0}})
    notifier = Notifier.from_settings(settings, environ={})
    events = EventService(store, build_engine(store, EventSettings(), settings), notifier, holder=holder)
    notifier.on_settled = events._on_settled
    return events


def test_a_notice_leaves_the_outbox_once_every_channel_delivered_it(store):
    with Receiver() as fast, Receiver(lambda r: (200, {"ok": True}) if len(slow.requests) else (503, {})) as slow:
        events = service(store, "a", ("fast", fast), ("slow", slow), retries={"attempts": 5, "backoff": "300ms"})
        queue(store, 1, 2)
        assert events.deliver() == 2
        fast.wait_for(1)
        assert [holder for _, holder in outbox(store)] == ["a", "a"]  # "slow" still retrying
        slow.wait_for(2, timeout=10)
        assert events.notifier.wait_idle(10)
        events.deliver()
        assert outbox(store) == []
        events.close()


def test_a_dead_replicas_notices_are_sent_by_another_once_its_claims_run_out(store):
    from collector.events.repository import DatabaseRepository

    queue(store, 1, 2, 3)
    repository = DatabaseRepository.from_store(store)
    assert len(repository.claim_notices("dead", seconds=0.5)) == 3  # then the replica is killed
    with Receiver() as receiver:
        events = service(store, "b", ("hook", receiver))
        assert events.deliver() == 0  # claimed by "dead" still
        time.sleep(0.6)
        assert events.deliver() == 3
        [request] = receiver.wait_for(1)  # arrived together: one message
        assert sorted(n["event_id"] for n in request.json()["notices"]) == [1, 2, 3]
        assert events.notifier.wait_idle(10)
        events.deliver()
        assert outbox(store) == []
        events.close()
    assert len(receiver.requests) == 1  # once


def test_what_a_replica_could_not_deliver_before_shutdown_goes_back_to_the_outbox(store):
    with Receiver(lambda r: (200, HANG)) as stuck:
        events = service(store, "a", ("stuck", stuck), timeout="30s", retries={"attempts": 1})
        queue(store, 7)
        assert events.deliver() == 1
        stuck.wait_for(1)
        events.close(timeout=0.5)
    [(_, holder)] = outbox(store)
    assert holder is None  # released: the next replica takes it at once
