"""The results feed, the notice outbox and the event service, on a real SQLite store.

Exactly-once evaluation: every stored result is evaluated once, whatever the number of evaluators and
however they interleave; the outbox hands each notice to one taker.
"""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
from events_support import T0, result

from checks.status import Status
from collector.events import FeedMoved, MemoryRepository
from collector.events.repository import DatabaseRepository
from collector.events.service import RESULTS_FEED, EventService, build_engine
from collector.events.settings import EventSettings
from collector.notify.notice import Notice
from collector.store import Store
from collector.store.models import ResultRow

MINUTE = dt.timedelta(minutes=1)


@pytest.fixture
def store(tmp_path: Path):
    with Store.open(f"sqlite:///{tmp_path}/patrol.db") as store:
        yield store


def service(store: Store, **settings) -> EventService:
    events = EventSettings(**settings)
    return EventService(store, build_engine(store, events, None), events=events)


def newest_result_id(store: Store) -> int:
    with store.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.max(ResultRow.id))).scalar_one()


def store_run(store: Store, *results) -> None:
    run_id = store.start_run(playbook="p", playbook_path="p.yaml", description="", source="run")
    store.add_results(run_id, list(results))


def test_results_stored_by_runs_and_agents_are_evaluated_once(store):
    evaluator = service(store)
    store_run(store, result("CRITICAL", T0), result("OK", T0, target="web02"))
    store.ingest_batch("b1", "web01", [result("CRITICAL", T0 + MINUTE)])
    assert evaluator.evaluate() == 3
    assert evaluator.evaluate() == 0  # nothing new: nothing evaluated again
    events = evaluator.engine.repository.list_events()
    assert [(e.target, e.state, e.count) for e in events] == [("web01", "firing", 2)]
    assert evaluator.engine.repository.feed_position(RESULTS_FEED) == newest_result_id(store)


def test_a_result_evaluated_twice_would_count_twice_so_the_feed_prevents_it(store):
    """The engine alone counts a repeated result again (it cannot tell it is the same); the feed's
    position, moved in the same transaction, is what makes a restart safe."""
    store_run(store, result("CRITICAL", T0), result("CRITICAL", T0 + MINUTE))
    first = service(store)
    first.evaluate()
    restarted = service(store)  # a collector restarted on the same store
    assert restarted.evaluate() == 0
    assert restarted.engine.repository.list_events()[0].count == 2


def test_a_stale_feed_position_rolls_the_whole_call_back(store):
    engine = build_engine(store, EventSettings(), None)
    store_run(store, result("CRITICAL", T0), result("CRITICAL", T0 + MINUTE))
    last, results = store.results_after(0)
    engine.observe(results, feed=(RESULTS_FEED, 0, last))
    with pytest.raises(FeedMoved):
        engine.observe(results, feed=(RESULTS_FEED, 0, last))  # another evaluator already took them
    assert engine.repository.list_events()[0].count == 2
    assert len(engine.repository.history(1)) == 1


def test_memory_repository_feed_and_outbox_behave_alike():
    from collector.events import EventEngine

    engine = EventEngine(MemoryRepository())
    results = [result("CRITICAL", T0), result("CRITICAL", T0 + MINUTE)]
    notices = engine.observe(results, feed=("results", 0, 2))
    assert [n.change for n in notices] == ["opened"]
    with pytest.raises(FeedMoved):
        engine.observe(results, feed=("results", 0, 2))
    assert engine.repository.feed_position("results") == 2
    assert engine.repository.take_notices() == notices
    assert engine.repository.take_notices() == []


def test_concurrent_evaluators_split_the_results_without_loss_or_repeat(store):
    for n in range(40):
        store_run(store, *(result("CRITICAL" if i % 2 else "WARNING", T0 + n * MINUTE, item=f"/d{i}")
                           for i in range(50)))
    evaluators = [service(store) for _ in range(3)]
    threads = [threading.Thread(target=e.evaluate) for e in evaluators]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(e.evaluated for e in evaluators) == 2000
    events = evaluators[0].engine.repository.list_events()
    assert len(events) == 50 and all(e.count == 40 for e in events)  # every result counted once


