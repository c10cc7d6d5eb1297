"""ssh_command against a real sshd: Nagios exit codes, plugin output and performance data, timeouts."""

from __future__ import annotations

import time

import pytest

from checks.registry import default_registry
from checks.status import Status
from checks.target import Target
from collector.planner import Assignment
from collector.runner import Runner

pytestmark = pytest.mark.integration


def run_commands(sshd, known_hosts, commands: dict[str, dict]) -> dict:
    check = default_registry().get("ssh_command")
    target = Target("cmd", sshd.target_vars(known_hosts))
    work = [
        Assignment("t", target, check, check.validate({"item": item, **params})) for item, params in commands.items()
    ]
    return {r.item: r for r in Runner(max_workers=8).run(work)}


def test_exit_codes_map_to_statuses_like_nagios(sshd, known_hosts):
    results = run_commands(
        sshd,
        known_hosts,
        {
            "ok": {"command": "echo 'OK - fine'; exit 0"},
            "warn": {"command": "echo 'WARNING - getting full'; exit 1"},
            "crit": {"command": "echo 'CRITICAL - full'; exit 2"},
            "unknown": {"command": "echo 'UNKNOWN - cannot tell'; exit 3"},
            "missing": {"command": "/nonexistent/check_thing"},
            "killed": {"command": "kill -9 $$"},
            "silent": {"command": "true"},
        },
    )
    expected = {
        "ok": (Status.OK, "OK - fine", 0),
        "warn": (Status.WARNING, "WARNING - getting full", 1),
        "crit": (Status.CRITICAL, "CRITICAL - full", 2),
        "unknown": (Status.UNKNOWN, "UNKNOWN - cannot tell", 3),
        "silent": (Status.OK, "exit 0, no output", 0),
    }
    for item, (status, summary, code) in expected.items():
        r = results[item]
        assert (r.status, r.summary, r.metric("exit_code").value) == (status, summary, code), item
        assert r.collected
    missing = results["missing"]
    assert missing.status is Status.UNKNOWN and missing.metric("exit_code").value == 127
    assert missing.summary.startswith("exit 127: ") and "/nonexistent/check_thing" in missing.summary
    # A command killed by a signal has no exit status (paramiko reports -1): UNKNOWN, never OK.
    assert results["killed"].status is Status.UNKNOWN and results["killed"].summary.startswith("exit ")


def test_plugin_output_and_performance_data_become_summary_and_metrics(sshd, known_hosts):
    output = (
        "DISK WARNING - free space: / 3326 MB (56%); | /=2643MB;5948;5958;0;5968\n"
        "/boot 68 MB (69%);\n"
        "| /boot=68MB;88;93;0;98 'io wait'=12.5ms;20;40 load=U inodes=87%;20;10 count=42c\n"
    )
    command = f"cat <<'END'\n{output}END\nexit 1"  # a here-document: the output exactly, quotes included
    r = run_commands(sshd, known_hosts, {"disk": {"command": command}})["disk"]
    assert r.status is Status.WARNING
    assert r.summary == "DISK WARNING - free space: / 3326 MB (56%);"
    figures = {m.name: (m.value, m.unit, m.labels["label"]) for m in r.metrics if m.name != "exit_code"}
    assert figures == {
        "root": (2643 * 1024**2, "B", "/"),
        "boot": (68 * 1024**2, "B", "/boot"),
        "io_wait": (0.0125, "s", "io wait"),
        "inodes": (87.0, "%", "inodes"),
        "count": (42.0, "", "count"),
    }  # "load=U" (undetermined) is left out


def test_a_command_that_does_not_finish_is_unknown_within_the_check_timeout(sshd, known_hosts):
    start = time.monotonic()
    r = run_commands(sshd, known_hosts, {"hang": {"command": "sleep 60", "timeout": 3}})["hang"]
    assert r.status is Status.UNKNOWN and not r.collected
    assert "did not finish" in r.summary or "timed out" in r.summary, r.summary
    assert time.monotonic() - start < 30


def test_local_targets_have_no_ssh_connection():
    check = default_registry().get("ssh_command")
    [r] = Runner().run(
        [Assignment("t", Target("here", {"connection": "local"}), check, check.validate({"command": "true"}))]
    )
    assert r.status is Status.UNKNOWN and "no 'ssh' connection is available for 'local' targets" in r.summary
