"""Patrol playbooks, validated against a registry of small test checks."""
from __future__ import annotations

from pathlib import Path

import pytest

from checks.base import Check, Outcome
from checks.errors import ConfigError
from checks.params import CheckParams
from checks.registry import Entry, Registry
from checks.thresholds import UpperLimit
from collector.config.inventory import load_inventory
from collector.config.playbook import ReportOptions, load_playbook


class FigureParams(CheckParams):
    warning: UpperLimit = 80
    critical: UpperLimit = 90
    required: list[str] = []


class FigureCheck(Check):
    """Stands in for the host checks, which live elsewhere and may not exist yet."""

    name = "figure"
    title = "a test check"
    Params = FigureParams

    def run(self, ctx, params):
        yield Outcome("ok")


NAMES = ("cpu", "disk", "processes", "uptime")


@pytest.fixture
def registry() -> Registry:
    entries = {name: Entry(name, f"{__name__}:FigureCheck", "test") for name in NAMES}
    entries["snmp_thing"] = Entry("snmp_thing", "no_such_module_for_patrol_tests:Thing", "test")
    return Registry(entries)


@pytest.fixture
def inventory(write):
    return load_inventory(write("inventory.yaml", """
        all:
          children:
            linux:
              hosts: {web01: , db01: }
            prod:
              hosts: {db01: }
        """))


def problems_of(path: Path, registry: Registry, inventory=None) -> list[tuple[int | None, str]]:
    with pytest.raises(ConfigError) as excinfo:
        load_playbook(path, registry, inventory)
    assert all(p.file == str(path) for p in excinfo.value.problems)
    return [(p.line, str(p).split(": ", 1)[1]) for p in excinfo.value.problems]


def test_full_playbook_loads(config_fixtures, registry, inventory):
    playbook = load_playbook(config_fixtures / "playbook.yaml", registry, inventory)
    assert playbook.name == "daily-patrol"
    assert playbook.description == "Morning health patrol of the Linux hosts"
    assert playbook.schedule.cron == "0 8 * * *" and playbook.schedule.every_seconds is None
    assert playbook.report.formats == ("html", "json", "md")
    assert (playbook.report.title, playbook.report.language) == ("Daily health patrol", "en")
    assert playbook.report.organisation == "Example Ops"
    (task,) = playbook.tasks
    assert (task.name, task.hosts) == ("Host health", "linux")
    assert [(c.name, c.line) for c in task.checks] == [
        ("cpu", 17), ("disk", 18), ("processes", 19), ("uptime", 20)
    ]
    cpu, _, processes, uptime = task.checks
    assert cpu.params.warning.text == "80" and cpu.params.critical.text == "90"
    assert processes.params.required == ["sshd"]
    assert uptime.params == FigureParams(timeout=30)  # a bare name: default parameters
    assert all(check.params.timeout == 30 for check in task.checks)  # the task's default timeout


def test_minimal_playbook_and_defaults(write, registry):
    playbook = load_playbook(write("play.yaml", """
        name: minimal
        tasks:
          - name: t
            hosts: all
            checks: [uptime, {cpu: null}, {disk: {timeout: 5}}]
        """), registry)
    assert playbook.schedule is None and playbook.description == ""
    assert playbook.report.formats == ("html", "json", "md") and playbook.report.knowledge == ()
    assert [c.params.timeout for c in playbook.tasks[0].checks] == [None, None, 5]


def test_a_check_keeps_its_own_timeout_over_the_tasks(write, registry):
    playbook = load_playbook(write("play.yaml", """
        name: p
        tasks:
          - {name: t, hosts: all, timeout: 30, checks: [{cpu: {timeout: 5}}, disk]}
        """), registry)
    assert [c.params.timeout for c in playbook.tasks[0].checks] == [5, 30]


def test_every_schedule_is_parsed(write, registry):
    playbook = load_playbook(write("play.yaml", """
        name: p
        schedule: "@every 1h30m"
        tasks: [{name: t, hosts: all, checks: [cpu]}]
        """), registry)
    assert playbook.schedule.every_seconds == 5400 and playbook.schedule.cron is None


def test_unknown_check_suggests_the_name(write, registry):
    path = write("play.yaml", """
        name: p
        tasks:
          - name: t
            hosts: all
            checks:
              - cpu
              - cpux: {warning: 80}
        """)
    assert problems_of(path, registry) == [
        (7, "tasks[0].checks[1]: unknown check 'cpux' (did you mean 'cpu'?)")
    ]


def test_unavailable_check_says_why(write, registry):
    path = write("play.yaml", "name: p\ntasks: [{name: t, hosts: all, checks: [snmp_thing]}]\n")
    ((line, message),) = problems_of(path, registry)
    assert line == 2 and "cannot be loaded" in message and "no_such_module_for_patrol_tests" in message


def test_wrong_parameter_type_names_line_and_field(write, registry):
    path = write("play.yaml", """
        name: p
        tasks:
          - name: t
            hosts: all
            checks:
              - disk:
                  warning: lots
                  critical: 90
              - processes: {required: sshd}
              - uptime: 5
        """)
    problems = problems_of(path, registry)
    assert [line for line, _ in problems] == [7, 9, 10]
    assert problems[0][1].startswith("tasks[0].checks[0].disk.warning: 'lots' is not a number or")
    assert problems[1][1].startswith("tasks[0].checks[1].processes.required: Input should be a valid list")
    assert problems[2][1] == "tasks[0].checks[2].uptime: expected a mapping of parameters, got int"


def test_unknown_parameter_suggests_the_field(write, registry):
    path = write("play.yaml", """
        name: p
        tasks:
          - name: t
            hosts: all
            checks:
              - cpu: {warnng: 80}
        """)
    assert problems_of(path, registry) == [
        (6, "tasks[0].checks[0].cpu.warnng: unknown parameter 'warnng' (did you mean 'warning'?)")
    ]


