"""The SQL event repository on SQLite: schema and migration, the open-fingerprint constraint, reads,
maintenance windows, all-or-nothing calls, no writes for steady OK results, concurrent callers.
(tests/integration/test_events_backends.py runs the same repository on PostgreSQL too.)"""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory
from events_support import T0, Harness, result

from collector.events import EventEngine, MaintenanceWindow, MemoryRepository, Policy
from collector.events.model import Event, fingerprint_hash
from collector.events.repository import DatabaseRepository
from collector.store import Store, StoreError
from collector.store.migrate import alembic_config

EVENT_TABLES = {
    "events", "event_history", "event_comments", "event_tracks", "maintenance_windows", "event_feeds", "event_outbox",
}


@pytest.fixture
def store(tmp_path: Path):
    with Store.open(f"sqlite:///{tmp_path}/patrol.db") as store:
        yield store


@pytest.fixture
def repository(store: Store) -> DatabaseRepository:
    return DatabaseRepository.from_store(store)


def tables(store: Store) -> set[str]:
    return set(sa.inspect(store.engine).get_table_names())


def test_migrations_0003_and_0004_add_the_event_tables_and_remove_them_on_downgrade(store):
    assert ScriptDirectory.from_config(alembic_config()).get_current_head() == "0008"
    assert EVENT_TABLES <= tables(store)
    with store.engine.begin() as conn:
        command.downgrade(alembic_config(conn), "0002")
    assert not EVENT_TABLES & tables(store)
    with store.engine.begin() as conn:
        command.upgrade(alembic_config(conn), "head")
    assert EVENT_TABLES <= tables(store)


def _event(key: str, state: str) -> Event:
    return Event(
        id=None, fingerprint_hash=key, target="web01", check="disk", item="/", kind="problem", severity="CRITICAL",
        state=state, first_seen=T0, last_seen=T0, count=1, opened_at=T0, last_summary="full",
    )


def test_the_database_keeps_one_open_event_per_fingerprint(repository):
    key = fingerprint_hash("web01", "disk", "/")
    with repository.session() as session:
        session.insert_event(_event(key, "resolved"))
        session.insert_event(_event(key, "closed"))
        session.insert_event(_event(key, "firing"))
    with pytest.raises(StoreError, match="UNIQUE"), repository.session() as session:
        session.insert_event(_event(key, "acknowledged"))
    assert [e.state for e in repository.list_events()] == ["firing", "closed", "resolved"]


def test_events_come_back_as_they_went_in_with_aware_times(repository):
    h = Harness(Policy(open_after=1), repository=repository)
    [opened] = h.feed("CRITICAL", summary="/ 95% used, 数据库")
    h.engine.acknowledge(opened.event_id, "alice", "看一下", expires_at=h.now + dt.timedelta(hours=1))
    h.engine.comment(opened.event_id, "bob", "vendor ticket")
    event = repository.get_event(opened.event_id)
    assert event.last_summary == "/ 95% used, 数据库" and event.ack_expires_at == h.now + dt.timedelta(hours=1)
    assert event.opened_at.tzinfo == dt.UTC and event.first_seen == T0 + dt.timedelta(minutes=1)
    assert [(e.kind, e.actor, e.comment) for e in repository.history(event.id)] == [
        ("opened", None, None), ("acknowledged", "alice", "看一下"), ("commented", "bob", "vendor ticket")
    ]
    assert [(c.author, c.text) for c in repository.comments(event.id)] == [("bob", "vendor ticket")]
    assert repository.get_event(999) is None and repository.history(999) == []


def test_list_events_filters(repository):
    h = Harness(Policy(open_after=1, resolve_after=1), repository=repository)
    h.feed("CRITICAL", target="web01")
    h.feed("WARNING", target="db01")
    h.feed("OK", target="db01")
    assert [e.target for e in repository.list_events()] == ["db01", "web01"]  # newest first
    assert [e.target for e in repository.list_events(states=["firing"])] == ["web01"]
    assert [e.target for e in repository.list_events(severities=["WARNING"])] == ["db01"]
    assert [e.target for e in repository.list_events(targets={"web01", "sw01"})] == ["web01"]
    later = T0 + dt.timedelta(minutes=2)
    assert [e.target for e in repository.list_events(opened_from=later)] == ["db01"]
    assert [e.target for e in repository.list_events(opened_to=later)] == ["web01"]
    assert len(repository.list_events(limit=1)) == 1


