"""Delivery behaviour with real HTTP receivers: isolation of a hanging channel, retries with backoff,
grouping of a burst, dropping the oldest when a channel is stuck, flushing on close."""

from __future__ import annotations

import itertools
import time

import pytest

from collector.notify import Notifier, load_notifications

from .notify_support import HANG, Receiver, notice

pytestmark = pytest.mark.integration


def start(channels: list[dict], **extra) -> Notifier:
    data = {"channels": channels, "routes": [{"channels": [c["name"] for c in channels]}],
            "grouping": {"wait": 0, "window": 0}, **extra}
    return Notifier.from_settings(load_notifications(data), environ={})


def hook(name: str, receiver: Receiver, **extra) -> dict:
    return {"name": name, "type": "webhook", "url": receiver.url + "/" + name, **extra}


def test_a_hanging_channel_delays_neither_the_caller_nor_another_channel():
    with Receiver(lambda r: (200, HANG)) as stuck, Receiver() as healthy:
        notifier = start([hook("stuck", stuck, timeout="2s", retries={"attempts": 1}), hook("healthy", healthy)])
        with notifier:
            started = time.monotonic()
            notifier.submit([notice(1)])
            submitted = time.monotonic()
            [request] = healthy.wait_for(1, timeout=5)
            stuck.wait_for(1, timeout=5)
            # While "stuck" waits for its answer, the caller and "healthy" go on.
            for i in range(2, 52):
                notifier.submit([notice(i)])
            assert time.monotonic() - submitted < 0.5
            while sum(r.json()["count"] for r in healthy.requests) < 51 and time.monotonic() - started < 5:
                time.sleep(0.01)
            healthy_done = time.monotonic()
            assert notifier.wait_idle(10)
        assert submitted - started < 0.05
        assert request.at - started < 1.0 and healthy_done - started < 2.0  # before stuck's 2 s timeout
        failed = [d for d in notifier.log.recent(channel="stuck") if d.status == "failed"]
        assert failed[0].reason == "no answer within 2 s" and failed[0].seconds >= 2
        assert notifier.stats()["healthy"].delivered_notices == 51


def test_failed_tries_are_retried_with_backoff_and_logged():
    answers = itertools.chain([503, 503], itertools.repeat(200))
    with Receiver(lambda r: (next(answers), {"ok": True})) as receiver:
        with start([hook("flaky", receiver, retries={"attempts": 5, "backoff": "200ms"})]) as notifier:
            notifier.submit([notice(4)])
            first, second, third = receiver.wait_for(3, timeout=5)
            assert notifier.wait_idle(5)
    assert [r.answer for r in (first, second, third)] == [503, 503, 200]
    assert second.at - first.at >= 0.2 and third.at - second.at >= 0.4  # 200 ms, then doubled
    assert len({r.headers["Patrol-Delivery"] for r in (first, second, third)}) == 1
    log = notifier.log.recent()
    assert [(d.status, d.attempt) for d in log] == [("retrying", 1), ("retrying", 2), ("delivered", 3)]
    assert log[0].reason == 'HTTP 503: {"ok": true}' and log[0].next_try is not None
    assert {d.id for d in log} == {first.headers["Patrol-Delivery"]} and log[2].event_ids == (4,)
    stats = notifier.stats()["flaky"]
    assert (stats.delivered, stats.retried, stats.failed, stats.queued) == (1, 2, 0, 0)


def test_a_channel_gives_up_after_its_attempts():
    with Receiver(lambda r: (500, {"error": "down"})) as receiver:
        with start([hook("down", receiver)], retries={"attempts": 3, "backoff": "50ms"}) as notifier:
            notifier.submit([notice()])
            receiver.wait_for(3)
            assert notifier.wait_idle(5)
    assert [(d.status, d.attempt) for d in notifier.log.recent()] == [("retrying", 1), ("retrying", 2), ("failed", 3)]
    assert len(receiver.requests) == 3


def test_a_burst_becomes_one_message_per_group():
    with Receiver() as receiver:
        channel = hook("grouped", receiver, grouping={"wait": "300ms", "window": "1s"})
        with start([channel]) as notifier:
            started = time.monotonic()
            for i in range(20):
                notifier.submit([notice(i, target=f"web-{i:02d}")])
            [first] = receiver.wait_for(1, timeout=5)
            for i in range(20, 23):
                notifier.submit([notice(i, target=f"db-{i}", severity="WARNING")])
            first_two = receiver.wait_for(2, timeout=5)
            assert notifier.wait_idle(5)
    assert 0.3 <= first.at - started < 1.0
    body = first.json()
    assert body["count"] == 20 and [n["event_id"] for n in body["notices"]] == list(range(20))
    assert body["subject"] == "[Patrol] 20 events: 20 firing"
    second = first_two[1]
    assert second.json()["count"] == 3 and second.at - first.at >= 0.9  # the window since the first message
    assert len(receiver.requests) == 2


def test_a_stuck_channel_drops_its_oldest_notices_and_counts_them():
    with Receiver(lambda r: (200, HANG)) as stuck:
        notifier = start([hook("stuck", stuck, timeout="1s", retries={"attempts": 1})], queue_size=5)
        with notifier:
            notifier.submit([notice(0)])
            stuck.wait_for(1)  # notice 0 is in flight
            for i in range(1, 20):
                notifier.submit([notice(i)])
            stats = notifier.stats()["stuck"]
            assert (stats.dropped, stats.queued) == (14, 6)
            dropped = [d for d in notifier.log.recent() if d.status == "dropped"]
            assert [d.event_ids for d in dropped] == [(i,) for i in range(1, 15)]
            assert dropped[0].reason == "the channel held more than 5 notices"
            assert notifier.wait_idle(10)
        delivered = [d.event_ids for d in notifier.log.recent() if d.status in ("failed", "delivered")]
        assert delivered[0] == (0,) and sorted(e for ids in delivered[1:] for e in ids) == list(range(15, 20))


def test_close_sends_what_is_still_grouped_and_abandons_what_cannot_go():
    with Receiver() as receiver, Receiver(lambda r: (503, {})) as down:
        notifier = start([hook("waiting", receiver, grouping={"wait": "1h"}),
                          hook("down", down, retries={"attempts": 10, "backoff": "1h"})])
        notifier.submit([notice(1), notice(2)])
        down.wait_for(1)
        started = time.monotonic()
        assert notifier.close(timeout=3)
        assert time.monotonic() - started < 1.0  # the retry would be after the deadline: abandoned at once
    [request] = receiver.requests
    assert request.json()["count"] == 2
    assert [d.status for d in notifier.log.recent(channel="down")] == ["retrying", "abandoned"]
    notifier.submit([notice(3)])  # after close: dropped, never raises
    assert notifier.log.recent(channel="waiting")[-1].status == "dropped"
