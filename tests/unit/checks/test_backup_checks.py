"""Backup checks without real tools: parameters, pgBackRest from recorded JSON, the SSH shell's commands."""

from __future__ import annotations

import json
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from checks.backup.common import parse_duration, parse_time
from checks.backup.pgbackrest import PgbackrestCheck
from checks.backup.shell import Completed, SshShell
from checks.base import CheckContext
from checks.errors import ConfigError
from checks.registry import default_registry
from checks.status import Status
from checks.target import Target

FIXTURE = Path(__file__).parents[2] / "fixtures" / "backup" / "pgbackrest-info.json"
INCR_STOP = 1763773323  # the newest backup of stanza "main" in the recorded output


def test_durations_accept_units_and_seconds():
    assert parse_duration("26h") == 93600 and parse_duration("1d12h") == 129600 and parse_duration(90) == 90
    assert parse_duration("2w") == 14 * 86400 and parse_duration("1.5h") == 5400
    for bad in ("26x", "", "0s", True, -5):
        with pytest.raises(ValueError):
            parse_duration(bad)


def test_times_as_the_tools_write_them():
    assert parse_time("2020-01-01T00:00:00Z") == 1577836800  # restic
    assert parse_time("2026-11-23T17:34:39.575117383Z") == pytest.approx(1795455279.575117)  # nanoseconds
    import zoneinfo

    shanghai = zoneinfo.ZoneInfo("Asia/Shanghai")
    assert parse_time("2020-01-01T08:00:00.000000", shanghai) == 1577836800  # borg 1.x: local, no offset


@pytest.mark.parametrize(
    ("check", "params", "expected"),
    [
        ("backup_files", {"jobs": [{"name": "a", "directory": "rel"}]}, "jobs[0].directory: must be an absolute path"),
        ("backup_files", {"jobs": [{"name": "a", "directory": "/b", "max_age": "soon"}]}, "jobs[0].max_age:"),
        ("backup_files", {"jobs": []}, "jobs: List should have at least 1 item"),
        (
            "backup_files",
            {"jobs": [{"name": "a", "directory": "/b"}, {"name": "a", "directory": "/c"}]},
            "job names must be unique",
        ),
        ("backup_log", {"jobs": [{"name": "a", "path": "/l", "success": "("}]}, "jobs[0].success: not a valid regular"),
        (
            "backup_log",
            {"jobs": [{"name": "a", "path": "/l", "success": "ok", "timezone": "Moon/Base"}]},
            "jobs[0].timezone: unknown time zone",
        ),
        ("restic", {}, "repository: Field required"),
        ("borg", {"repository": "/r", "max_agee": "1d"}, "unknown parameter 'max_agee'"),
        ("pgbackrest", {"full_critical": "weekly"}, "full_critical:"),
    ],
)
def test_bad_parameters_name_the_field(check, params, expected):
    with pytest.raises(ConfigError) as caught:
        default_registry().get(check).validate(params)
    assert expected in str(caught.value)


def test_parameters_survive_the_plans_json_form():
    """The agent receives parameters as JSON and validates them again: durations travel as seconds."""
    for name, params in {
        "backup_files": {"jobs": [{"name": "a", "directory": "/b", "max_age": "2d", "min_size": "1MiB"}]},
        "backup_log": {"jobs": [{"name": "a", "path": "/l", "success": "ok", "warning": "12h"}]},
        "restic": {"repository": "/r", "max_age": "26h"},
        "borg": {"repository": "/r", "critical": 3600},
        "pgbackrest": {"stanza": "main"},
    }.items():
        check = default_registry().get(name)
        first = check.validate(params)
        assert check.validate(first.model_dump(mode="json")) == first


# -- pgBackRest, from recorded output ---------------------------------------------------------------


def stanzas() -> dict[str, dict]:
    return {s["name"]: s for s in json.loads(FIXTURE.read_text())}


def evaluate(stanza: dict, now: float, **params):
    check = PgbackrestCheck()
    return check.evaluate(stanza, check.validate(params), now)


def test_pgbackrest_healthy_stanza():
    main = stanzas()["main"]
    outcome = evaluate(main, INCR_STOP + 5 * 3600)
    figures = {m.name: m.value for m in outcome.metrics}
    assert outcome.status is None  # only thresholds decide: all within them
    assert figures["age"] == 5 * 3600 and figures["incr_age"] == 5 * 3600
    assert figures["full_age"] == INCR_STOP + 5 * 3600 - 1763170201
    assert figures["diff_age"] == INCR_STOP + 5 * 3600 - 1763514602
    assert figures["size"] == 34091302912 and figures["repo_size"] == 67108864 and figures["duration"] == 120
    assert figures["backups"] == 3 and figures["status_code"] == 0
    assert outcome.summary.startswith("last incr 20251115-010001F_20251122-010003I 5.0 h ago, full 7.2 d ago")
    assert "WAL 000000010000000100000087..000000010000000200000041" in outcome.summary


