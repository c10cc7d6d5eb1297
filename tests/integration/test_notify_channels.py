"""Every channel against a real receiver: signatures checked as the vendors document them, a real SMTP
server with STARTTLS and AUTH, a real Alertmanager, a real program for the command channel."""

from __future__ import annotations

import email
import email.policy
import json
import sys
import time

import pytest

from collector.notify import Notifier, load_notifications
from collector.notify.channels.webhook import verify

from .notify_support import (
    Alertmanager,
    Receiver,
    SmtpServer,
    dingtalk_robot,
    feishu_robot,
    notice,
    signed_webhook,
    wecom_robot,
)

pytestmark = pytest.mark.integration

FAST = {"grouping": {"wait": 0, "window": 0}, "retries": {"attempts": 3, "backoff": "100ms"}}


def start(channels: list[dict], environ: dict[str, str] | None = None, **extra) -> Notifier:
    data = {"channels": channels, "routes": [{"channels": [c["name"] for c in channels]}], **FAST, **extra}
    return Notifier.from_settings(load_notifications(data), environ=environ or {}, timezone="Asia/Shanghai")


def statuses(notifier: Notifier) -> list[tuple[str, int, str | None]]:
    return [(d.status, d.attempt, d.reason) for d in notifier.log.recent()]


def test_webhook_body_is_signed_and_the_receiver_verifies_it():
    secret = "whsec-0123456789"
    with Receiver(signed_webhook(secret)) as receiver:
        notifier = start([{"name": "hook", "type": "webhook", "url": receiver.url + "/patrol",
                           "secret": {"env": "HOOK_SECRET"}, "headers": {"X-Team": "ops"}}],
                         {"HOOK_SECRET": secret})
        with notifier:
            notifier.submit([notice(7)])
            [request] = receiver.wait_for(1)
            assert notifier.wait_idle(5)
        assert request.answer == 200
        assert verify(secret, request.headers["Patrol-Signature"], request.body)
        assert not verify("another-secret", request.headers["Patrol-Signature"], request.body)
        assert request.headers["X-Team"] == "ops"
        body = request.json()
        assert request.headers["Patrol-Delivery"] == body["delivery_id"]
        assert body["count"] == 1 and body["channel"] == "hook"
        [sent] = body["notices"]
        assert (sent["event_id"], sent["target"], sent["check"], sent["item"], sent["severity"], sent["change"]) == \
            (7, "web-01", "disk", "/var", "CRITICAL", "opened")
        assert sent["at"].endswith("Z")
        assert body["subject"] == "[Firing] CRITICAL web-01 · disk · /var: 92% used (critical at 90%)"
        assert statuses(notifier) == [("delivered", 1, None)]


def test_webhook_with_a_wrong_secret_is_refused_and_not_retried():
    with Receiver(signed_webhook("the-right-secret")) as receiver:
        with start([{"name": "hook", "type": "webhook", "url": receiver.url, "secret": {"env": "S"}}],
                   {"S": "a-wrong-secret"}) as notifier:
            notifier.submit([notice()])
            assert notifier.wait_idle(5)
        assert [r.answer for r in receiver.requests] == [401]
        assert statuses(notifier) == [("failed", 1, 'HTTP 401: {"error": "bad signature"}')]


def test_dingtalk_robot_signature_is_accepted(tmp_path):
    token, secret = "a1b2c3token", "SEC0123456789abcdef+/="
    with Receiver(dingtalk_robot(token, secret)) as receiver:
        (tmp_path / "url").write_text(f"{receiver.url}/robot/send?access_token={token}\n")
        channel = {"name": "ding", "type": "dingtalk", "url": {"file": str(tmp_path / "url")},
                   "secret": {"env": "DING_SECRET"}, "language": "zh"}
        with start([channel], {"DING_SECRET": secret}) as notifier:
            notifier.submit([notice(1), notice(2, target="db-01", check="load", item="", severity="WARNING")])
            assert notifier.wait_idle(5)
        [request] = receiver.requests
        assert request.answer == 200 and statuses(notifier) == [("delivered", 1, None)]
        markdown = request.json()["markdown"]
        assert markdown["title"] == "[Patrol] 2 条事件：2 条告警"
        assert "**告警** · 严重 · web-01 · disk · /var" in markdown["text"]
        assert "**告警** · 警告 · db-01 · load" in markdown["text"]


def test_dingtalk_refusal_is_reported_with_the_token_scrubbed():
    token = "tok-ABCDEF123456"
    with Receiver(dingtalk_robot(token, "the-real-secret")) as receiver:
        channel = {"name": "ding", "type": "dingtalk", "url": {"env": "URL"}, "secret": {"env": "SECRET"}}
        with start([channel], {"URL": f"{receiver.url}/robot/send?access_token={token}",
                               "SECRET": "a-wrong-secret"}) as notifier:
            notifier.submit([notice()])
            assert notifier.wait_idle(5)
        assert statuses(notifier) == [("failed", 1, "DingTalk refused the message: 310000 sign not match")]

    def echo_token(request):
        return 500, {"errcode": -1, "errmsg": f"backend broke for {request.query['access_token'][0]}"}

    with Receiver(echo_token) as receiver:
        channel = {"name": "ding", "type": "dingtalk", "url": {"env": "URL"}, "retries": {"attempts": 1}}
        with start([channel], {"URL": f"{receiver.url}/robot/send?access_token={token}"}) as notifier:
            notifier.submit([notice()])
            assert notifier.wait_idle(5)
        [(status, _, reason)] = statuses(notifier)
        assert status == "failed" and token not in reason and "backend broke for ***" in reason


