"""The SQL event repository on both backends: SQLite (a file) and a private PostgreSQL 15.

The migration agrees with the models (the partial unique index on open fingerprints included), random
operations give the same notices and records as the memory repository, and collectors evaluating the
same failing items at once never end up with two open events for one fingerprint.
"""

from __future__ import annotations

import datetime as dt
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from hypothesis import HealthCheck, given, settings

from collector.events import EventEngine, MemoryRepository, Policy
from collector.events.model import Event, fingerprint_hash
from collector.events.repository import DatabaseRepository
from collector.store import Store, StoreError
from collector.store.models import Base

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit" / "events"))
from events_support import T0, Harness, Scenario, result, snapshot  # noqa: E402
from test_events_properties import operations, policies  # noqa: E402

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.integration),
]
EVENT_TABLES = ("event_history", "event_comments", "event_tracks", "events", "maintenance_windows")


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/patrol.db"
    else:
        url = request.getfixturevalue("postgres_url")
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP SCHEMA public CASCADE")
            conn.exec_driver_sql("CREATE SCHEMA public")
        engine.dispose()
    with Store.open(url) as store:
        yield store


def empty(repository: DatabaseRepository) -> DatabaseRepository:
    """No events, no windows, ids from 1 again (the memory repository starts there too)."""
    with repository.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql(f"TRUNCATE {', '.join(EVENT_TABLES)} RESTART IDENTITY CASCADE")
        else:
            for table in EVENT_TABLES:
                conn.exec_driver_sql(f"DELETE FROM {table}")
    return repository


def test_the_migrated_schema_matches_the_models(store):
    with store.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
        assert context.get_current_revision() == "0008"
        indexes = {i["name"]: i for i in sa.inspect(conn).get_indexes("events")}
    assert indexes["uq_events_open_fingerprint_hash"]["unique"]


def test_one_open_event_per_fingerprint(store):
    repository = DatabaseRepository.from_store(store)
    key = fingerprint_hash("web01", "disk", "/")

    def event(state: str) -> Event:
        return Event(id=None, fingerprint_hash=key, target="web01", check="disk", item="/", kind="problem",
                     severity="CRITICAL", state=state, first_seen=T0, last_seen=T0, count=1, opened_at=T0,
                     last_summary="full")

    with repository.session() as session:
        for state in ("resolved", "resolved", "firing"):
            session.insert_event(event(state))
    with pytest.raises(StoreError), repository.session() as session:
        session.insert_event(event("firing"))
    assert Counter(e.state for e in repository.list_events()) == {"resolved": 2, "firing": 1}


def test_a_lifecycle_through_the_database(store):
    h = Harness(Policy(), repository=DatabaseRepository.from_store(store), parents={"db01": ["sw01"]})
    assert [n.change for n in h.feed("CRITICAL", "CRITICAL")] == ["opened"]
    [escalated] = h.tick(10 * 60)
    assert escalated.escalation_level == 1
    [ack] = h.engine.acknowledge(escalated.event_id, "alice", "on it")
    assert ack.state == "acknowledged"
    h.feed("CRITICAL", target="sw01", check="ping", collected=False)
    h.feed("CRITICAL", target="sw01", check="ping", collected=False)
    assert h.feed("CRITICAL", "CRITICAL", target="db01") == []
    assert h.event("db01").suppressed
    [resolved] = h.feed("OK", "OK")
    assert resolved.change == "resolved" and resolved.event_id == ack.event_id
    assert [e.kind for e in h.repository.history(ack.event_id)] == ["opened", "escalated", "acknowledged", "resolved"]


@pytest.mark.integration
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(policy=policies, ops=operations)
def test_postgresql_behaves_as_memory(postgres_store, policy, ops):
    in_memory = Scenario(policy, MemoryRepository())
    in_database = Scenario(policy, empty(DatabaseRepository.from_store(postgres_store)))
    for operation in ops:
        in_memory.apply(operation)
        in_database.apply(operation)
        assert in_database.notices == in_memory.notices
    assert snapshot(in_database.repository) == snapshot(in_memory.repository)


