"""End to end with real processes: a file system fills on a host, its agent reports it to a real
``patrol serve``, the event opens, a signed webhook and an SMTP server (STARTTLS and AUTH) receive it,
the first escalation level goes out, an operator's acknowledgement stops the next one, and freeing the
space resolves the event, which both channels hear about.

The host's file system is a 8 MiB tmpfs mounted by the test (root only).
"""

from __future__ import annotations

import email
import json
import os
import subprocess
import time
from email import policy
from pathlib import Path

import pytest
import requests

from .agent_support import AgentProcess, wait_until
from .collector_support import Collector
from .notify_support import Receiver, SmtpServer, signed_webhook

pytestmark = pytest.mark.integration

HOOK_SECRET = "e2e-hook-secret"
SMTP_PASSWORD = "s3cret-pass"
LEVEL1, LEVEL2 = 3, 9  # seconds after the first notice


@pytest.fixture
def small_fs(tmp_path: Path):
    if os.geteuid() != 0:
        pytest.fail("this test mounts a tmpfs and needs root (scripts/run-tests runs as root)", pytrace=False)
    mount = tmp_path / "data"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m,mode=0755", "patrol-e2e", str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def notices(requests_seen) -> list[dict]:
    return [n for r in requests_seen for n in json.loads(r.body)["notices"]]


def mails_text(smtp: SmtpServer) -> list[str]:
    out = []
    for mail in smtp.mails:
        message = email.message_from_bytes(mail.content, policy=policy.default)
        out.append(str(message["Subject"]))
    return out