def test_feishu_robot_signature_is_accepted():
    token, secret = "0f1e2d3c-hook", "feishu-signing-secret"
    with Receiver(feishu_robot(token, secret)) as receiver:
        channel = {"name": "lark", "type": "feishu", "url": {"env": "URL"}, "secret": {"env": "SECRET"}}
        with start([channel], {"URL": f"{receiver.url}/open-apis/bot/v2/hook/{token}", "SECRET": secret}) as n:
            n.submit([notice(change="resolved", state="resolved", severity="CRITICAL")])
            assert n.wait_idle(5)
            [request] = receiver.requests
            assert request.answer == 200 and statuses(n) == [("delivered", 1, None)]
            card = request.json()["card"]
            assert card["header"]["template"] == "green"
            assert card["header"]["title"]["content"].startswith("[Resolved] CRITICAL web-01")
        with start([{**channel, "secret": {"env": "SECRET"}}],
                   {"URL": f"{receiver.url}/open-apis/bot/v2/hook/{token}", "SECRET": "wrong"}) as n:
            n.submit([notice()])
            assert n.wait_idle(5)
            assert statuses(n) == [("failed", 1, "Feishu refused the message: 19021 sign match fail or timestamp "
                                                 "is not within one hour from current time")]


def test_wecom_robot_gets_markdown_within_its_size_limit():
    key = "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"
    with Receiver(wecom_robot(key)) as receiver:
        channel = {"name": "wecom", "type": "wecom", "url": {"env": "URL"}, "grouping": {"wait": "200ms"}}
        with start([channel], {"URL": f"{receiver.url}/cgi-bin/webhook/send?key={key}"}) as notifier:
            notifier.submit([notice(i, target=f"web-{i:02d}", summary="x" * 150) for i in range(40)])
            assert notifier.wait_idle(5)
        [request] = receiver.requests
        assert request.answer == 200 and statuses(notifier) == [("delivered", 1, None)]
        content = request.json()["markdown"]["content"]
        assert content.startswith("### [Patrol] 40 events: 40 firing")
        assert len(content.encode()) <= 4096 and content.endswith("…")


def test_email_over_starttls_with_auth(tmp_path):
    smtp = SmtpServer(tmp_path)
    try:
        channel = {"name": "mail", "type": "email", "smtp_host": "127.0.0.1", "smtp_port": smtp.port,
                   "ca_file": str(smtp.cert), "username": smtp.user, "password": {"env": "SMTP_PASSWORD"},
                   "from": "patrol@example.com", "to": ["duty@example.com", "lead@example.com"], "language": "zh"}
        with start([channel], {"SMTP_PASSWORD": smtp.password}) as notifier:
            notifier.submit([notice(summary="used <b>92%</b> & rising")])
            [mail] = smtp.wait_for(1)
            assert notifier.wait_idle(5)
        assert statuses(notifier) == [("delivered", 1, None)]
        assert mail.tls and mail.login == "patrol"
        assert mail.sender == "patrol@example.com" and mail.recipients == ["duty@example.com", "lead@example.com"]
        message = email.message_from_bytes(mail.content, policy=email.policy.default)
        assert message["Subject"] == "【告警】严重 web-01 · disk · /var：used <b>92%</b> & rising"
        assert message.get_content_type() == "multipart/alternative"
        text = message.get_body(("plain",)).get_content()
        html = message.get_body(("html",)).get_content()
        assert "used <b>92%</b> & rising" in text
        assert "used &lt;b&gt;92%&lt;/b&gt; &amp; rising" in html and "<b>92%" not in html
        assert message["X-Patrol-Severity"] == "CRITICAL"
    finally:
        smtp.stop()


def test_email_failures_are_reported_without_the_password(tmp_path):
    smtp = SmtpServer(tmp_path)
    try:
        channel = {"name": "mail", "type": "email", "smtp_host": "127.0.0.1", "smtp_port": smtp.port,
                   "ca_file": str(smtp.cert), "username": smtp.user, "password": {"env": "P"}, "to": ["a@example.com"]}
        with start([channel], {"P": "not-the-password"}) as notifier:
            notifier.submit([notice()])
            assert notifier.wait_idle(5)
        [(status, attempt, reason)] = statuses(notifier)
        assert (status, attempt) == ("failed", 1) and reason.startswith("SMTP login refused: 535")
        assert "not-the-password" not in reason
        untrusted = {k: v for k, v in channel.items() if k != "ca_file"}  # the test CA is not in the system store
        with start([untrusted], {"P": smtp.password}) as notifier:
            notifier.submit([notice()])
            assert notifier.wait_idle(5)
        [(status, attempt, reason)] = statuses(notifier)
        assert (status, attempt) == ("failed", 1) and "certificate is not trusted" in reason
        assert smtp.mails == []
    finally:
        smtp.stop()


