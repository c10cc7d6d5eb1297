"""Playbook schedules: cron as cron means it, and @every intervals."""
from __future__ import annotations

import datetime as dt

import pytest

from checks.schedule import Schedule, cron_trigger, parse_duration, parse_schedule

UTC = dt.UTC
MONDAY = dt.datetime(2024, 1, 1, tzinfo=UTC)  # 2024-01-01 was a Monday


@pytest.mark.parametrize("text, seconds", [
    ("@every 1m", 60), ("@every 90s", 90), ("@every 1h30m", 5400), ("@every 2d", 172800),
    ("@every 1.5h", 5400), ("@every   10s", 10),
])
def test_every(text, seconds):
    assert parse_schedule(text) == Schedule(text, every_seconds=seconds)


@pytest.mark.parametrize("text, message", [
    ("@every", "needs a duration"), ("@every 0s", "longer than zero"), ("@every 5", "not a duration"),
    ("@every 5 minutes", "not a duration"), ("@every 1w", "not a duration"), ("@every -1m", "not a duration"),
])
def test_bad_every(text, message):
    with pytest.raises(ValueError, match=message):
        parse_schedule(text)


def test_cron_and_aliases():
    assert parse_schedule("0 8 * * *") == Schedule("0 8 * * *", cron="0 8 * * *")
    assert parse_schedule(" 0  8 * * 1-5 ").cron == "0 8 * * 1-5"
    assert parse_schedule("@daily").cron == "0 0 * * *"


@pytest.mark.parametrize("text, message", [
    ("0 8 * *", "has 4 fields"), ("61 * * * *", "maximum value"), ("0 8 * * 8", "day-of-week '8'"),
    ("0 8 * * sat-mon", "backwards"), ("@sometimes", "unknown schedule"), ("", "5-field cron"),
    ("0 8 32 * *", "maximum value"),
])
def test_bad_cron(text, message):
    with pytest.raises(ValueError, match=message) as excinfo:
        parse_schedule(text)
    assert "expected a 5-field cron expression" in str(excinfo.value)


@pytest.mark.parametrize("weekdays, first_fire", [
    ("1", MONDAY),  # APScheduler 3 alone would read 1 as Tuesday
    ("1-5", MONDAY),
    ("0", MONDAY + dt.timedelta(days=6)),
    ("7", MONDAY + dt.timedelta(days=6)),
    ("fri-sun", MONDAY + dt.timedelta(days=4)),
    ("5-7", MONDAY + dt.timedelta(days=4)),
    ("tue,thu", MONDAY + dt.timedelta(days=1)),
    ("*/2", MONDAY + dt.timedelta(days=1)),  # Sunday, Tuesday, Thursday, Saturday
])
def test_cron_weekdays_mean_what_cron_means(weekdays, first_fire):
    trigger = cron_trigger(f"0 8 * * {weekdays}", UTC)
    assert trigger.get_next_fire_time(None, MONDAY) == first_fire.replace(hour=8)


def test_trigger_for_an_interval():
    trigger = parse_schedule("@every 90s").trigger(UTC)
    assert trigger.interval == dt.timedelta(seconds=90)


def test_parse_duration():
    assert parse_duration("1h30m15s") == 5415


def test_every_fires_at_epoch_multiples_whoever_computes_it():
    import datetime as dt

    schedule = parse_schedule("@every 1m")
    now = dt.datetime(2026, 11, 23, 8, 0, 17, tzinfo=dt.UTC)
    fire = schedule.trigger().get_next_fire_time(None, now)
    assert fire == dt.datetime(2026, 11, 23, 8, 1, 0, tzinfo=dt.UTC)


def test_latest_fire_time_names_the_firing_a_late_job_belongs_to():
    import datetime as dt

    utc = dt.UTC
    now = dt.datetime(2026, 11, 23, 8, 0, 17, tzinfo=utc)
    assert parse_schedule("@every 1m").latest_fire_time(now) == dt.datetime(2026, 11, 23, 8, 0, tzinfo=utc)
    assert parse_schedule("@every 1h").latest_fire_time(now) == dt.datetime(2026, 11, 23, 8, 0, tzinfo=utc)
    assert parse_schedule("0 8 * * *").latest_fire_time(now) == dt.datetime(2026, 11, 23, 8, 0, tzinfo=utc)
    assert parse_schedule("30 7 * * 1-5").latest_fire_time(now) == dt.datetime(2026, 11, 23, 7, 30, tzinfo=utc)
    # 2026-11-23 is a Monday: the latest Sunday 06:00 firing was the day before.
    assert parse_schedule("0 6 * * 0").latest_fire_time(now) == dt.datetime(2026, 11, 22, 6, 0, tzinfo=utc)
