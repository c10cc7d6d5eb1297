"""The notifications section: the issue's example, every problem at once with file and line, secrets."""

from __future__ import annotations

import datetime as dt
import textwrap

import pytest

from checks.errors import ConfigError
from collector.config.yamlfile import load_yaml
from collector.notify import NotificationSettings, Notifier, load_notifications
from collector.notify.settings import parse_duration

ISSUE_EXAMPLE = """\
notifications:
  channels:
    - {name: ops-hook, type: webhook, url: "https://hooks.example/patrol", secret: {env: HOOK_SECRET}}
    - {name: duty-mail, type: email, smtp_host: mail.example, smtp_port: 587, to: [duty@example.com]}
  routes:
    - {match: {severity: critical}, channels: [ops-hook, duty-mail]}
  escalation:
    - {after: 10m, channels: [duty-mail]}
"""


def load(tmp_path, text: str) -> NotificationSettings:
    path = tmp_path / "patrol.yaml"
    path.write_text(textwrap.dedent(text))
    data, lines = load_yaml(path)
    return load_notifications(data.get("notifications"), path, lines)


def problems(tmp_path, text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, text)
    return [str(p).replace(str(tmp_path) + "/", "") for p in caught.value.problems]


def test_the_issue_example_loads(tmp_path):
    settings = load(tmp_path, ISSUE_EXAMPLE)
    hook, mail = settings.channels
    assert (hook.type, hook.url, hook.secret) == ("webhook", "https://hooks.example/patrol", {"env": "HOOK_SECRET"})
    assert (mail.type, mail.smtp_host, mail.smtp_port, mail.to, mail.tls) == \
        ("email", "mail.example", 587, ("duty@example.com",), "starttls")
    assert settings.routes[0].match.severity == ("CRITICAL",)
    assert settings.escalation_after(1) == dt.timedelta(minutes=10) and settings.escalation_after(2) is None
    assert settings.grouping.wait == dt.timedelta(seconds=1) and settings.retries.attempts == 5


def test_no_section_means_no_notifications():
    assert load_notifications(None) == NotificationSettings()


def test_every_problem_is_reported_at_once_with_its_line(tmp_path):
    found = problems(tmp_path, """\
        listen: 127.0.0.1:8080
        notifications:
          channels:
            - {name: ops-hook, type: webhook, url: "https://hooks.example/patrol", secret: "inline-secret"}
            - {name: duty-mail, type: email, smtp_host: mail.example, smtp_prot: 587, to: [duty@example.com]}
            - {name: ding, type: dingtalk, url: "https://oapi.dingtalk.com/robot/send?access_token=abc"}
            - {name: x, type: webhok, url: "https://a"}
            - {name: ops-hook, type: command, command: [/bin/true]}
          routes:
            - {match: {severity: critcal, change: opend}, channels: [ops-hook, duty-mial]}
            - {match: {target: "web[0"}, channels: ops-hook, continue: true, contine: 1}
          escalation:
            - {after: 10m, channels: [duty-mail]}
            - {after: 5m, channels: [duty-mail]}
            - {after: soon, channels: [duty-mail]}
          grouping: {wait: 1s, window: -3}
          templates:
            subject: "{{ n.nope }"
            text: "{{ nope }}"
        """)
    assert found == [
        "patrol.yaml:4: notifications.channels[0].secret: secrets may not be written inline: use {env: VARIABLE} "
        "or {file: /path/to/secret}",
        "patrol.yaml:5: notifications.channels[1].smtp_prot: unknown parameter 'smtp_prot' (did you mean 'smtp_port'?)",
        "patrol.yaml:6: notifications.channels[2].url: the robot's webhook URL carries its access token, so it is a "
        "secret: use {env: VARIABLE} or {file: /path/to/secret}",
        "patrol.yaml:7: notifications.channels[3].type: unknown channel type 'webhok' (did you mean 'webhook'?); "
        "expected one of: webhook, alertmanager, email, dingtalk, wecom, feishu, command",
        "patrol.yaml:8: notifications.channels[4].name: duplicate channel name 'ops-hook' (first at channels[0])",
        "patrol.yaml:10: notifications.routes[0].match.severity: unknown severity 'critcal' (did you mean "
        "'critical'?); expected warning, critical, unknown, nodata",
        "patrol.yaml:10: notifications.routes[0].match.change: unknown state change 'opend' (did you mean 'opened'?);"
        " expected opened, escalated, acknowledged, resolved, reopened, severity_changed, flapping",
        "patrol.yaml:10: notifications.routes[0].channels[1]: unknown channel 'duty-mial' (did you mean "
        "'duty-mail'?); channels are: ops-hook, duty-mail, ding, x",
        "patrol.yaml:11: notifications.routes[1].match.target: host pattern 'web[0' has an unclosed '[' or a stray ']'",
        "patrol.yaml:11: notifications.routes[1].contine: unknown parameter 'contine' (did you mean 'continue'?)",
        "patrol.yaml:14: notifications.escalation[1].after: escalation levels count from the event's first notice: "
        "each level's 'after' must be later than the previous level's",
        "patrol.yaml:15: notifications.escalation[2].after: expected a duration such as 10s, 5m or 1h30m "
        "(units: ms, s, m, h, d) (got 'soon')",
        "patrol.yaml:16: notifications.grouping.window: must not be negative (got -3)",
        "patrol.yaml:18: notifications.templates.subject: template syntax error on its line 1: unexpected '}'",
        "patrol.yaml:19: notifications.templates.text: the template fails on a sample notice: 'nope' is undefined",
    ]