@pytest.fixture
def postgres_store(postgres_url: str) -> Iterator[Store]:
    engine = sa.create_engine(postgres_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP SCHEMA public CASCADE")
        conn.exec_driver_sql("CREATE SCHEMA public")
    engine.dispose()
    with Store.open(postgres_url) as store:
        yield store


def test_collectors_evaluating_the_same_items_at_once_never_open_two_events(store):
    """Two collectors (separate engines and connections) push the same failing items at the same time.
    A call that loses a race on a new event fails whole (StoreError) and is retried, as the caller would
    (on PostgreSQL about one call in thirty does here; SQLite's write lock makes them take turns)."""
    url = store.engine.url.render_as_string(hide_password=False)
    stores = [Store.open(url), Store.open(url)]
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []
    retried = Counter()

    def feed(index: int) -> None:
        try:
            engine = EventEngine(DatabaseRepository(stores[index].engine), Policy(open_after=1),
                                 clock=lambda: T0 + dt.timedelta(hours=1))
            barrier.wait(timeout=30)
            for n in range(15):
                batch = [result("CRITICAL", T0 + dt.timedelta(seconds=n), item=f"/srv/{i}") for i in range(10)]
                for _attempt in range(10):
                    try:
                        engine.observe(batch)
                        break
                    except StoreError:
                        retried[index] += 1
                else:
                    raise AssertionError("ten failed attempts")
        except BaseException as exc:  # noqa: BLE001 - reported by the test thread
            errors.append(exc)

    threads = [threading.Thread(target=feed, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    for each in stores:
        each.close()
    assert not errors, errors
    events = DatabaseRepository(store.engine).list_events()
    assert len(events) == 10 and all(e.state == "firing" for e in events)
    assert Counter(e.fingerprint_hash for e in events).most_common(1)[0][1] == 1


# -- the results feed and the outbox, with concurrent writers, evaluators and takers ------------------


def test_results_stored_while_several_evaluators_run_are_each_evaluated_once(store):
    """Ingest and evaluation interleave in separate threads (separate connections); on PostgreSQL ids are
    handed out before commit in any order, which the feed's high-water mark must not skip."""
    from collector.events.service import EventService, build_engine
    from collector.events.settings import EventSettings

    writers, batches, per_batch = 4, 30, 20
    done = threading.Event()

    def write(w: int) -> None:
        for b in range(batches):
            at = T0 + dt.timedelta(minutes=b)
            store.ingest_batch(f"w{w}-b{b}", f"host{w}", [
                result("CRITICAL", at, target=f"host{w}", item=f"/d{i}") for i in range(per_batch)
            ])

    evaluators = [EventService(store, build_engine(store, EventSettings(), None)) for _ in range(2)]

    def evaluate(service: EventService) -> None:
        while not done.is_set():
            service.evaluate()
        service.evaluate()

    threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
    readers = [threading.Thread(target=evaluate, args=(e,)) for e in evaluators]
    for thread in readers + threads:
        thread.start()
    for thread in threads:
        thread.join()
    done.set()
    for thread in readers:
        thread.join()
    assert sum(e.evaluated for e in evaluators) == writers * batches * per_batch
    events = evaluators[0].engine.repository.list_events()
    assert len(events) == writers * per_batch
    assert Counter(e.count for e in events) == {batches: writers * per_batch}  # every result counted once


def test_outbox_notices_go_to_exactly_one_taker(store):
    from collector.events.service import build_engine
    from collector.events.settings import EventSettings

    engine = build_engine(store, EventSettings(), None)
    for i in range(120):
        engine.observe([result("CRITICAL", T0, item=f"/m{i}"), result("CRITICAL", T0 + dt.timedelta(minutes=1),
                                                                       item=f"/m{i}")])
    taken: list[list] = [[], [], []]

    def take(slot: int) -> None:
        repository = DatabaseRepository.from_store(store)
        while batch := repository.take_notices(5):
            taken[slot].extend(batch)

    threads = [threading.Thread(target=take, args=(slot,)) for slot in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ids = sorted(n.event_id for slot in taken for n in slot)
    assert ids == sorted(set(ids)) and len(ids) == 120
