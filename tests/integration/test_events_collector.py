"""The event engine wired into the real commands: patrol serve with several HTTP workers, patrol run with
--config, acknowledgements from the command line reaching the serving collector's channels, and a bad
notifications section stopping patrol serve before it starts."""

from __future__ import annotations

import json
import os
import subprocess
import time

import pytest
import requests

from .agent_support import wait_until
from .collector_support import PATROL, Collector, batch, result
from .notify_support import Receiver, signed_webhook

pytestmark = pytest.mark.integration

SECRET = "collector-hook-secret"


def notices(receiver: Receiver) -> list[dict]:
    return [n for r in receiver.requests for n in json.loads(r.body)["notices"]]


def critical(target: str, item: str) -> dict:
    return result(target, check="disk", item=item, status="CRITICAL", summary=f"{item} 97% used")


def settings(hook: Receiver, **events) -> dict:
    return {
        "events": {"evaluate_interval": "200ms", "tick_interval": "200ms", **events},
        "notifications": {
            "grouping": {"wait": 0, "window": 0},
            "channels": [{"name": "hook", "type": "webhook", "url": hook.url, "secret": {"env": "HOOK_SECRET"}}],
            "routes": [{"channels": ["hook"]}],
        },
    }


def test_workers_store_the_main_process_evaluates_and_a_cli_acknowledgement_is_delivered(tmp_path, monkeypatch):
    monkeypatch.setenv("HOOK_SECRET", SECRET)
    with Receiver(respond=signed_webhook(SECRET)) as hook:
        collector = Collector(tmp_path, settings={**settings(hook), "workers": 2})
        collector.write_files()
        collector.create_token("agent", "web01")
        collector.start()
        try:
            for n in range(2):  # two CRITICAL results in a row open the event (open_after: 2)
                answer = collector.push(batch("web01", [critical("web01", "/var")], batch_id=f"b{n}"))
                assert answer.status_code == 200, answer.text
            wait_until(lambda: any(n["change"] == "opened" for n in notices(hook)), timeout=20,
                       what="the opened notice (found by polling: the push went to a worker process)")
            listed = collector.patrol("events", "list", "-f", "json")
            assert listed.returncode == 0, listed.stderr
            [event] = json.loads(listed.stdout)
            assert (event["target"], event["item"], event["count"]) == ("web01", "/var", 2)
            collector.create_token("metrics", "prometheus")
            scraped = requests.get(collector.url + "/metrics", headers=collector.headers("metrics", "prometheus"),
                                   timeout=10).text
            assert 'patrol_events_open{severity="CRITICAL",state="firing"} 1' in scraped
            assert 'patrol_events_open{severity="WARNING",state="acknowledged"} 0' in scraped
            lint = subprocess.run(["promtool", "check", "metrics"], input=scraped, capture_output=True, text=True)
            assert lint.returncode == 0 and not lint.stdout.strip(), lint.stdout + lint.stderr

            acked = collector.patrol("events", "ack", str(event["id"]), "-m", "on it", "--author", "bob")
            assert acked.returncode == 0, acked.stderr
            wait_until(lambda: any(n["change"] == "acknowledged" for n in notices(hook)), timeout=20,
                       what="the command line's acknowledgement, delivered by the collector")
            [ack] = [n for n in notices(hook) if n["change"] == "acknowledged"]
            assert (ack["actor"], ack["comment"]) == ("bob", "on it")
            assert len([n for n in notices(hook) if n["change"] == "opened"]) == 1  # told once
        finally:
            collector.kill()


def test_patrol_run_with_config_notifies_before_it_exits(tmp_path, monkeypatch):
    monkeypatch.setenv("HOOK_SECRET", SECRET)
    with Receiver(respond=signed_webhook(SECRET)) as hook:
        (tmp_path / "inventory.yaml").write_text("all:\n  hosts:\n    localhost: {connection: local}\n")
        (tmp_path / "tiny.yaml").write_text(
            "name: tiny\ntasks:\n  - name: t\n    hosts: localhost\n    checks:\n"
            "      - uptime: {warning: 3153600000}\n"
        )
        config = tmp_path / "patrol.yaml"
        config.write_text(json.dumps(settings(hook, checks={"uptime": {"open_after": 1}})))
        env = {**os.environ, "PATROL_DB": f"sqlite:///{tmp_path}/p.db"}
        done = subprocess.run([str(PATROL), "run", "tiny.yaml", "--config", "patrol.yaml", "-q"], cwd=tmp_path,
                              capture_output=True, text=True, timeout=120, env=env)
        assert done.returncode in (1, 2), done.stdout + done.stderr  # uptime below 100 years: a problem
        [opened] = [n for n in notices(hook) if n["change"] == "opened"]  # delivered before exit
        assert opened["check"] == "uptime" and opened["target"] == "localhost"
        again = subprocess.run([str(PATROL), "run", "tiny.yaml", "--config", "patrol.yaml"], cwd=tmp_path,
                               capture_output=True, text=True, timeout=120, env=env)
        assert "Notifications (hook): 0 delivered" in again.stdout  # the same event: nothing new to tell
        assert len(hook.requests) == 1


def test_a_bad_notifications_section_stops_serve_before_it_listens(tmp_path):
    collector = Collector(tmp_path, settings={
        "notifications": {"channels": [{"name": "hook", "type": "webhook", "url": "http://127.0.0.1:9/",
                                        "secret": {"env": "PATROL_TEST_UNSET_SECRET"}}],
                          "routes": [{"channels": ["nowhere"]}]},
    })
    collector.write_files()
    started = time.monotonic()
    done = subprocess.run([str(PATROL), "serve", "--config", "serve.yaml"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=60, env={**os.environ, "PATROL_DB": collector.db})
    assert done.returncode == 78, done.stderr
    assert "serve.yaml:" in done.stderr and "nowhere" in done.stderr
    assert time.monotonic() - started < 30
    with pytest.raises(requests.ConnectionError):
        requests.get(collector.url + "/healthz", timeout=1)


def test_a_missing_notification_secret_stops_serve_naming_the_field(tmp_path):
    collector = Collector(tmp_path, settings={
        "notifications": {"channels": [{"name": "hook", "type": "webhook", "url": "http://127.0.0.1:9/",
                                        "secret": {"env": "PATROL_TEST_UNSET_SECRET"}}]},
    })
    collector.write_files()
    env = {k: v for k, v in os.environ.items() if k != "PATROL_TEST_UNSET_SECRET"}
    done = subprocess.run([str(PATROL), "serve", "--config", "serve.yaml"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=60, env={**env, "PATROL_DB": collector.db})
    assert done.returncode == 78, done.stderr
    assert "notifications.channels[0].secret" in done.stderr and "PATROL_TEST_UNSET_SECRET" in done.stderr
