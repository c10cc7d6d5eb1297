"""The settings file's report: section (collector/report/settings.py), as patrol serve and the report
commands read it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from checks.errors import ConfigError
from collector.serve import load_settings, load_site_report


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "patrol.yaml"
    path.write_text(text)
    return path


def test_the_section_sets_defaults_and_knowledge_is_relative_to_the_file(tmp_path):
    (tmp_path / "advice").mkdir()
    config = write(tmp_path, "report:\n  organisation: ACME\n  language: zh\n  knowledge: [advice]\n"
                             "  timezone: Asia/Shanghai\n  email: ops-mail\n")
    report, _ = load_site_report(config)
    assert (report.organisation, report.language, report.timezone, report.email) == ("ACME", "zh", "Asia/Shanghai",
                                                                                    "ops-mail")
    assert report.knowledge == ((tmp_path / "advice").resolve(),)
    # Only what the file sets is handed on: the rest stays the playbook's or the built-in default.
    assert report.options() == {"organisation": "ACME", "language": "zh", "knowledge": report.knowledge}
    assert load_settings(config, {}).report == report  # patrol serve accepts the same file


def test_no_file_and_no_section_give_the_defaults(tmp_path):
    report, notifications = load_site_report(None)
    assert report.options() == {} and report.email is None and notifications.channels == ()
    report, _ = load_site_report(write(tmp_path, "listen: 127.0.0.1:9000\n"))
    assert report.options() == {}


@pytest.mark.parametrize(("text", "line", "message"), [
    ("report:\n  formats: [html, docx]\n", 2, "report.formats[1]: "),
    ("report:\n  language: fr\n", 2, "report.language: "),
    ("report:\n  knowledge: [nowhere]\n", 2, "does not exist (relative to the settings file)"),
    ("report:\n  timezone: Mars/Base\n", 2, "unknown time zone 'Mars/Base'"),
    ("report:\n  email: ''\n", 2, "report.email: "),
    ("report: [html]\n", 1, "report: expected a mapping (formats, language, email, ...), got list"),
])
def test_mistakes_name_file_line_and_field(tmp_path, text, line, message):
    config = write(tmp_path, text)
    with pytest.raises(ConfigError) as raised:
        load_site_report(config)
    [problem] = raised.value.problems
    assert (problem.file, problem.line) == (str(config), line)
    assert message in str(problem)


def test_patrol_run_writes_its_report_with_the_site_defaults_under_the_playbooks(tmp_path):
    from collector.cli import main

    inventory = tmp_path / "inventory.yaml"
    inventory.write_text("all:\n  hosts:\n    localhost: {connection: local}\n")
    playbook = tmp_path / "p.yaml"
    playbook.write_text("name: p\nreport: {formats: [json], reviewer: Playbook Reviewer}\n"
                        "tasks:\n  - name: up\n    hosts: all\n    checks: [uptime]\n")
    config = write(tmp_path, "report:\n  organisation: ACME\n  reviewer: Site Reviewer\n  inspector: Night shift\n"
                             "  formats: [md]\n")
    with pytest.raises(SystemExit):
        main(["run", str(playbook), "-i", str(inventory), "--db", f"sqlite:///{tmp_path}/p.db",
              "--report-dir", str(tmp_path / "r"), "--config", str(config), "-q"])
    [written] = (tmp_path / "r").glob("p-1-*")  # the playbook's formats win over the site's
    cover = json.loads(written.read_text())["cover"]
    assert (cover["organisation"], cover["reviewer"], cover["inspector"]) == ("ACME", "Playbook Reviewer",
                                                                              "Night shift")
