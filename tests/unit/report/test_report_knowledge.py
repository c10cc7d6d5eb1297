"""The knowledge base: built-in texts, site overrides, item patterns, fallbacks and file errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from checks.errors import ConfigError
from checks.status import Status
from collector.report.knowledge import BUILTIN_DIR, GENERIC, KnowledgeBase

HOST_CHECKS = ["cpu", "load", "memory", "swap", "disk", "processes", "uptime", "network_interfaces"]


@pytest.mark.parametrize("check", HOST_CHECKS)
def test_every_host_check_has_texts_for_every_status_in_both_languages(knowledge, check):
    entry = knowledge.checks[check]
    for status in ("WARNING", "CRITICAL", "UNKNOWN"):
        assert set(entry.recommendations[status]) == {"en", "zh"}, (check, status)
        assert knowledge.recommend(check, "", status, "en") != GENERIC[status]["en"]


def test_specific_advice(knowledge):
    assert "last -x" in knowledge.recommend("uptime", "", Status.WARNING)
    assert "duplex" in knowledge.recommend("network_interfaces", "eth0", Status.WARNING)
    assert "pid_max" in knowledge.recommend("processes", "", Status.CRITICAL)
    assert "df -i" in knowledge.recommend("disk", "/data", Status.WARNING)


def test_item_patterns(knowledge):
    assert "logrotate -d" in knowledge.recommend("disk", "/var/log", Status.WARNING)
    assert "logrotate -d" in knowledge.recommend("disk", "/var/log/nginx", Status.WARNING)
    assert "logrotate -d" not in knowledge.recommend("disk", "/var", Status.WARNING)
    assert "old kernels" in knowledge.recommend("disk", "/boot", Status.WARNING)
    # /boot has no CRITICAL text of its own: the check's applies
    assert knowledge.recommend("disk", "/boot", Status.CRITICAL) == knowledge.recommend(
        "disk", "/", "CRITICAL"
    )


def test_fallbacks(knowledge):
    assert knowledge.recommend("oracle_tablespace", "USERS", Status.UNKNOWN) == GENERIC["UNKNOWN"]["en"]
    assert knowledge.recommend("oracle_tablespace", "USERS", Status.WARNING, "zh") == GENERIC["WARNING"]["zh"]
    assert knowledge.recommend("disk", "/", Status.OK) == ""
    assert knowledge.recommend("disk", "/", Status.WARNING, "zh-CN") == knowledge.recommend(
        "disk", "/", "WARNING", "zh"
    )
    assert knowledge.recommend("disk", "/", Status.WARNING, "de") == knowledge.recommend(
        "disk", "/", "WARNING", "en"
    )


def write(directory: Path, name: str, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def test_site_directories_override_and_extend_in_order(tmp_path):
    first = tmp_path / "site"
    second = tmp_path / "team"
    write(
        first,
        "disk.yaml",
        """
check: disk
recommendations:
  WARNING: "Open a ticket with the storage team (queue STOR)."
items:
  "/u0[1-9]":
    CRITICAL: {en: "Oracle data mount: call the DBA on duty.", zh: "Oracle 数据挂载点：请联系值班 DBA。"}
""",
    )
    write(second, "disk-more.yml", "check: disk\nrecommendations:\n  WARNING: {zh: 请向存储组提交工单。}\n")
    write(
        second,
        "backup.yaml",
        "check: backup_age\nrecommendations:\n  CRITICAL: Run the job by hand and check its log.\n",
    )

    knowledge = KnowledgeBase.load([first, second])

    assert (
        knowledge.recommend("disk", "/", Status.WARNING)
        == "Open a ticket with the storage team (queue STOR)."
    )
    assert knowledge.recommend("disk", "/", Status.WARNING, "zh") == "请向存储组提交工单。"
    assert "lvextend" in knowledge.recommend("disk", "/", Status.CRITICAL)  # built-in text kept
    assert knowledge.recommend("disk", "/u01", Status.CRITICAL) == "Oracle data mount: call the DBA on duty."
    assert knowledge.recommend("disk", "/u01", Status.CRITICAL, "zh") == "Oracle 数据挂载点：请联系值班 DBA。"
    assert "logrotate -d" in knowledge.recommend("disk", "/var/log", Status.WARNING)  # built-in pattern kept
    assert knowledge.recommend("backup_age", "", Status.CRITICAL) == "Run the job by hand and check its log."


def test_the_pattern_defined_last_wins(tmp_path):
    write(
        tmp_path,
        "disk.yaml",
        'check: disk\nitems:\n  "/var/log/audit*": {WARNING: "Audit logs: archive, never delete."}\n',
    )
    knowledge = KnowledgeBase.load([tmp_path])
    assert (
        knowledge.recommend("disk", "/var/log/audit", Status.WARNING) == "Audit logs: archive, never delete."
    )
    assert "logrotate -d" in knowledge.recommend("disk", "/var/log/nginx", Status.WARNING)


@pytest.mark.parametrize(
    "text, field, line",
    [
        ("recommendations: {WARNING: x}\n", "check", 1),
        ("check: disk\nrecommendations:\n  WARNNG: {en: x}\n", "recommendations.WARNNG", 3),
        ("check: disk\nrecommendations:\n  WARNING: {en: ''}\n", "recommendations.WARNING.en", 3),
        ("check: disk\nrecommendations:\n  CRITICAL: [a, b]\n", "recommendations.CRITICAL", 3),
        ("check: disk\nrecommendations:\n  WARNING:\n    english: x\n", "recommendations.WARNING.english", 4),
        ("check: disk\nitems: [/var]\n", "items", 2),
        ("check: disk\nitems:\n  /var:\n    WARNING: {en: ok}\n    BAD: {en: x}\n", "items./var.BAD", 5),
        ("check: disk\nrecomendations: {}\n", "recomendations", 2),
        ("- just\n- a list\n", "", 1),
        ("check: disk\nrecommendations: {WARNING: [unclosed\n", "invalid YAML", 3),
    ],
)
def test_malformed_files_name_the_file_and_the_field(tmp_path, text, field, line):
    path = write(tmp_path, "broken.yaml", text)
    with pytest.raises(ConfigError) as error:
        KnowledgeBase.load([tmp_path])
    message = str(error.value)
    assert str(path) in message
    assert field in message
    if line is not None:
        assert f"{path}:{line}:" in message


def test_every_problem_is_reported_at_once(tmp_path):
    write(tmp_path, "a.yaml", "check: ''\nrecommendations:\n  WARNNG: x\n")
    write(tmp_path, "b.yaml", "check: cpu\nitems: 3\n")
    with pytest.raises(ConfigError) as error:
        KnowledgeBase.load([tmp_path])
    assert len(error.value.problems) == 3


def test_a_missing_directory_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        KnowledgeBase.load([tmp_path / "nope"])


def test_builtin_files_are_named_after_their_check():
    for path in BUILTIN_DIR.glob("*.yaml"):
        assert f"check: {path.stem}\n" in path.read_text(encoding="utf-8")
