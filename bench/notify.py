"""Benchmark: the notifier's cost to the caller and its latency to a real webhook receiver.

    .venv/bin/python bench/notify.py [--events 2000] [--rate 200]

A local HTTP receiver (127.0.0.1) verifies each request's HMAC signature and records when it arrived.
- submit: notices handed to ``Notifier.submit`` per second (routing and queueing, three channels).
- latency: from ``submit`` to the receiver's receipt of the notice, at ``--rate`` events a second, with
  the default grouping (wait 1 s, window 10 s) and with grouping off. Issue 4's goal for the whole chain
  (result -> event -> webhook) is p99 under 2 s; the notifier's part is printed here.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from integration.notify_support import Receiver, notice, signed_webhook  # noqa: E402

from collector.notify import Notifier, load_notifications  # noqa: E402

SECRET = "bench-secret-0123456789"


def notifier(receiver_url: str, grouping: dict, extra_channels: int = 0) -> Notifier:
    channels = [{"name": "hook", "type": "webhook", "url": receiver_url, "secret": {"env": "S"}}]
    channels += [{"name": f"other{i}", "type": "webhook", "url": receiver_url + f"/other{i}"}
                 for i in range(extra_channels)]
    data = {"channels": channels, "routes": [{"channels": [c["name"] for c in channels]}], "grouping": grouping,
            "queue_size": 1_000_000}
    return Notifier.from_settings(load_notifications(data), environ={"S": SECRET})


def submit_rate(events: int) -> float:
    with Receiver() as receiver:
        n = notifier(receiver.url, {"wait": "1s", "window": "10s", "max_notices": 1000}, extra_channels=2)
        notices = [notice(i, target=f"host-{i}") for i in range(events)]
        started = time.perf_counter()
        for item in notices:
            n.submit(item)
        elapsed = time.perf_counter() - started
        n.close(timeout=30)
    return events / elapsed


def latency(events: int, rate: float, grouping: dict) -> list[float]:
    sent: dict[int, float] = {}
    with Receiver(signed_webhook(SECRET)) as receiver:
        n = notifier(receiver.url, grouping)
        started = time.monotonic()
        for i in range(events):
            due = started + i / rate
            pause = due - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            sent[i] = time.monotonic()
            n.submit(notice(i, target=f"host-{i}"))
        n.wait_idle(60)
        n.close(timeout=10)
        delays = []
        for request in receiver.requests:
            assert request.answer == 200, request.answer
            for item in request.json()["notices"]:
                delays.append(request.at - sent[item["event_id"]])
    if len(delays) != events:
        raise SystemExit(f"the receiver got {len(delays)} of {events} notices")
    return delays


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=200.0, help="events a second for the latency runs")
    args = parser.parse_args()
    print(f"submit: {submit_rate(args.events * 10):,.0f} notices/s handed over (3 channels each)")
    for label, grouping in (("default grouping (wait 1s, window 10s)", {"wait": "1s", "window": "10s"}),
                            ("grouping off", {"wait": 0, "window": 0})):
        delays = latency(args.events, args.rate, grouping)
        print(f"latency, {label}: p50 {pct(delays, 50) * 1000:.0f} ms, p99 {pct(delays, 99) * 1000:.0f} ms, "
              f"max {max(delays) * 1000:.0f} ms over {len(delays)} notices at {args.rate:g}/s")


if __name__ == "__main__":
    main()
