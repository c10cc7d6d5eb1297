"""Grouping on given times: wait for the first notice, a window between messages, groups by fields."""

from __future__ import annotations

from notify_samples import make_notice

from collector.notify.grouping import Batcher
from collector.notify.settings import Grouping


def ids(batches) -> list[list[int]]:
    return [[n.event_id for n in b.notices] for b in batches]


def test_a_burst_waits_then_goes_as_one_and_the_next_waits_for_the_window():
    b = Batcher(Grouping(wait=1, window=10))
    b.add(make_notice(1), now=100.0)
    b.add(make_notice(2), now=100.5)
    assert b.due(100.9) == [] and b.next_due() == 101.0
    assert ids(b.due(101.0)) == [[1, 2]]
    b.add(make_notice(3), now=102.0)
    assert b.next_due() == 111.0  # window after the last message, not wait after this notice
    b.add(make_notice(4), now=105.0)
    assert b.due(110.9) == [] and ids(b.due(111.0)) == [[3, 4]]
    b.add(make_notice(5), now=200.0)  # a quiet group starts afresh
    assert b.next_due() == 201.0


def test_groups_by_fields_are_separate_messages():
    b = Batcher(Grouping(wait=0, window=0, by=("severity",)))
    b.add(make_notice(1, severity="CRITICAL"), now=1.0)
    b.add(make_notice(2, severity="WARNING"), now=1.0)
    b.add(make_notice(3, severity="CRITICAL"), now=1.0)
    assert sorted(ids(b.due(1.0))) == [[1, 3], [2]]


def test_a_full_group_goes_at_once_and_flush_sends_everything():
    b = Batcher(Grouping(wait=60, window=60, max_notices=3))
    for i in range(3):
        b.add(make_notice(i), now=5.0)
    assert ids(b.due(5.0)) == [[0, 1, 2]]
    b.add(make_notice(9), now=6.0)
    assert len(b) == 1 and ids(b.flush(6.0)) == [[9]] and len(b) == 0


def test_drop_oldest_takes_from_the_oldest_group():
    b = Batcher(Grouping(wait=5, window=5, by=("target",)))
    b.add(make_notice(1, target="a"), now=1.0)
    b.add(make_notice(2, target="b"), now=2.0)
    b.add(make_notice(3, target="a"), now=3.0)
    assert [b.drop_oldest().event_id for _ in range(3)] == [1, 3, 2]
    assert b.drop_oldest() is None