def test_bad_cron_and_bad_every(write, registry):
    for schedule, expected in (("0 8 * *", "has 4 fields"), ("61 * * * *", "maximum value"),
                               ("@every 0m", "longer than zero"), ("@every soon", "not a duration")):
        path = write("play.yaml", f"""
            name: p
            schedule: "{schedule}"
            tasks: [{{name: t, hosts: all, checks: [cpu]}}]
            """)
        ((line, message),) = problems_of(path, registry)
        assert line == 2 and message.startswith("schedule: ") and expected in message


def test_unmatched_host_pattern_points_at_the_task(write, registry, inventory):
    path = write("play.yaml", """
        name: p
        tasks:
          - name: fine
            hosts: linux:&prod
            checks: [cpu]
          - name: typo
            hosts: linuz
            checks: [cpu]
        """)
    ((line, message),) = problems_of(path, registry, inventory)
    assert line == 7
    assert message == (f"tasks[1].hosts: host pattern 'linuz' matches no host or group in "
                       f"{path.parent / 'inventory.yaml'} (did you mean 'linux'?)")
    # Without an inventory the pattern is not resolved.
    assert load_playbook(path, registry).tasks[1].hosts == "linuz"


def test_all_problems_are_reported_at_once_in_file_order(write, registry, inventory):
    path = write("play.yaml", """
        name: p
        schedule: "every day"
        tasks:
          - name: t
            hosts: nowhere
            checks:
              - cpu: {critical: high}
              - memroy
        """)
    problems = problems_of(path, registry, inventory)
    assert [line for line, _ in problems] == [2, 5, 7, 8]
    assert "schedule" in problems[0][1] and "nowhere" in problems[1][1]
    assert "critical" in problems[2][1] and "unknown check 'memroy'" in problems[3][1]


def test_structure_problems(write, registry):
    path = write("play.yaml", """
        name: p
        schedul: "@every 1m"
        report: {formats: [html, docx], language: fr}
        tasks:
          - name: t
            host: all
            timeout: -1
            checks: []
        """)
    problems = problems_of(path, registry)
    assert (2, "schedul: unknown key 'schedul' (did you mean 'schedule'?)") in problems
    assert any(line == 3 and "report.formats[1]" in text and "'docx'" in text for line, text in problems)
    assert any(line == 3 and "report.language" in message for line, message in problems)
    assert (5, "tasks[0].hosts: Field required") in problems
    assert (6, "tasks[0].host: unknown key 'host' (did you mean 'hosts'?)") in problems
    assert any(line == 7 and message.startswith("tasks[0].timeout: ") for line, message in problems)
    assert any(line == 8 and message.startswith("tasks[0].checks: List should have at least 1 item")
               for line, message in problems)
    assert len(problems) == 7


def test_required_keys_point_at_the_top(write, registry):
    path = write("play.yaml", "description: nothing else\n")
    assert problems_of(path, registry) == [(1, "name: Field required"), (1, "tasks: Field required")]


def test_malformed_check_entries(write, registry):
    path = write("play.yaml", """
        name: p
        tasks:
          - name: t
            hosts: all
            checks:
              - cpu:
                warning: 80
              - [cpu]
              - ""
        """)
    problems = problems_of(path, registry)
    assert [line for line, _ in problems] == [6, 8, 9]
    assert "indented under it" in problems[0][1] and "'cpu', 'warning'" in problems[0][1]
    assert "expected a check name" in problems[1][1]


def test_knowledge_directories_are_relative_to_the_playbook(write, registry, tmp_path):
    (tmp_path / "kb").mkdir()
    playbook = load_playbook(write("play.yaml", """
        name: p
        report: {knowledge: [kb/]}
        tasks: [{name: t, hosts: all, checks: [cpu]}]
        """), registry)
    assert playbook.report.knowledge == ((tmp_path / "kb").resolve(),)

    path = write("other.yaml", """
        name: p
        report:
          knowledge:
            - missing/
        tasks: [{name: t, hosts: all, checks: [cpu]}]
        """)
    ((line, message),) = problems_of(path, registry)
    assert line == 4 and "report.knowledge[0]" in message and "does not exist" in message


def test_playbook_must_be_a_mapping(write, registry, tmp_path):
    assert problems_of(write("play.yaml", "- cpu\n"), registry)[0][0] == 1
    with pytest.raises(ConfigError, match="file not found"):
        load_playbook(tmp_path / "absent.yaml", registry)


def test_report_settings(write, registry):
    tasks = "tasks: [{name: t, hosts: all, checks: [cpu]}]\n"

    def load(name: str, report: str):
        return load_playbook(write(name, "name: p\n" + report + tasks), registry).report

    assert load("a.yaml", "report:\n") == load("b.yaml", "") == ReportOptions()
    chosen = load("c.yaml", "report: {formats: [md, json, md], language: zh}\n")
    assert chosen.formats == ("md", "json") and chosen.language == "zh"
    assert load("d.yaml", "report: {formats: []}\n").formats == ()
    path = write("e.yaml", "name: p\nreport:\n  formts: [html]\n" + tasks)
    expected = "report.formts: unknown key 'formts' (did you mean 'formats'?)"
    assert problems_of(path, registry) == [(3, expected)]


def test_example_playbook_is_valid_for_the_builtin_checks(config_fixtures):
    playbook = load_playbook(config_fixtures / "playbook.yaml", Registry.discover(),
                             load_inventory(config_fixtures / "inventory.yaml"))
    assert [check.name for check in playbook.tasks[0].checks] == list(NAMES)
