from checks.rates import RateTracker, counter_delta


def test_counter_delta_handles_wraps_and_resets():
    assert counter_delta(100, 250) == 150
    assert counter_delta(2**32 - 10, 5, width=32) == 15  # a 32-bit counter wrapped
    assert counter_delta(2**32 - 10, 5, width=32, restarted=True) is None  # the device rebooted
    assert counter_delta(5000, 10, width=64) is None  # a 64-bit counter does not wrap: it was reset
    assert counter_delta(5000, 10) is None


def test_tracker_gives_rates_between_samples_and_drops_stale_ones():
    now = [0.0]
    tracker = RateTracker(max_age=60, clock=lambda: now[0])
    assert tracker.update("eth0", {"rx": 1000}) is None  # first sample: nothing to compare with
    now[0] = 10.0
    assert tracker.update("eth0", {"rx": 6000, "tx": 1}) == {"rx": 500.0, "tx": None}
    now[0] = 20.0
    assert tracker.update("eth0", {"rx": 100, "tx": 11}) == {"rx": None, "tx": 1.0}  # rx was reset
    now[0] = 200.0
    assert tracker.update("eth0", {"rx": 200, "tx": 12}) is None  # previous sample too old to trust