def run_recorded(stanza_names, now_offset: float, **params):
    """The check's own run, on a shell answering with the recorded JSON moved to ``now``."""
    data = [stanzas()[name] for name in stanza_names]
    shift = time.time() - (INCR_STOP + now_offset)
    for stanza in data:
        for backup in stanza["backup"]:
            backup["timestamp"] = {k: v + shift for k, v in backup["timestamp"].items()}
    calls = []

    class RecordedShell:
        def run(self, argv, env, timeout):
            calls.append((argv, env))
            return Completed(0, json.dumps(data).encode(), b"")

    check = default_registry().get("pgbackrest")
    ctx = CheckContext(Target("db01", {"connection": "local"}), connections={"shell": lambda _t: RecordedShell()})
    return check.execute(ctx, check.validate(params)), calls


def test_pgbackrest_thresholds_on_recorded_output():
    results, calls = run_recorded(["main"], 30 * 3600, stanza="main", config="/etc/pgbackrest/pgbackrest.conf")
    assert calls[0][0] == [
        "pgbackrest",
        "info",
        "--output=json",
        "--config=/etc/pgbackrest/pgbackrest.conf",
        "--stanza=main",
    ]
    (main,) = results
    assert main.item == "main" and main.status is Status.CRITICAL and "age" in main.summary  # 30 h > 26 h
    (main,), _ = run_recorded(["main"], 3600, full_critical="5d", full_warning="3d")
    assert main.status is Status.CRITICAL and "full_age" in main.summary


def test_pgbackrest_bad_stanzas_are_critical():
    results, _ = run_recorded(["reports", "erp"], 3600)
    got = {r.item: r for r in results}
    reports = got["reports"]
    assert reports.status is Status.CRITICAL
    assert reports.summary.startswith("status 2: no valid backups") and reports.metric("backups").value == 0
    erp = got["erp"]
    assert erp.status is Status.CRITICAL
    assert "status 4: different across repos (repo2: missing stanza path)" in erp.summary
    assert "reported errors" in erp.summary
    assert "WAL 000000020000000000000002..000000020000000000000009" in erp.summary  # the current database's


def test_pgbackrest_failure_and_missing_program():
    class Failing:
        def __init__(self, done):
            self.done = done

        def run(self, argv, env, timeout):
            return self.done

    check = default_registry().get("pgbackrest")
    for done, status, text in [
        (
            Completed(56, b"", b"ERROR: [056]: unable to find primary cluster - cannot proceed\n"),
            Status.UNKNOWN,
            "pgbackrest info failed (exit 56): ERROR: [056]: unable to find primary cluster",
        ),
        (Completed(127, b"", b"sh: pgbackrest: not found\n"), Status.UNKNOWN, "cannot check: pgbackrest is not"),
        (Completed(0, b"[]", b""), Status.CRITICAL, "lists no stanza"),
    ]:
        ctx = CheckContext(Target("db01"), connections={"shell": lambda _t, d=done: Failing(d)})
        (result,) = check.execute(ctx, check.validate({}))
        assert result.status is status and text in result.summary, result.summary


# -- the SSH shell's commands -------------------------------------------------------------------------


class RecordingConnection:
    def __init__(self, answer: Completed):
        self.answer = answer
        self.calls = []

    def run(self, command, timeout=None, stdin=None):
        self.calls.append(SimpleNamespace(command=command, timeout=timeout, stdin=stdin))
        return self.answer


def test_ssh_shell_passes_secrets_on_stdin_never_on_the_command_line():
    conn = RecordingConnection(Completed(0, b"[]", b""))
    SshShell(conn).run(["restic", "snapshots", "--json"], {"RESTIC_PASSWORD": "s3cr3t-value"}, timeout=20)
    (call,) = conn.calls
    assert "s3cr3t-value" not in call.command and call.stdin == b"RESTIC_PASSWORD=s3cr3t-value\n"
    assert call.command.endswith("sh 20 restic snapshots --json") and call.timeout == 23


def test_ssh_shell_reports_a_remote_timeout():
    conn = RecordingConnection(Completed(124, b"", b""))
    with pytest.raises(TimeoutError, match="restic did not finish within 5 s"):
        SshShell(conn).run(["/usr/bin/restic", "snapshots"], {}, timeout=5)
