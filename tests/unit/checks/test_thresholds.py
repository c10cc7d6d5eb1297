import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from checks.status import Status
from checks.thresholds import Direction, Levels, Range


@pytest.mark.parametrize(
    "text, alerting, quiet",
    [
        ("10", [-1, 10.5, 11], [0, 5, 10]),
        ("10:", [9.99, -5], [10, 11, 1e9]),
        ("~:10", [10.1, 100], [-1e9, 0, 10]),
        ("10:20", [9, 21], [10, 15, 20]),
        ("@10:20", [10, 15, 20], [9.9, 20.1]),
    ],
)
def test_nagios_range_semantics(text, alerting, quiet):
    r = Range.parse(text)
    assert [r.alerts(v) for v in alerting] == [True] * len(alerting)
    assert [r.alerts(v) for v in quiet] == [False] * len(quiet)
    assert r.text == text


def test_plain_numbers_follow_the_direction_of_the_figure():
    assert Range.parse(80, Direction.ABOVE).text == "80"
    assert Range.parse(80, Direction.ABOVE).alerts(80.1)
    assert not Range.parse(80, Direction.ABOVE).alerts(80)
    assert Range.parse(50, Direction.BELOW).text == "50:"
    assert Range.parse(50, Direction.BELOW).alerts(49.9)
    assert Range.parse(-5, Direction.ABOVE).alerts(-4)  # a negative limit must not alert on everything below 0
    assert not Range.parse(-5, Direction.ABOVE).alerts(-6)


@pytest.mark.parametrize("bad", ["", "abc", "20:10", "1:x", "nan", True, [80], None, math.inf])
def test_bad_ranges_are_rejected_with_the_expected_form(bad):
    with pytest.raises(ValueError) as info:
        Range.parse(bad)
    assert str(info.value)


def test_levels_pick_critical_before_warning():
    levels = Levels(Range.parse(80), Range.parse(90))
    assert levels.evaluate(50) is Status.OK
    assert levels.evaluate(85) is Status.WARNING
    assert levels.evaluate(95) is Status.CRITICAL
    assert levels.breached(95) == levels.critical
    assert levels.breached(10) is None


@given(st.floats(-1e6, 1e6), st.floats(-1e6, 1e6), st.floats(-2e6, 2e6), st.booleans())
def test_range_text_round_trips(a, b, value, inside):
    low, high = sorted((a, b))
    r = Range(low, high, inside)
    again = Range.parse(r.text)
    assert again.alerts(value) == r.alerts(value)
