"""The event engine under random operations (hypothesis): results, ticks, acknowledgements, resolves,
comments, silence checks and maintenance windows, with an injected clock and dependencies
(web01 -> db01 -> sw01). After every operation the scenario checks the invariants (events_support):
at most one open event per fingerprint, no event lost, every bad result counted exactly once, every
transition in the history, receivers' view from the notices equal to the engine's, held events silent,
escalations due exactly when they should be. The same operations on the SQLite repository give the same
notices and the same records as in memory.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import sqlalchemy as sa
from events_support import (
    CHECKS,
    PATTERNS,
    STATUSES,
    T0,
    TARGETS,
    Harness,
    Scenario,
    result,
    snapshot,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collector.events import CheckRules, MaintenanceWindow, MemoryRepository, Policy
from collector.events.repository import DatabaseRepository
from collector.store import Store

MINUTES = dt.timedelta(minutes=1)

results = st.tuples(
    st.just("result"), st.sampled_from(TARGETS), st.sampled_from(CHECKS), st.sampled_from(STATUSES), st.booleans(),
    st.sampled_from([0, 10, 60, 300]),
)
ticks = st.tuples(st.just("tick"), st.sampled_from([0, 60, 300, 600, 1200, 1800, 4000]))
acks = st.tuples(st.just("ack"), st.integers(0, 30), st.sampled_from([None, None, 300, 1200]))
resolves = st.tuples(st.just("resolve"), st.integers(0, 30), st.none())
comments = st.tuples(st.just("comment"), st.integers(0, 30), st.integers(0, 9))
silences = st.tuples(st.just("silence"), st.sampled_from(TARGETS), st.booleans(), st.sampled_from([0, 60, 300]))
windows = st.tuples(
    st.just("window"), st.sampled_from(PATTERNS), st.sampled_from([None, "disk"]), st.sampled_from([0, 300]),
    st.sampled_from([300, 1800]),
)
# A burst: one fingerprint alternating between OK and a problem, enough to start flap detection.
bursts = st.builds(
    lambda target, check, bad, collected, n: [
        ("result", target, check, bad if i % 2 else "OK", collected, 60) for i in range(n)
    ],
    st.sampled_from(TARGETS), st.sampled_from(CHECKS), st.sampled_from(STATUSES[2:]), st.booleans(),
    st.integers(4, 14),
)
operations = st.lists(
    st.one_of(
        *[st.tuples(op) for op in (results, results, results, results, ticks, ticks, acks, resolves, comments,
                                    silences, windows)],
        bursts,
    ),
    min_size=10,
    max_size=50,
).map(lambda groups: [op for group in groups for op in group])
policies = st.builds(
    Policy,
    open_after=st.integers(1, 3),
    resolve_after=st.integers(1, 3),
    reopen_within=st.sampled_from([dt.timedelta(0), 10 * MINUTES]),
    close_after=st.just(60 * MINUTES),
    escalation=st.sampled_from([(), ((10 * MINUTES, 1),), ((10 * MINUTES, 1), (30 * MINUTES, 2))]),
    flap_detection=st.booleans(),
    down_checks=st.sampled_from([frozenset(), frozenset({"ping"})]),
    own_target_suppresses=st.booleans(),
    checks=st.sampled_from([{}, {"ping": CheckRules(open_after=1, resolve_after=1)}]),
)


@settings(max_examples=800, deadline=None)
@given(policy=policies, ops=operations)
def test_random_operations_keep_every_invariant(policy, ops):
    Scenario(policy, MemoryRepository()).run(ops)


@pytest.fixture(scope="module")
def sqlite_repository(tmp_path_factory: pytest.TempPathFactory):
    path: Path = tmp_path_factory.mktemp("events") / "events.db"
    with Store.open(f"sqlite:///{path}") as store:
        yield DatabaseRepository.from_store(store)


def empty(repository: DatabaseRepository) -> DatabaseRepository:
    with repository.engine.begin() as conn:
        for table in ("event_history", "event_comments", "event_tracks", "events", "maintenance_windows"):
            conn.execute(sa.text(f"DELETE FROM {table}"))
    return repository


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(policy=policies, ops=operations)
def test_the_sqlite_repository_behaves_as_the_memory_one(sqlite_repository, policy, ops):
    in_memory = Scenario(policy, MemoryRepository())
    in_sqlite = Scenario(policy, empty(sqlite_repository))
    for operation in ops:
        in_memory.apply(operation)
        in_sqlite.apply(operation)
        assert in_sqlite.notices == in_memory.notices
    assert snapshot(in_sqlite.repository) == snapshot(in_memory.repository)


# -- timing: escalation and maintenance ------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(
    tick_gaps=st.lists(st.integers(1, 900), min_size=1, max_size=20),
    ack_after=st.one_of(st.none(), st.integers(0, 3600)),
)
def test_escalation_fires_exactly_at_its_time_unless_acknowledged(tick_gaps, ack_after):
    """Opened (and told) at T: level 1 is due at T + 10 min, level 2 at T + 30 min; each is told by the
    first tick at or after its time, carrying that time; an acknowledgement before that tick stops it."""
    steps = ((10 * MINUTES, 1), (30 * MINUTES, 2))
    h = Harness(Policy(open_after=1, escalation=steps))
    [opened] = h.feed("CRITICAL")
    assert opened.change == "opened"
    told_at = h.now
    ack_time = None if ack_after is None else told_at + dt.timedelta(seconds=ack_after)
    tick_times = [told_at + dt.timedelta(seconds=sum(tick_gaps[: n + 1])) for n in range(len(tick_gaps))]

    escalated = []
    acked = False
    for at in tick_times:
        if ack_time is not None and not acked and ack_time <= at:
            h.now = ack_time
            h.engine.acknowledge(opened.event_id, "alice")
            acked = True
        h.now = at
        escalated += [(n.escalation_level, n.at, at) for n in h.engine.tick(at)]

    expected = []
    for after, level in steps:
        due = told_at + after
        first_tick = next((at for at in tick_times if at >= due), None)
        if first_tick is None or (ack_time is not None and ack_time <= first_tick):
            break
        expected.append((level, due, first_tick))
    assert escalated == expected
    assert [e.detail for e in h.repository.history(opened.event_id) if e.kind == "escalated"] == [
        f"level {level}" for level, *_ in expected
    ]


@settings(max_examples=150, deadline=None)
@given(
    start=st.integers(0, 1800),
    length=st.integers(60, 1800),
    fail_at=st.integers(0, 3600),
    fail_for=st.integers(1, 40),
)
def test_maintenance_never_notifies_and_tells_what_is_left_when_it_ends(start, length, fail_at, fail_for):
    """A window over web01; a result every minute, a tick after each. Nothing is told while the window is
    open; an event born inside and gone inside wakes nobody; one still firing at the end is told then."""
    h = Harness(Policy(open_after=1, resolve_after=1, reopen_within=dt.timedelta(0), flap_detection=False))
    window_start, window_end = T0 + dt.timedelta(seconds=start), T0 + dt.timedelta(seconds=start + length)
    h.repository.add_window(MaintenanceWindow.once("upgrade", "web01", window_start, window_end))
    for minute in range(1, 90):
        failing = fail_at <= minute * 60 < fail_at + fail_for * 60
        for notice in h.feed("CRITICAL" if failing else "OK") + h.tick():
            assert not window_start <= notice.at < window_end, notice
    for event in h.events():
        kinds = h.kinds(event.id)
        opened_inside = window_start <= event.opened_at < window_end
        if not opened_inside:
            continue
        assert kinds[:2] == ["opened", "maintenance_started"]  # recorded and marked
        # The engine's first call after the window (results and ticks come every minute) tells it, unless
        # it resolved by then: born inside and gone by the end, it woke nobody.
        first_call = T0 + dt.timedelta(minutes=-(-(start + length) // 60))
        if event.resolved_at is not None and event.resolved_at <= first_call:
            assert event.first_notified_at is None
        else:
            assert event.first_notified_at == first_call


@settings(max_examples=150, deadline=None)
@given(
    policy=policies,
    items=st.lists(
        st.tuples(st.sampled_from(TARGETS), st.sampled_from(CHECKS), st.sampled_from(STATUSES), st.integers(0, 59)),
        max_size=40,
        unique_by=lambda item: item[3],  # distinct times: equal ones are taken in the order given
    ),
    split=st.integers(1, 40),
)
def test_a_batch_is_its_results_one_by_one_in_time_order(policy, items, split):
    """However the results are batched (and ordered inside a batch), the events come out the same."""
    batch = [result(status, T0 + dt.timedelta(minutes=m), target, check) for target, check, status, m in items]
    now = T0 + dt.timedelta(hours=1)
    whole = Harness(policy)
    whole.now = now
    parts = Harness(policy)
    parts.now = now
    single = Harness(policy)
    single.now = now
    told_whole = whole.engine.observe(batch)
    told_parts = []
    ordered = sorted(batch, key=lambda r: r.started_at)
    for start in range(0, len(ordered), split):
        told_parts += parts.engine.observe(list(reversed(ordered[start : start + split])))
    told_single = [n for r in ordered for n in single.engine.observe([r])]
    assert told_whole == told_parts == told_single
    assert snapshot(whole.repository) == snapshot(parts.repository) == snapshot(single.repository)
