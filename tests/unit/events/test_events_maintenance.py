"""Maintenance windows in time (one-off, cron, weekly, time zones, DST) and in scope (host patterns)."""

from __future__ import annotations

import datetime as dt

import pytest

from collector.config.inventory import load_inventory
from collector.events import MaintenanceWindow, TargetMatcher
from collector.events.maintenance import name_matches

UTC = dt.UTC
H = dt.timedelta(hours=1)


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def test_a_one_off_window_is_half_open():
    window = MaintenanceWindow.once("upgrade", "db01", at("2026-11-23T08:00Z"), at("2026-11-23T10:00Z"))
    assert not window.active(at("2026-11-23T07:59:59Z"))
    assert window.active(at("2026-11-23T08:00Z")) and window.active(at("2026-11-23T17:59:59+08:00"))
    assert not window.active(at("2026-11-23T10:00Z"))


def test_a_cron_window_in_its_time_zone():
    # Every day at 02:00 Shanghai time (18:00 UTC the day before), for one hour.
    window = MaintenanceWindow.cron_window("backup", "backup*", "0 2 * * *", H, timezone="Asia/Shanghai")
    assert window.active(at("2026-11-22T18:00Z")) and window.active(at("2026-11-23T02:59:59+08:00"))
    assert not window.active(at("2026-11-22T17:59:59Z")) and not window.active(at("2026-11-22T19:00Z"))
    assert not window.active(at("2026-11-23T02:00Z"))


def test_cron_weekdays_are_cron_weekdays_and_a_window_may_span_midnight():
    # Sundays (cron 0) at 23:00 for three hours: into Monday morning.
    window = MaintenanceWindow.cron_window("patch", "all", "0 23 * * 0", 3 * H)
    assert window.active(at("2026-11-22T23:30Z"))  # Sunday
    assert window.active(at("2026-11-23T01:59Z"))  # Monday, still inside
    assert not window.active(at("2026-11-23T02:00Z"))
    assert not window.active(at("2026-11-23T23:30Z"))  # Monday night


def test_a_weekly_window_and_its_validity():
    window = MaintenanceWindow.weekly_window(
        "patch", "linux", ["Sat", "sun"], dt.time(22, 30), 4 * H, timezone="Europe/Berlin",
        ends_at=at("2026-12-01T00:00Z"),
    )
    assert window.weekdays == ("sat", "sun")
    assert window.active(at("2026-11-21T21:30Z"))  # Saturday 22:30 in Berlin (UTC+1)
    assert window.active(at("2026-11-22T01:00Z"))  # after midnight, still Saturday's window
    assert not window.active(at("2026-11-22T02:30Z"))
    assert not window.active(at("2026-11-23T21:30Z"))  # Monday
    assert not window.active(at("2026-12-05T21:30Z"))  # past its end


def test_a_weekly_window_lasts_its_real_duration_across_a_clock_change():
    # Berlin goes from UTC+2 to UTC+1 on 2026-10-25 at 03:00 local time: 01:00 + 3 h ends at 03:00 local.
    window = MaintenanceWindow.weekly_window("night", "all", ["sun"], dt.time(1, 0), 3 * H, timezone="Europe/Berlin")
    assert window.active(at("2026-10-24T23:00Z"))  # 01:00 CEST
    assert window.active(at("2026-10-25T01:59Z"))
    assert not window.active(at("2026-10-25T02:00Z"))  # three real hours later


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: MaintenanceWindow.once("x", "db01", at("2026-11-23T10:00Z"), at("2026-11-23T08:00Z")), "before"),
        (lambda: MaintenanceWindow.once("x", "db01", dt.datetime(2026, 1, 1), dt.datetime(2026, 1, 2)), "time zone"),
        (lambda: MaintenanceWindow.cron_window("x", "db01", "0 2 * *", H), "fields"),
        (lambda: MaintenanceWindow.cron_window("x", "db01", "0 2 * * *", dt.timedelta(0)), "duration"),
        (lambda: MaintenanceWindow.weekly_window("x", "db01", [], dt.time(1), H), "day"),
        (lambda: MaintenanceWindow.weekly_window("x", "db01", ["funday"], dt.time(1), H), "weekday"),
        (lambda: MaintenanceWindow.weekly_window("x", "db01", ["mon"], dt.time(1), H, timezone="Mars/Base"), "zone"),
        (lambda: MaintenanceWindow.once("", "db01", at("2026-11-23T08:00Z"), at("2026-11-23T09:00Z")), "name"),
        (lambda: MaintenanceWindow(name="x", pattern="db01", kind="monthly"), "kind"),
    ],
)
def test_bad_windows_are_refused_with_a_reason(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_scope_by_name_without_an_inventory():
    assert name_matches("web*", "web01") and not name_matches("web*", "db01")
    assert name_matches("all", "db01") and name_matches("web01,db01", "db01")
    assert name_matches("~(web|db)\\d+", "db01") and not name_matches("~b01", "db01")  # anchored at the start
    assert name_matches("*:!db*", "web01") and not name_matches("*:!db*", "db01")
    assert name_matches("*:&db*", "db01") and not name_matches("*:&db*", "web01")
    assert not name_matches("linux", "web01")  # a group name: unknown without an inventory
    assert not name_matches("db[", "db01")  # an invalid pattern matches nothing


def test_a_window_for_one_check():
    window = MaintenanceWindow.once("x", "web*", at("2026-11-23T08:00Z"), at("2026-11-23T09:00Z"), check="disk*")
    matcher = TargetMatcher()
    assert window.covers("web01", "disk", matcher) and window.covers("web01", "disk_io", matcher)
    assert not window.covers("web01", "cpu", matcher) and not window.covers("db01", "disk", matcher)


def test_scope_with_an_inventory_uses_its_groups(tmp_path):
    path = tmp_path / "inventory.yaml"
    path.write_text(
        "all:\n  children:\n    linux:\n      hosts: {web01: {}, db01: {}}\n    network:\n      hosts: {sw01: {}}\n"
    )
    matcher = TargetMatcher(load_inventory(path))
    assert matcher.matches("linux", "web01") and matcher.matches("linux:!db01", "web01")
    assert not matcher.matches("linux:!db01", "db01") and not matcher.matches("network", "web01")
    assert matcher.matches("linux,gone01", "web01")  # a host since removed does not break the window
    assert matcher.matches("agent*", "agent7")  # not in the inventory: matched by name