def test_channel_problems_name_the_channel_fields(tmp_path):
    found = problems(tmp_path, """\
        notifications:
          channels:
            - {type: wecom, url: {env: WECOM_URL}}
            - {name: am, type: alertmanager, url: "http://user:pw@am:9093", username: bob}
            - {name: mail, type: email, smtp_host: m, to: [not-an-address], username: u, password: {env: P}, tls: none}
            - {name: "bad name!", type: command, command: []}
            - {name: notype}
        """)
    assert found == [
        "patrol.yaml:3: notifications.channels[0].name: Field required",
        "patrol.yaml:4: notifications.channels[1].url: a password may not be written in a URL: use the "
        "channel's password or token field",
        "patrol.yaml:5: notifications.channels[2].to[0]: 'not-an-address' is not an e-mail address",
        "patrol.yaml:6: notifications.channels[3].name: String should match pattern '^[A-Za-z0-9][A-Za-z0-9_.-]*$' "
        "(got 'bad name!')",
        "patrol.yaml:6: notifications.channels[3].command: expected at least one value (got [])",
        "patrol.yaml:7: notifications.channels[4]: the channel has no type; expected one of: webhook, alertmanager, "
        "email, dingtalk, wecom, feishu, command",
    ]


def test_a_section_that_is_not_a_mapping(tmp_path):
    assert problems(tmp_path, "notifications: [a, b]\n") == [
        "patrol.yaml:1: notifications: expected a mapping (channels, routes, escalation, ...), got list"]


def test_templates_may_come_from_files(tmp_path):
    (tmp_path / "subject.j2").write_text("{{ count }} from Patrol")
    settings = load(tmp_path, f"""\
        notifications:
          templates: {{subject: {{file: {tmp_path / "subject.j2"}}}}}
          channels:
            - name: hook
              type: webhook
              url: http://127.0.0.1:9/
              templates: {{text: "{{{{ subject }}}}: {{{{ notices|length }}}}"}}
        """)
    assert settings.templates.subject == "{{ count }} from Patrol"
    merged = settings.templates.merged(settings.channels[0].templates)
    assert (merged.subject, merged.text) == ("{{ count }} from Patrol", "{{ subject }}: {{ notices|length }}")
    assert problems(tmp_path, "notifications: {templates: {html: {file: /nonexistent/t.html}}}\n") == [
        "patrol.yaml:1: notifications.templates.html: template file /nonexistent/t.html does not exist"]


def test_durations():
    assert parse_duration("1m30s") == dt.timedelta(seconds=90)
    assert parse_duration("500ms") == dt.timedelta(milliseconds=500)
    assert parse_duration(2.5) == dt.timedelta(seconds=2.5)
    assert parse_duration("1.5h") == dt.timedelta(minutes=90)
    with pytest.raises(ValueError):
        parse_duration("10 minutes")


def test_settings_survive_a_json_round_trip(tmp_path):
    # serve hands its settings to worker processes as JSON.
    settings = load(tmp_path, ISSUE_EXAMPLE + """\
  grouping: {wait: 500ms, by: [severity]}
  templates: {subject: "{{ count }}"}
""")
    settings = settings.model_copy(update={"routes": (*settings.routes, settings.routes[0].model_copy(
        update={"continue_": True}))})
    again = NotificationSettings.model_validate_json(settings.model_dump_json())
    assert again == settings


def test_unreadable_secrets_stop_the_notifier_naming_each(tmp_path):
    settings = load(tmp_path, """\
        notifications:
          channels:
            - {name: hook, type: webhook, url: "https://h.example/", secret: {env: HOOK_SECRET}}
            - {name: ding, type: dingtalk, url: {file: /nonexistent/ding-url}}
            - {name: am, type: alertmanager, url: "http://am:9093", username: u, password: {env: AM_PASSWORD}}
        """)
    with pytest.raises(ConfigError) as caught:
        Notifier.from_settings(settings, environ={"AM_PASSWORD": ""}, start=False)
    assert [str(p) for p in caught.value.problems] == [
        "notifications.channels[0].secret: cannot read the secret (environment variable HOOK_SECRET): "
        "environment variable HOOK_SECRET is not set",
        "notifications.channels[1].url: cannot read the secret (file /nonexistent/ding-url): "
        "secret file /nonexistent/ding-url does not exist",
        "notifications.channels[2].password: cannot read the secret (environment variable AM_PASSWORD): "
        "environment variable AM_PASSWORD is empty",
    ]
    ok = Notifier.from_settings(settings.model_copy(update={"channels": settings.channels[:1]}),
                                environ={"HOOK_SECRET": "x" * 16}, start=False)
    assert list(ok.workers) == ["hook"]
