"""patrol report daily|period|run --email: the report mailed through a configured email channel to a real
SMTP server (aiosmtpd with STARTTLS and AUTH), and the settings file's report: section as the defaults."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import json
import re
from pathlib import Path

import pytest

from checks.result import Result
from checks.status import Status
from collector.cli import main
from collector.report.period import day_bounds
from collector.store import Store

from .notify_support import SmtpServer

pytestmark = pytest.mark.integration

DAY = dt.date(2026, 11, 22)
START, END = day_bounds(DAY, "Asia/Shanghai")


def result(target: str, item: str, status: str, at: dt.datetime, check: str = "disk") -> Result:
    return Result(target=target, check=check, item=item, status=Status(status), summary=f"{item} is {status}",
                  started_at=at, duration_seconds=0.1)


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path}/p.db"
    with Store.open(url) as store:
        run = store.start_run(playbook="p", playbook_path="", description="", source="run")
        store.add_results(run, [result("web01", "/home", "WARNING", START - dt.timedelta(hours=2))])
        store.finish_run(run, finished_at=START - dt.timedelta(hours=2), status=Status.WARNING, target_count=1,
                         check_count=1)
        store.ingest_batch("b1", "web01", [
            result("web01", "/home", "WARNING", START + dt.timedelta(hours=5)),
            result("web01", "/data", "CRITICAL", START + dt.timedelta(hours=6)),
            result("db01", "/", "OK", START + dt.timedelta(hours=6)),
        ])
    return url


@pytest.fixture
def smtp(tmp_path: Path, monkeypatch):
    server = SmtpServer(tmp_path)
    monkeypatch.setenv("SMTP_PASSWORD", server.password)
    yield server
    server.stop()


def settings(tmp_path: Path, smtp: SmtpServer, report: str = "", **channel) -> Path:
    fields = {"smtp_port": smtp.port, "ca_file": str(smtp.cert), "username": smtp.user,
              "password": {"env": "SMTP_PASSWORD"}, **channel}
    extra = "".join(f"      {k}: {json.dumps(v)}\n" for k, v in fields.items())
    path = tmp_path / "patrol.yaml"
    path.write_text(
        "notifications:\n"
        "  channels:\n"
        "    - name: ops-mail\n"
        "      type: email\n"
        "      smtp_host: 127.0.0.1\n"
        "      from: patrol@example.com\n"
        "      to: [ops@example.com, manager@example.com]\n"
        f"{extra}"
        "    - name: chat\n"
        "      type: webhook\n"
        "      url: http://127.0.0.1:9/hook\n"
        f"{report}"
    )
    return path


def run(*args: str) -> int:
    with pytest.raises(SystemExit) as done:
        main(list(args))
    return done.value.code


def parse(raw: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)


def test_daily_report_mailed_with_the_settings_files_defaults(tmp_path, db, smtp, capsys):
    config = settings(tmp_path, smtp, report=(
        "report:\n"
        "  organisation: ACME Operations\n"
        "  reviewer: Wang Li\n"
        "  formats: [html, json]\n"
        "  timezone: Asia/Shanghai\n"
        "  email: ops-mail\n"
    ))
    out = tmp_path / "reports"
    code = run("report", "daily", "--date", "2026-11-22", "--config", str(config), "--db", db, "--out", str(out),
               "-i", str(tmp_path / "none.yaml"))
    assert code == 2  # /data CRITICAL: the exit status is still the worst finding
    [mail] = smtp.wait_for(1)
    assert mail.tls and mail.login == smtp.user
    assert mail.sender == "patrol@example.com" and mail.recipients == ["ops@example.com", "manager@example.com"]
    message = parse(mail.content)
    written = json.loads((out / "daily-20261122.json").read_text())
    health = written["health"]
    assert written["cover"]["organisation"] == "ACME Operations" and written["cover"]["reviewer"] == "Wang Li"
    assert written["cover"]["title"] == "Daily health report"
    assert message["Subject"] == (
        f"ACME Operations — Daily health report 2026-11-22: {health['band'].capitalize()} ({health['score']}/100)"
    )
    assert message["X-Patrol-Severity"] == "CRITICAL"
    text = message.get_body(("plain",)).get_content()
    assert health["verdict"] in text
    # Most severe first, each with target, check, item and summary.
    critical = text.index("CRITICAL web01 · disk · /data — /data is CRITICAL")
    warning = text.index("WARNING  web01 · disk · /home — /home is WARNING")
    assert critical < warning
    assert "Targets: 2 · Targets with problems: 1" in text
    assert "The full report is attached: daily-20261122.html, daily-20261122.json" in text
    html = message.get_body(("html",)).get_content()
    assert health["verdict"] in html and "/data is CRITICAL" in html
    attachments = {part.get_filename(): part for part in message.iter_attachments()}
    assert list(attachments) == ["daily-20261122.html", "daily-20261122.json"]
    assert attachments["daily-20261122.html"].get_content_type() == "text/html"
    assert attachments["daily-20261122.json"].get_content() == (out / "daily-20261122.json").read_bytes()
    output = capsys.readouterr().out
    assert "Sent to ops@example.com, manager@example.com (channel ops-mail)" in output


def test_flags_win_over_the_settings_file(tmp_path, db, smtp):
    config = settings(tmp_path, smtp, report="report:\n  formats: [html]\n  language: en\n  timezone: Asia/Shanghai\n")
    out = tmp_path / "reports"
    code = run("report", "period", "--from", "2026-11-22T00:00+08:00", "--to", "2026-11-24T00:00+08:00",
               "--config", str(config), "--email", "ops-mail", "--format", "md", "--lang", "zh", "--db", db,
               "--out", str(out))
    assert code == 2
    [mail] = smtp.wait_for(1)
    message = parse(mail.content)
    assert message["Subject"].startswith("健康报告 2026-11-22 – 2026-11-23：")
    assert [p.get_filename() for p in message.iter_attachments()] == ["period-20261122.md"]
    assert "严重" in message.get_body(("plain",)).get_content()
    assert sorted(p.name for p in out.iterdir()) == ["period-20261122.md"]


def test_run_report_mailed(tmp_path, db, smtp):
    config = settings(tmp_path, smtp)
    code = run("report", "run", "1", "--config", str(config), "--email", "ops-mail", "--format", "json",
               "--db", db, "--out", str(tmp_path / "r"), "-i", str(tmp_path / "none.yaml"))
    assert code == 1  # run 1 stored a WARNING only
    [mail] = smtp.wait_for(1)
    message = parse(mail.content)
    # The run's start (when it was stored: now), its band and score.
    assert re.fullmatch(r"Inspection report \d{4}-\d\d-\d\d \d\d:\d\d: \w+ \(\d+/100\)", message["Subject"])
    assert message["X-Patrol-Severity"] == "WARNING"
    [attachment] = message.iter_attachments()
    assert attachment.get_filename().startswith("p-1-") and attachment.get_filename().endswith(".json")


@pytest.mark.parametrize(("args", "channel", "message"), [
    (["--email", "nosuch"], {},
     "--email: no notification channel named 'nosuch' in {config} (email channels: ops-mail)"),
    (["--email", "chat"], {},
     "--email: channel 'chat' is a webhook channel; reports are sent through an email channel"),
    (["--email", "ops-mail"], {"password": {"env": "NO_SUCH_VARIABLE"}},
     "notifications.channels[0].password: cannot read the secret"),
])
def test_a_wrong_channel_stops_before_anything_is_written(tmp_path, db, smtp, capsys, args, channel, message):
    config = settings(tmp_path, smtp, **channel)
    out = tmp_path / "reports"
    code = run("report", "daily", "--date", "2026-11-22", "--config", str(config), *args, "--db", db, "--out", str(out))
    assert code == 78
    assert message.format(config=config) in capsys.readouterr().err
    assert not out.exists() and smtp.mails == []


def test_a_bad_report_section_names_its_line(tmp_path, db, smtp, capsys):
    config = settings(tmp_path, smtp, report="report:\n  formats: [html]\n  timezone: Mars/Base\n  formts: [pdf]\n")
    code = run("report", "daily", "--config", str(config), "--db", db, "--out", str(tmp_path / "x"))
    assert code == 78
    err = capsys.readouterr().err
    lines = config.read_text().splitlines()
    zone_line, typo_line = lines.index("  timezone: Mars/Base") + 1, lines.index("  formts: [pdf]") + 1
    assert f"{config}:{zone_line}: report.timezone: " in err and "unknown time zone 'Mars/Base'" in err
    assert f"{config}:{typo_line}: report.formts: unknown parameter 'formts' (did you mean 'formats'?)" in err
    assert not (tmp_path / "x").exists()


def test_a_refused_delivery_keeps_the_report_and_says_why(tmp_path, db, smtp, capsys, monkeypatch):
    monkeypatch.setenv("SMTP_PASSWORD", "not-the-password")
    config = settings(tmp_path, smtp)
    out = tmp_path / "reports"
    code = run("report", "daily", "--date", "2026-11-22", "--timezone", "Asia/Shanghai", "--config", str(config),
               "--email", "ops-mail", "--format", "json", "--db", db, "--out", str(out))
    assert code == 69  # the server refused the login: trying again will not help
    err = capsys.readouterr().err
    assert "the report was written but not sent through channel 'ops-mail': SMTP login refused: 535" in err
    assert "not-the-password" not in err
    assert (out / "daily-20261122.json").is_file()
    assert smtp.mails == []
