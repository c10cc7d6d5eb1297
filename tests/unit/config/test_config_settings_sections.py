"""The settings file's events: and notifications: sections, as patrol serve, patrol run and the event
commands load them: every problem at once, with file and line; the policy they make."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from checks.errors import ConfigError
from collector.config.inventory import load_inventory
from collector.serve import ServeSettings, load_settings, load_site_settings

GOOD = """\
listen: 127.0.0.1:9000
events:
  open_after: 3
  reopen_within: 5m
  checks:
    uptime: {open_after: 1}
notifications:
  channels:
    - {name: ops-hook, type: webhook, url: "http://127.0.0.1:9/hook", secret: {env: HOOK_SECRET}}
  routes:
    - {match: {severity: critical}, channels: [ops-hook], continue: true}
  escalation:
    - {after: 10m, channels: [ops-hook]}
    - {after: 30m, channels: [ops-hook]}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "patrol.yaml"
    path.write_text(text)
    return path


def test_sections_become_the_engine_policy_with_escalation_from_notifications(tmp_path):
    settings = load_settings(write(tmp_path, GOOD), {})
    assert settings.port == 9000
    policy = settings.events.policy(settings.notifications)
    assert policy.open_after == 3 and policy.reopen_within == dt.timedelta(minutes=5)
    assert policy.rules("uptime").open_after == 1 and policy.rules("disk").open_after == 3
    assert [(s.after, s.level) for s in policy.escalation] == [
        (dt.timedelta(minutes=10), 1), (dt.timedelta(minutes=30), 2)
    ]
    assert settings.notifications.channel("ops-hook").type == "webhook"


def test_without_escalation_levels_the_default_of_ten_minutes_stays(tmp_path):
    events, notifications = load_site_settings(write(tmp_path, "notifications: {channels: []}\n"))
    assert [(s.after, s.level) for s in events.policy(notifications).escalation] == [(dt.timedelta(minutes=10), 1)]


def test_every_problem_of_every_section_is_reported_with_its_line(tmp_path):
    path = write(tmp_path, """\
listen: nowhere
events:
  open_after: 0
  flap_high: 120
  nodata_minimum: soon
notifications:
  channels:
    - {name: hook, type: webhok, url: "http://127.0.0.1/"}
""")
    with pytest.raises(ConfigError) as caught:
        load_settings(path, {})
    text = str(caught.value)
    for expected in (
        f"{path}:1: listen:", f"{path}:3: events.open_after:", f"{path}:4: events.flap_high:",
        f"{path}:5: events.nodata_minimum:", f"{path}:8: notifications.channels[0].type: unknown channel type",
    ):
        assert expected in text, text
    lines = [p.line for p in caught.value.problems]
    assert lines == sorted(lines)


def test_incoherent_event_rules_are_refused(tmp_path):
    with pytest.raises(ConfigError, match="reopen_within must not be longer than close_after"):
        load_site_settings(write(tmp_path, "events: {reopen_within: 2h, close_after: 1h}\n"))
    with pytest.raises(ConfigError, match="flap_low must not be above flap_high"):
        load_site_settings(write(tmp_path, "events: {flap_low: 40, flap_high: 30}\n"))
    with pytest.raises(ConfigError, match="events.checks.disk.open_afte"):
        load_site_settings(write(tmp_path, "events: {checks: {disk: {open_afte: 1}}}\n"))


def test_the_other_commands_ignore_serve_keys_but_check_the_sections(tmp_path):
    events, notifications = load_site_settings(write(tmp_path, GOOD))
    assert events.open_after == 3 and notifications.routes[0].continue_
    assert load_site_settings(None)[0].open_after == 2


def test_worker_processes_get_the_same_settings_through_json(tmp_path):
    settings = load_settings(write(tmp_path, GOOD), {})
    again = ServeSettings.model_validate_json(settings.model_dump_json())
    assert again == settings


def test_dependencies_come_from_the_inventory_and_must_name_its_hosts(tmp_path):
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text("""\
all:
  hosts:
    sw01: {}
    db01: {patrol_parents: sw01}
    app01: {patrol_parents: [db01, sw01]}
""")
    assert load_inventory(inventory).parents() == {"db01": ["sw01"], "app01": ["db01", "sw01"]}
    inventory.write_text("all:\n  hosts:\n    db01: {patrol_parents: [sw09]}\n    web01: {patrol_parents: 3}\n")
    with pytest.raises(ConfigError) as caught:
        load_inventory(inventory)
    assert "patrol_parents: expected a host name or a list of host names (got 3)" in str(caught.value)
    inventory.write_text("all:\n  hosts:\n    db01: {patrol_parents: [sw09]}\n")
    with pytest.raises(ConfigError, match="host 'db01' depends on 'sw09', which is not a host of the inventory"):
        load_inventory(inventory)
