"""Every registered check has advice of its own in the built-in knowledge base, in English and Chinese.

The check names are read from ``checks.registry.BUILTIN`` when the tests run, so a check registered
later is held to the rule the moment it is registered; the checks whose files were written ahead of
their registration (``AHEAD_OF_REGISTRATION``) are held to it already. The rule: every check has an ``en`` and a ``zh``
text for CRITICAL and UNKNOWN (every check can fail to collect, and every one has a failing state),
and for WARNING unless it is listed in ``CANNOT_WARN`` with the reason it cannot produce one.
"""

from __future__ import annotations

import re

import pytest

from checks.registry import BUILTIN
from checks.status import Status
from collector.report.knowledge import BUILTIN_DIR, GENERIC, STATUSES, read_file

# Checks that never produce WARNING: their files must not carry a text nobody would ever read.
CANNOT_WARN = {
    "postgres_archiving": "archiving works (OK) or fails (CRITICAL); it has no thresholds",
    "facts": "facts are information: OK when read, UNKNOWN (or CRITICAL for a silent SNMP device) when not",
}

# Knowledge files written ahead of their checks, which other branches are adding. Loading must not
# depend on the check being registered (the loader does not look at the registry).
AHEAD_OF_REGISTRATION = {"ha_cluster", "systemd_units", "clock", "facts"}

CJK = re.compile(r"[\u4e00-\u9fff]")


def required_statuses(check: str) -> tuple[str, ...]:
    if check in CANNOT_WARN:
        return (Status.CRITICAL.value, Status.UNKNOWN.value)
    return STATUSES


@pytest.mark.parametrize("check", sorted({*BUILTIN, *AHEAD_OF_REGISTRATION}))
def test_every_registered_check_has_its_own_advice_in_english_and_chinese(knowledge, check):
    assert check in knowledge.checks, f"no knowledge file: add {BUILTIN_DIR.name}/{check}.yaml"
    recommendations = knowledge.checks[check].recommendations
    for status in required_statuses(check):
        texts = recommendations.get(status, {})
        assert {"en", "zh"} <= set(texts), (check, status, sorted(texts))
        assert CJK.search(texts["zh"]), (check, status, "the zh text is not Chinese")
        assert not CJK.search(texts["en"]), (check, status, "the en text holds Chinese")
        # What the report prints is this check's own text, not the generic fallback.
        assert knowledge.recommend(check, "", status, "en") == texts["en"] != GENERIC[status]["en"]
        assert knowledge.recommend(check, "", status, "zh-CN") == texts["zh"] != GENERIC[status]["zh"]


def test_checks_that_cannot_warn_carry_no_warning_text(knowledge):
    for check in CANNOT_WARN:
        assert check in knowledge.checks, check
        assert Status.WARNING.value not in knowledge.checks[check].recommendations, check


def test_every_builtin_file_is_for_a_known_check_and_item_texts_are_in_both_languages():
    seen = set()
    for path in sorted(BUILTIN_DIR.glob("*.yaml")):
        check, knowledge = read_file(path)
        seen.add(check)
        assert check in BUILTIN or check in AHEAD_OF_REGISTRATION, f"{path.name}: no check named {check!r}"
        for pattern, by_status in knowledge.items.items():
            for status, texts in by_status.items():
                assert set(texts) == {"en", "zh"}, (check, pattern, status)
                assert status in required_statuses(check), (check, pattern, status)
    assert AHEAD_OF_REGISTRATION <= seen


def test_files_for_checks_not_yet_registered_load_with_the_rest(knowledge):
    for check in AHEAD_OF_REGISTRATION:
        texts = knowledge.checks[check].recommendations["UNKNOWN"]
        assert knowledge.recommend(check, "", Status.UNKNOWN, "zh") == texts["zh"]


def test_advice_names_what_the_check_measures(knowledge):
    def en(check: str, status: str, item: str = "") -> str:
        return knowledge.recommend(check, item, status, "en")

    assert "VACUUM (FREEZE" in en("postgres_wraparound", "CRITICAL")
    assert "pg_stat_archiver" in en("postgres_archiving", "CRITICAL")
    assert "ADD DATAFILE" in en("oracle_tablespaces", "WARNING", "USERS")
    assert "AUTOEXTEND ON MAXSIZE" in en("oracle_tablespaces", "WARNING", "PDB1/USERS")
    assert "ORA-01652" in en("oracle_tablespaces", "WARNING", "PDB1/TEMP")
    assert "ORA-01555" in en("oracle_tablespaces", "WARNING", "UNDOTBS1")
    # TEMP has no CRITICAL text of its own: the tablespace advice applies
    assert en("oracle_tablespaces", "CRITICAL", "TEMP") == en("oracle_tablespaces", "CRITICAL", "USERS")
    assert "ORA-00257" in en("oracle_fra", "CRITICAL")
    assert "SHOW REPLICA STATUS" in en("mysql_replication", "CRITICAL")
    assert "restic -r REPO snapshots" in en("restic", "WARNING")
    assert "borg list" in en("borg", "CRITICAL")
    assert "stanza-create" in en("pgbackrest", "CRITICAL")
    assert "ipmitool sel elist" in en("redfish_health", "WARNING")
    assert "reseat" in en("redfish_health", "CRITICAL", "PSU 1")
    assert "reseat" in en("redfish_health", "CRITICAL", "Chassis 1 / PSU 1")
    assert "Replace the drive" in en("redfish_health", "CRITICAL", "drive 0")
    assert "mdadm --manage" in en("raid", "CRITICAL")
    assert "smartctl -t long" in en("smart", "WARNING")
    assert "ping_group_range" in en("ping", "UNKNOWN")
    assert "manager-status" in en("tomcat_threads", "UNKNOWN")
    assert "GC.heap_dump" in en("tomcat_memory", "CRITICAL")
    assert "StuckThreadMaxTime" in en("weblogic_threads", "WARNING")
    assert "split brain" in en("ha_cluster", "CRITICAL", "vrrp VI_1")
    assert "corosync-quorumtool" in en("ha_cluster", "CRITICAL", "cluster")
    assert "systemctl --failed" in en("systemd_units", "WARNING")
    assert "chronyc tracking" in en("clock", "WARNING")
    assert "chronyc" in knowledge.recommend("clock", "", "CRITICAL", "zh")
