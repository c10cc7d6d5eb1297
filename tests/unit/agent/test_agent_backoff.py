"""Exponential backoff with full jitter: bounded, growing, capped, reset on success."""

import random

from agent.backoff import Backoff


def test_delays_stay_within_the_exponential_bound_and_the_cap():
    backoff = Backoff(base=1.0, cap=60.0, rand=random.Random(7).uniform)
    for failures in range(40):
        bound = min(60.0, 2.0**failures)
        assert backoff.bound() == bound
        delay = backoff.next_delay()
        assert 0.0 <= delay <= bound <= 60.0


def test_the_bound_doubles_up_to_the_cap_and_a_success_resets_it():
    backoff = Backoff(base=1.0, cap=60.0, rand=lambda low, high: high)  # always the largest draw
    assert [backoff.next_delay() for _ in range(8)] == [1, 2, 4, 8, 16, 32, 60, 60]
    backoff.reset()
    assert backoff.next_delay() == 1


def test_full_jitter_spreads_the_retries():
    backoff = Backoff(base=1.0, cap=60.0, rand=random.Random(1).uniform)
    for _ in range(6):
        backoff.next_delay()
    draws = {round(Backoff(1.0, 60.0, random.Random(seed).uniform).next_delay(), 3) for seed in range(20)}
    assert len(draws) > 10  # not all agents retry in step
    assert all(0 <= d <= 1 for d in draws)


def test_retry_after_is_honoured_but_capped():
    backoff = Backoff(base=1.0, cap=30.0, rand=lambda low, high: low)
    assert backoff.next_delay(at_least=12) == 12
    assert backoff.next_delay(at_least=3600) == 30