def test_alertmanager_receives_fires_and_resolves_the_alert():
    manager = Alertmanager()
    try:
        channel = {"name": "am", "type": "alertmanager", "url": manager.url, "labels": {"source": "patrol"}}
        with start([channel]) as notifier:
            notifier.submit([notice(5, severity="WARNING")])
            [alert] = manager.wait_until(lambda alerts: len(alerts) == 1)
            assert alert["labels"] == {"alertname": "disk", "target": "web-01", "check": "disk", "item": "/var",
                                       "severity": "warning", "source": "patrol"}
            assert alert["annotations"]["summary"] == "92% used (critical at 90%)"
            assert alert["annotations"]["event_id"] == "5"
            assert alert["status"]["state"] == "active"

            # A severity change is another label set to Alertmanager: the warning must end, not linger.
            notifier.submit([notice(5, severity="CRITICAL", change="severity_changed")])
            [alert] = manager.wait_until(
                lambda alerts: [a["labels"]["severity"] for a in alerts] == ["critical"])

            notifier.submit([notice(5, severity="CRITICAL", state="resolved", change="resolved", actor="alice")])
            manager.wait_until(lambda alerts: alerts == [])
            assert notifier.wait_idle(5)
        assert [s for s, _, _ in statuses(notifier)] == ["delivered"] * 3
    finally:
        manager.stop()


def test_alertmanager_alerts_are_sent_again_while_they_fire():
    manager = Alertmanager()
    try:
        channel = {"name": "am", "type": "alertmanager", "url": manager.url, "resend": "1s"}
        with start([channel]) as notifier:
            notifier.submit([notice(9)])
            [first] = manager.wait_until(lambda alerts: len(alerts) == 1)
            # endsAt is four resend intervals ahead and moves on with every resend.
            [later] = manager.wait_until(lambda alerts: alerts and alerts[0]["endsAt"] > first["endsAt"], timeout=5)
            assert later["labels"] == first["labels"]
    finally:
        manager.stop()


def test_command_gets_the_message_on_stdin_and_a_small_environment(tmp_path, monkeypatch):
    out = tmp_path / "out.json"
    script = tmp_path / "hook.py"
    script.write_text(
        "import json, os, sys\n"
        "json.dump({'stdin': json.load(sys.stdin), 'env': dict(os.environ), 'argv': sys.argv[1:]},"
        f" open({str(out)!r}, 'w'))\n"
    )
    monkeypatch.setenv("HOOK_SECRET", "must-not-leak")
    channel = {"name": "cmd", "type": "command", "command": [sys.executable, str(script), "--page"],
               "env": {"PAGER_TOKEN": {"env": "PAGER_TOKEN"}, "TEAM": "ops"}}
    with start([channel], {"PAGER_TOKEN": "tok-123"}) as notifier:
        notifier.submit([notice(3, actor="alice", change="acknowledged", state="acknowledged")])
        assert notifier.wait_idle(5)
    assert statuses(notifier) == [("delivered", 1, None)]
    got = json.loads(out.read_text())
    assert got["argv"] == ["--page"]
    assert got["stdin"]["notices"][0]["actor"] == "alice" and got["stdin"]["count"] == 1
    env = got["env"]
    assert env["PAGER_TOKEN"] == "tok-123" and env["TEAM"] == "ops"
    assert (env["PATROL_EVENT_ID"], env["PATROL_CHANGE"], env["PATROL_SEVERITY"], env["PATROL_COUNT"]) == \
        ("3", "acknowledged", "CRITICAL", "1")
    assert env["PATROL_SUBJECT"].startswith("[Acknowledged] CRITICAL web-01")
    assert "HOOK_SECRET" not in env


def test_command_failures_and_timeouts(tmp_path):
    failing = {"name": "fails", "type": "command", "retries": {"attempts": 1},
               "command": [sys.executable, "-c", "import sys; sys.stderr.write('pager down\\n'); sys.exit(3)"]}
    # The child leaves a grandchild holding its pipes: the whole group must be killed at the timeout.
    hanging = {"name": "hangs", "type": "command", "timeout": "500ms", "retries": {"attempts": 1},
               "command": [sys.executable, "-c", "import subprocess, time; subprocess.Popen(['sleep', '30']); "
                                                 "time.sleep(30)"]}
    missing = {"name": "missing", "type": "command", "command": [str(tmp_path / "no-such-program")]}
    started = time.monotonic()
    with start([failing, hanging, missing]) as notifier:
        notifier.submit([notice()])
        assert notifier.wait_idle(10)
    assert time.monotonic() - started < 5
    by_channel = {d.channel: (d.status, d.reason) for d in notifier.log.recent()}
    assert by_channel["fails"] == ("failed", f"{sys.executable} exited with status 3: pager down")
    assert by_channel["hangs"] == ("failed", f"{sys.executable} did not finish within 0.5 s and was killed")
    assert by_channel["missing"] == ("failed", f"program {tmp_path / 'no-such-program'} not found")