def test_notices_wait_in_the_outbox_with_their_change_and_are_taken_once(store):
    engine = build_engine(store, EventSettings(), None)
    store_run(store, result("CRITICAL", T0), result("CRITICAL", T0 + MINUTE))
    returned = service(store).evaluate() and engine.repository.take_notices()
    assert [n.change for n in returned] == ["opened"]
    assert returned[0].target == "web01" and returned[0].severity == "CRITICAL"
    assert engine.repository.take_notices() == []
    event_id = returned[0].event_id
    assert engine.acknowledge(event_id, "alice", "on it") == engine.repository.take_notices()


def test_two_takers_never_get_the_same_notice(store):
    engine = build_engine(store, EventSettings(), None)
    for i in range(300):
        store_run(store, result("CRITICAL", T0, item=f"/m{i}"), result("CRITICAL", T0 + MINUTE, item=f"/m{i}"))
    service(store).evaluate()
    taken: list[list[Notice]] = [[], []]

    def take(slot: int) -> None:
        repository = DatabaseRepository.from_store(store)
        while batch := repository.take_notices(7):
            taken[slot].extend(batch)

    threads = [threading.Thread(target=take, args=(slot,)) for slot in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ids = [n.event_id for n in taken[0] + taken[1]]
    assert sorted(ids) == sorted(set(ids)) and len(ids) == 300
    assert engine.repository.take_notices() == []


def test_notice_json_round_trip():
    notice = Notice(
        event_id=7, fingerprint="web-01/disk//var", target="web-01", check="disk", item="/var",
        severity="CRITICAL", state="firing", change="opened", summary="92% used", first_seen=T0,
        last_seen=T0 + MINUTE, count=4, at=T0 + 2 * MINUTE, groups=("linux", "web"), escalation_level=1,
        actor="alice", comment="x", labels={"flapping": "started"},
    )
    data = notice.to_json()
    assert data["first_seen"] == "2026-11-23T08:00:00Z" and data["groups"] == ["linux", "web"]
    assert Notice.from_json(data) == notice
    assert Notice.from_json({**data, "added_later": 1}) == notice


def test_silent_agents_raise_nodata_events_on_tick(store):
    evaluator = service(store, nodata_minimum="1s")
    store.touch_agent("web01", 1.0)
    store.ingest_batch("b1", "web01", [result("OK", dt.datetime.now(dt.UTC))])
    evaluator.run_once(tick=True)
    assert evaluator.engine.repository.list_events() == []
    with store.engine.begin() as conn:  # its last contact, a minute ago
        conn.exec_driver_sql("UPDATE agents SET last_seen = datetime('now', '-60 seconds')")
    evaluator.run_once(tick=True)
    [event] = evaluator.engine.repository.list_events()
    assert (event.target, event.check, event.severity) == ("web01", "nodata", "NODATA")
    store.ingest_batch("b2", "web01", [result("OK", dt.datetime.now(dt.UTC))])
    evaluator.run_once(tick=True)
    assert evaluator.engine.repository.get_event(event.id).state == "resolved"


def test_results_after_returns_only_what_the_engine_reads(store):
    store_run(store, result(Status.UNKNOWN, T0, collected=False, summary="cannot read"))
    last, [stored] = store.results_after(0)
    assert last == newest_result_id(store)
    assert (stored.status, stored.collected, stored.summary, stored.started_at) == (
        Status.UNKNOWN, False, "cannot read", T0
    )
    assert store.results_after(last) == (last, [])


def test_without_channels_a_collector_drops_notices_and_a_one_shot_command_leaves_them(store):
    store_run(store, result("CRITICAL", T0), result("CRITICAL", T0 + MINUTE))
    one_shot = EventService.build(store, EventSettings(), None, keep_undelivered=True)
    one_shot.run_once()
    assert one_shot.discarded == 0
    collector = EventService.build(store, EventSettings(), None)  # patrol serve without channels
    collector.run_once()
    assert collector.discarded == 1  # the "opened" notice left by the one-shot command
    assert collector.engine.repository.take_notices() == []
