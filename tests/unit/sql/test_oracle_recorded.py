"""Oracle checks against RECORDED result sets (tests/fixtures/oracle/), through the real executor.

No Oracle server can run here: the recordings were constructed from Oracle's documented views. The
replay connection answers by the SQL text the executor sends, so variant choice (CDB or not), typing
and the checks' arithmetic are the real code paths.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from checks.base import CheckContext
from checks.registry import default_registry
from checks.sql.pool import SqlPool
from checks.sql.replay import ReplayConnection
from checks.status import Status
from checks.target import Target

FIXTURES = Path(__file__).parents[2] / "fixtures" / "oracle"
GIB = 1024**3


def run_check(name: str, recording: str, params=None, pool: SqlPool | None = None):
    data = json.loads((FIXTURES / recording).read_text())
    target = Target("orcl", {"oracle_host": "127.0.0.1", "oracle_service_name": "ORCL", "oracle_user": "patrol"})
    own = pool or SqlPool(connectors={"oracle": lambda settings: ReplayConnection("oracle", data)})
    check = default_registry().get(name)
    ctx = CheckContext(target=target, connections={"oracle": own.factory("oracle")})
    results = check.execute(ctx, check.validate(params or {}))
    return {r.item: r for r in results}


def metrics(result):
    return {m.name: m.value for m in result.metrics}


def test_tablespaces_honour_autoextend_temp_and_undo_per_container():
    r = run_check("oracle_tablespaces", "cdb19.json")
    # 30 GiB allocated, 0.5 GiB free, may grow to MAXBYTES (32 GiB - 8 KiB): 92.2 % -> WARNING at 85.
    users = r["SALESPDB/USERS"]
    assert users.status is Status.WARNING
    assert metrics(users)["used_bytes"] == 30 * GIB - 512 * 1024**2
    assert metrics(users)["used"] == pytest.approx(100 * (30 * GIB - 512 * 1024**2) / 34359721984, abs=0.01)
    # Fixed size, 98 % full: CRITICAL.
    assert r["SALESPDB/SALES_DATA"].status is Status.CRITICAL
    # 90 % of its allocated 1 GiB but autoextend to 32 GiB: OK (the number other tools get wrong).
    hr = r["HRPDB/HR_DATA"]
    assert hr.status is Status.OK and metrics(hr)["used"] < 3
    # UNDO: used is active + unexpired extents (1946 MiB of a fixed 2 GiB), not allocated - free.
    undo = r["HRPDB/UNDOTBS1"]
    assert metrics(undo)["used_bytes"] == 1946 * 1024**2 and undo.status is Status.WARNING
    # TEMP from the temp free-space view: 3891 MiB of a fixed 4 GiB -> 95 % -> WARNING (temp_warning 90).
    temp = r["SALESPDB/TEMP"]
    assert temp.status is Status.WARNING and "temporary" in temp.summary
    assert r["CDB$ROOT/TEMP"].status is Status.OK
    assert "PDB$SEED/SYSTEM" in r


def test_tablespaces_exclude_pattern_and_noncdb_items_have_no_container():
    r = run_check("oracle_tablespaces", "cdb19.json", {"exclude": ["PDB$SEED/*"]})
    assert not any(item.startswith("PDB$SEED/") for item in r)
    plain = run_check("oracle_tablespaces", "standby12.json")
    assert set(plain) == {"USERS", "UNDOTBS1", "TEMP"}
    assert metrics(plain["UNDOTBS1"])["used_bytes"] == 64 * 1024**2


def test_sessions_against_limits_and_unlimited():
    r = run_check("oracle_sessions", "cdb19.json")
    assert r["sessions"].status is Status.WARNING  # 1240 of 1536 = 80.7 %
    assert metrics(r["sessions"])["used"] == pytest.approx(80.73, abs=0.01)
    assert r["processes"].status is Status.OK
    s = run_check("oracle_sessions", "standby12.json")
    assert "limit UNLIMITED" in s["sessions"].summary and "used" not in metrics(s["sessions"])


def test_blocking_longest_wait_is_critical():
    [r] = run_check("oracle_blocking", "cdb19.json").values()
    assert r.status is Status.CRITICAL and metrics(r) == {"blocked": 2, "longest_wait": 185.204}
    assert "sid 245" in r.summary and "blocked by sid 112" in r.summary


def test_rman_backup_age_and_failed_job():
    r = run_check("oracle_rman", "cdb19.json")
    assert r["DB INCR"].status is Status.WARNING  # 30 h > 26 h
    assert r["ARCHIVELOG"].status is Status.OK
    assert r["failed jobs"].status is Status.CRITICAL and "session 18231" in r["failed jobs"].summary
    none = run_check("oracle_rman", "standby12.json")
    assert none["database"].status is Status.CRITICAL and none["failed jobs"].status is Status.OK


def test_rman_failed_window_is_bound_to_the_query():
    data = json.loads((FIXTURES / "cdb19.json").read_text())
    conn = ReplayConnection("oracle", data)
    pool = SqlPool(connectors={"oracle": lambda settings: conn})
    run_check("oracle_rman", "cdb19.json", {"failed_window": 48}, pool=pool)
    assert ("rman_failed", {"hours": 48.0}) in conn.executed


def test_fra_reclaimable_not_counted():
    [r] = run_check("oracle_fra", "cdb19.json").values()
    assert metrics(r)["used"] == 93.0 and r.status is Status.WARNING
    [none] = run_check("oracle_fra", "standby12.json").values()
    assert none.status is Status.OK and "no fast recovery area" in none.summary


def test_invalid_objects_per_container_and_query_failure_is_unknown_alone():
    r = run_check("oracle_invalid_objects", "cdb19.json", {"exclude_owners": ["APEX_*"]})
    assert set(r) == {"SALESPDB/invalid objects"} and metrics(r["SALESPDB/invalid objects"])["invalid"] == 4
    [failed] = run_check("oracle_invalid_objects", "standby12.json").values()
    assert failed.status is Status.UNKNOWN and not failed.collected and "ORA-00942" in failed.summary


def test_one_failing_query_leaves_the_targets_other_checks_working():
    data = json.loads((FIXTURES / "standby12.json").read_text())
    pool = SqlPool(connectors={"oracle": lambda settings: ReplayConnection("oracle", data)})
    [bad] = run_check("oracle_invalid_objects", "standby12.json", pool=pool).values()
    good = run_check("oracle_tablespaces", "standby12.json", pool=pool)
    assert bad.status is Status.UNKNOWN
    assert all(r.collected for r in good.values()) and good["USERS"].status is Status.OK


def test_alert_log_errors_and_critical_codes():
    [r] = run_check("oracle_alert_log", "cdb19.json").values()
    assert r.status is Status.CRITICAL and metrics(r)["errors"] == 3  # ORA-00600 is critical
    assert "ORA-00600" in r.summary and "ORA-01555" in r.summary
    [quiet] = run_check(
        "oracle_alert_log", "cdb19.json", {"critical_codes": [], "ignore_codes": ["ORA-12012"]}
    ).values()
    assert quiet.status is Status.WARNING and metrics(quiet)["errors"] == 2


def test_dataguard_lag_on_standby_and_primary():
    r = run_check("oracle_dataguard", "standby12.json")
    assert metrics(r["apply lag"])["lag"] == 2530 and r["apply lag"].status is Status.WARNING
    assert r["transport lag"].status is Status.OK
    [primary] = run_check("oracle_dataguard", "cdb19.json").values()
    assert primary.status is Status.OK and "PRIMARY" in primary.summary
    [expected] = run_check("oracle_dataguard", "cdb19.json", {"standby": True}).values()
    assert expected.status is Status.CRITICAL