def test_disk_fills_event_notifies_escalates_is_acknowledged_and_resolves(tmp_path, small_fs, monkeypatch):
    smtp = SmtpServer(tmp_path, password=SMTP_PASSWORD)
    hook = Receiver(respond=signed_webhook(HOOK_SECRET))
    collector = Collector(tmp_path / "collector", settings={
        "events": {"open_after": 2, "resolve_after": 2, "evaluate_interval": "200ms", "tick_interval": "200ms"},
        "notifications": {
            "grouping": {"wait": "200ms", "window": "1s"},
            "channels": [
                {"name": "ops-hook", "type": "webhook", "url": hook.url + "/patrol", "secret": {"env": "HOOK_SECRET"}},
                {"name": "duty-mail", "type": "email", "smtp_host": "127.0.0.1", "smtp_port": smtp.port,
                 "ca_file": str(smtp.cert), "username": smtp.user, "password": {"env": "SMTP_PASSWORD"},
                 "from": "patrol@example.com", "to": ["duty@example.com"]},
            ],
            "routes": [{"channels": ["ops-hook", "duty-mail"]}],
            "escalation": [
                {"after": f"{LEVEL1}s", "channels": ["duty-mail"]},
                {"after": f"{LEVEL2}s", "channels": ["ops-hook"]},
            ],
        },
    })
    collector.root.mkdir()
    playbook = f"""\
name: data-disk
schedule: "@every 1s"
tasks:
  - name: the data file system
    hosts: web01
    checks:
      - disk: {{warning: 50, critical: 80, include: ["{small_fs}"], exclude_fstypes: []}}
"""
    collector.write_files({"data-disk": playbook})
    (collector.root / "inventory.yaml").write_text("all:\n  hosts:\n    web01: {patrol_agent: true}\n")
    token = tmp_path / "web01.token"
    token.write_text(collector.create_token("agent", "web01") + "\n")
    token.chmod(0o600)
    operator = collector.create_token("operator", "alice")
    monkeypatch.setenv("HOOK_SECRET", HOOK_SECRET)  # inherited by patrol serve
    monkeypatch.setenv("SMTP_PASSWORD", SMTP_PASSWORD)
    collector.start()
    agent = AgentProcess(
        ["--collector", collector.url, "--name", "web01", "--token-file", str(token), "--spool",
         str(tmp_path / "spool"), "--push-interval", "0.3", "--jitter", "0"],
        tmp_path / "agent.log",
    )
    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {operator}"

    def events(state: str = "all") -> list[dict]:
        answer = api.get(collector.url + "/api/v1/events", params={"state": state}, timeout=10)
        assert answer.status_code == 200, answer.text
        return answer.json()

    try:
        agent.wait_for("plan: 1 checks")
        wait_until(lambda: _stored(collector) >= 2, timeout=30, what="healthy results stored")
        assert events() == []  # healthy: no event, nothing sent
        assert hook.requests == [] and smtp.mails == []

        # The file system fills: 7 of its 8 MiB.
        with open(small_fs / "fill", "wb") as f:
            f.write(os.urandom(7 * 1024 * 1024))
        [opened] = [n for n in notices(hook.wait_for(1, timeout=30)) if n["change"] == "opened"]
        assert (opened["target"], opened["check"], opened["item"]) == ("web01", "disk", str(small_fs))
        assert opened["severity"] == "CRITICAL" and "used" in opened["summary"]
        assert hook.requests[0].headers["Patrol-Signature"].startswith("t=")  # verified by the receiver
        assert hook.requests[0].answer == 200
        smtp.wait_for(1, timeout=30)
        assert "Firing" in mails_text(smtp)[0] and "web01" in mails_text(smtp)[0]
        assert smtp.mails[0].tls and smtp.mails[0].login == smtp.user

        # Level 1 escalation: the duty mailbox hears it again after LEVEL1 seconds without acknowledgement.
        smtp.wait_for(2, timeout=LEVEL1 + 20)
        assert any("Escalated" in subject for subject in mails_text(smtp)[1:]), mails_text(smtp)
        [event] = events("open")
        assert event["escalation_level"] == 1 and event["state"] == "firing"

        # The operator acknowledges: the channels that were told hear it, and escalation stops.
        answer = api.post(f"{collector.url}/api/v1/events/{event['id']}/acknowledge",
                          json={"comment": "clearing old files"}, timeout=10)
        assert answer.status_code == 200, answer.text
        assert answer.json()["acknowledged_by"] == "alice"
        wait_until(lambda: any(n["change"] == "acknowledged" for n in notices(hook.requests)), timeout=20,
                   what="the acknowledgement at the webhook")
        time.sleep(LEVEL2 + 2)  # past the moment level 2 would have been due
        # (the route sends every change to both channels, level 1 included; level 2 must never come)
        levels = [n["escalation_level"] for n in notices(hook.requests) if n["change"] == "escalated"]
        assert levels == [1], levels
        [still] = events("open")
        assert still["escalation_level"] == 1 and still["state"] == "acknowledged"

        # Space freed: the event resolves after two OK results; both channels hear it.
        (small_fs / "fill").unlink()
        wait_until(lambda: any(n["change"] == "resolved" for n in notices(hook.requests)), timeout=30,
                   what="the resolution at the webhook")
        wait_until(lambda: any("Resolved" in s for s in mails_text(smtp)), timeout=30, what="the resolution mail")
        [done] = events("resolved")
        assert done["id"] == event["id"] and done["resolved_by"] is None  # resolved by results

        detail = api.get(f"{collector.url}/api/v1/events/{event['id']}", timeout=10).json()
        kinds = [h["kind"] for h in detail["history"]]
        assert kinds == ["opened", "escalated", "acknowledged", "resolved"], kinds
        assert detail["history"][2]["actor"] == "alice" and detail["history"][2]["comment"] == "clearing old files"
        assert detail["time_to_acknowledge_seconds"] > 0 and detail["time_to_resolve_seconds"] > 0

        shown = collector.patrol("events", "show", str(event["id"]), "-f", "json")
        assert shown.returncode == 0 and json.loads(shown.stdout)["history"] == detail["history"]
        assert SMTP_PASSWORD not in collector.log() and HOOK_SECRET not in collector.log()
    finally:
        agent.terminate()
        collector.kill()
        hook.stop()
        smtp.stop()


def _stored(collector: Collector) -> int:
    import sqlalchemy as sa

    engine = sa.create_engine(collector.db)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text("SELECT count(*) FROM results")).scalar_one()
    finally:
        engine.dispose()