def test_maintenance_windows_round_trip(repository):
    windows = [
        MaintenanceWindow.once("upgrade", "db01", T0, T0 + dt.timedelta(hours=2), created_by="alice"),
        MaintenanceWindow.cron_window("backup", "backup*", "0 2 * * *", dt.timedelta(hours=1), check="disk",
                                      timezone="Asia/Shanghai", created_by="cron"),
        MaintenanceWindow.weekly_window("patch", "linux:!db*", ["sun", "sat"], dt.time(3, 30), dt.timedelta(hours=2),
                                        starts_at=T0, ends_at=T0 + dt.timedelta(days=90)),
    ]
    stored = [repository.add_window(w) for w in windows]
    assert [w.id for w in stored] == [1, 2, 3]
    back = repository.windows()
    assert back == stored
    assert back[2].weekdays == ("sat", "sun") and back[2].start_time == dt.time(3, 30)
    assert all(w.created_at is not None and w.created_at.tzinfo is not None for w in back)
    assert repository.remove_window(2) is True and repository.remove_window(2) is False
    assert [w.name for w in repository.windows()] == ["upgrade", "patch"]


class _FailingSession:
    def __init__(self, inner):
        self._inner = inner

    def __getattr__(self, name):
        return getattr(self._inner, name)

    def add_history(self, entries):
        self._inner.add_history(entries)
        raise RuntimeError("disk on fire")


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_a_failed_call_keeps_nothing(kind, store):
    repository = MemoryRepository() if kind == "memory" else DatabaseRepository.from_store(store)
    original = repository.session

    class Failing:
        def __enter__(self):
            self._context = original()
            return _FailingSession(self._context.__enter__())

        def __exit__(self, *exc):
            return self._context.__exit__(*exc)

    h = Harness(Policy(open_after=1), repository=repository)
    repository.session = Failing  # type: ignore[method-assign]
    with pytest.raises(RuntimeError, match="disk on fire"):
        h.feed("CRITICAL")
    repository.session = original  # type: ignore[method-assign]
    assert repository.list_events() == [] and repository.tracks() == []
    assert [n.change for n in h.feed("CRITICAL")] == ["opened"]  # and the next call works


def test_steady_ok_results_cost_no_write(repository, store):
    statements: list[str] = []
    sa.event.listen(store.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    engine = EventEngine(repository, Policy(), clock=lambda: T0)
    engine.observe([result("OK", T0, item=f"/srv/{n}") for n in range(1000)])
    writes = [s for s in statements if s.split()[0].upper() in ("INSERT", "UPDATE", "DELETE")]
    assert writes == [] and len([s for s in statements if s.startswith("SELECT")]) == 2  # 500 keys per query


def test_callers_in_several_processes_take_turns_on_sqlite(tmp_path):
    """Two stores on one file (two processes' worth: separate engines and locks) feeding the same failing
    items at once: SQLite's write lock, taken by BEGIN IMMEDIATE, serialises them; nothing is lost."""
    url = f"sqlite:///{tmp_path}/shared.db"
    Store.open(url).close()
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)
    stores = [Store.open(url), Store.open(url)]

    def feed(store: Store, offset: int) -> None:
        try:
            engine = EventEngine(DatabaseRepository(store.engine), Policy(open_after=1), clock=lambda: T0)
            barrier.wait(timeout=30)
            for n in range(30):
                at = T0 + dt.timedelta(seconds=2 * n + offset)
                engine.observe([result("CRITICAL", at, item=f"/srv/{i}") for i in range(20)])
        except BaseException as exc:  # noqa: BLE001 - reported by the test thread
            errors.append(exc)

    threads = [threading.Thread(target=feed, args=(store, n)) for n, store in enumerate(stores)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    repository = DatabaseRepository(stores[0].engine)
    events = repository.list_events()
    assert len(events) == 20 and all(e.state == "firing" for e in events)
    # Results older than one already evaluated are skipped, so the total is at most the 60 per item.
    assert all(30 <= e.count <= 60 for e in events)
    for store in stores:
        store.close()
