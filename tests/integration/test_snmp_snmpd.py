"""SNMP checks against a real net-snmp snmpd on loopback: every version and security level, errors."""

from __future__ import annotations

import socket

import pytest

from checks.base import CheckContext
from checks.rates import RateTracker
from checks.registry import default_registry
from checks.snmp import oids
from checks.snmp.session import SnmpSession
from checks.status import Status
from checks.target import Target
from collector.reach import connections_for

from .snmp_support import SnmpServerError, free_udp_port, snmpbulkwalk, start_snmpd

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def snmpd():
    try:
        server = start_snmpd()
    except SnmpServerError as exc:
        pytest.fail(f"cannot start snmpd for the tests: {exc}", pytrace=False)
    yield server
    server.stop()


def run(check: str, variables: dict, params: dict | None = None, rates: RateTracker | None = None):
    target = Target("dev", {"ansible_host": "127.0.0.1", **variables})
    chk = default_registry().get(check)
    ctx = CheckContext(target=target, connections=connections_for(target), rates=rates or RateTracker())
    return chk.execute(ctx, chk.validate(params or {}))


@pytest.fixture
def secrets(monkeypatch):
    def set_(**values):
        for key, value in values.items():
            monkeypatch.setenv(key, value)

    return set_


def v3_vars(snmpd, user, auth_key=None, priv_key=None):
    auth, akey, priv, pkey = snmpd.users[user]
    out = {"snmp_port": snmpd.port, "snmp_version": "3", "snmp_user": user}
    if auth:
        out.update(snmp_auth_protocol=auth, snmp_auth_key={"env": "PATROL_TEST_AUTH"})
    if priv:
        out.update(snmp_priv_protocol=priv, snmp_priv_key={"env": "PATROL_TEST_PRIV"})
    return out, auth_key or akey, priv_key or pkey


def test_v2c_system_matches_snmpget(snmpd, secrets):
    secrets(PATROL_TEST_COMMUNITY="testcomm")
    [result] = run("snmp_system", {"snmp_port": snmpd.port, "snmp_community": {"env": "PATROL_TEST_COMMUNITY"}})
    expected = snmpbulkwalk(["-v2c", "-c", "testcomm", f"127.0.0.1:{snmpd.port}"], "1.3.6.1.2.1.1")
    assert result.collected and result.metric("up").value == 1
    assert expected["1.3.6.1.2.1.1.5.0"] in result.summary  # sysName
    uptime = int(expected["1.3.6.1.2.1.1.3.0"]) / 100
    assert abs(result.metric("uptime").value - uptime) < 30
    # snmpd started seconds ago: a recent restart is worth a warning (default below 600 s)
    assert result.status is Status.WARNING and "< 600" in result.summary


@pytest.mark.parametrize("user", ["shaaes", "md5des", "sha256", "sha512aes256", "sha224aes192", "noauth"])
def test_v3_security_levels(snmpd, secrets, user):
    variables, akey, pkey = v3_vars(snmpd, user)
    secrets(PATROL_TEST_AUTH=akey or "unused-key", PATROL_TEST_PRIV=pkey or "unused-key")
    [result] = run("snmp_system", variables, {"warning": None})
    assert result.status is Status.OK, result.summary
    assert result.collected and result.metric("uptime").value > 0


def test_v1_get_and_walk(snmpd, secrets):
    secrets(PATROL_TEST_COMMUNITY="testcomm")
    results = run("snmp_interfaces", {"snmp_port": snmpd.port, "snmp_version": "1",
                                      "snmp_community": {"env": "PATROL_TEST_COMMUNITY"}},
                  {"interval": 0.5, "exclude_types": []})  # fmt: skip
    names = snmpbulkwalk(["-v2c", "-c", "testcomm", f"127.0.0.1:{snmpd.port}"], oids.IF_DESCR)
    assert sorted(r.item for r in results) == sorted(names.values())
    assert all(r.collected for r in results)


def test_wrong_community_is_unknown_with_reason(snmpd, secrets):
    secrets(PATROL_TEST_COMMUNITY="not-the-community")
    [result] = run("snmp_system", {"snmp_port": snmpd.port, "snmp_community": {"env": "PATROL_TEST_COMMUNITY"},
                                   "snmp_timeout": 1, "snmp_retries": 0})  # fmt: skip
    assert result.status is Status.UNKNOWN and not result.collected
    assert "community" in result.summary and "answers SNMP" in result.summary
    assert "not-the-community" not in result.summary


def test_wrong_v3_auth_key_is_unknown_with_reason(snmpd, secrets):
    variables, _, pkey = v3_vars(snmpd, "shaaes")
    secrets(PATROL_TEST_AUTH="wrong-auth-key", PATROL_TEST_PRIV=pkey)
    [result] = run("snmp_system", variables)
    assert result.status is Status.UNKNOWN and not result.collected
    assert "authentication key" in result.summary and "wrong-auth-key" not in result.summary


def test_wrong_v3_priv_key_is_unknown_with_reason(snmpd, secrets):
    # net-snmp drops a message it cannot decrypt: only the discovery probe tells this from a dead device
    variables, akey, _ = v3_vars(snmpd, "shaaes")
    secrets(PATROL_TEST_AUTH=akey, PATROL_TEST_PRIV="wrong-priv-key")
    [result] = run("snmp_system", {**variables, "snmp_timeout": 1, "snmp_retries": 0})
    assert result.status is Status.UNKNOWN and "privacy key" in result.summary
    assert "wrong-priv-key" not in result.summary


def test_unknown_v3_user_is_unknown(snmpd, secrets):
    secrets(PATROL_TEST_AUTH="authpass123")
    [result] = run("snmp_system", {"snmp_port": snmpd.port, "snmp_version": "3", "snmp_user": "nobody",
                                   "snmp_auth_key": {"env": "PATROL_TEST_AUTH"}})  # fmt: skip
    assert result.status is Status.UNKNOWN and "nobody" in result.summary


def test_nothing_listening_is_critical_within_its_timeout(secrets):
    secrets(PATROL_TEST_COMMUNITY="testcomm")
    [result] = run("snmp_system", {"snmp_port": free_udp_port(), "snmp_community": {"env": "PATROL_TEST_COMMUNITY"},
                                   "snmp_timeout": 0.5, "snmp_retries": 1})  # fmt: skip
    assert result.status is Status.CRITICAL and not result.collected
    assert result.summary.startswith("unreachable: no SNMP answer from 127.0.0.1:")
    assert result.duration_seconds < 15  # 2 tries of 0.5 s plus one probe of 0.5 s, with a wide margin


def test_missing_oid_is_unknown_item_and_others_still_read(snmpd, secrets):
    secrets(PATROL_TEST_COMMUNITY="testcomm")
    results = run("snmp_get", {"snmp_port": snmpd.port, "snmp_community": {"env": "PATROL_TEST_COMMUNITY"}},
                  {"oids": [{"oid": "1.3.6.1.2.1.2.1.0", "name": "interfaces", "critical": "@0:0"},
                            {"oid": "1.3.6.1.2.1.1.99.0", "name": "missing"},
                            {"oid": "1.3.6.1.2.1.1.5.0", "name": "sysname", "expect": socket.gethostname()}]})
    by_item = {r.item: r for r in results}
    expected = snmpbulkwalk(["-v2c", "-c", "testcomm", f"127.0.0.1:{snmpd.port}"], "1.3.6.1.2.1.2.1")
    assert by_item["interfaces"].metric("value").value == int(expected["1.3.6.1.2.1.2.1.0"]) > 0
    assert by_item["interfaces"].status is Status.OK
    assert by_item["missing"].status is Status.UNKNOWN and "NoSuchObject" in by_item["missing"].summary
    sysname = snmpbulkwalk(["-v2c", "-c", "testcomm", f"127.0.0.1:{snmpd.port}"], "1.3.6.1.2.1.1.5")
    assert (by_item["sysname"].status is Status.OK) == (sysname["1.3.6.1.2.1.1.5.0"] == socket.gethostname())


def test_walk_matches_snmpbulkwalk_and_stays_in_its_subtree(snmpd, secrets):
    secrets(PATROL_TEST_COMMUNITY="testcomm")
    target = Target("dev", {"ansible_host": "127.0.0.1", "snmp_port": snmpd.port, "snmp_max_repetitions": 3,
                            "snmp_community": {"env": "PATROL_TEST_COMMUNITY"}})  # fmt: skip
    roots = [oids.IF_DESCR, oids.IF_TYPE, oids.IF_ADMIN_STATUS, "1.3.6.1.2.1.25.2.3.1.3"]
    tables = SnmpSession(target).walk(roots, deadline=20)
    for root in roots:
        expected = snmpbulkwalk(["-v2c", "-c", "testcomm", f"127.0.0.1:{snmpd.port}"], root)
        got = {oids.dotted(vb.oid): vb.value for vb in tables[oids.parse(root)].values()}
        assert set(got) == set(expected), root
        for oid, value in got.items():
            assert (value.decode() if isinstance(value, bytes) else str(value)) == expected[oid]


def test_device_memory_from_host_resources_matches_snmpbulkwalk(snmpd, secrets):
    secrets(PATROL_TEST_COMMUNITY="testcomm")
    args = ["-v2c", "-c", "testcomm", f"127.0.0.1:{snmpd.port}"]
    results = run("snmp_device", {"snmp_port": snmpd.port, "snmp_community": {"env": "PATROL_TEST_COMMUNITY"}})
    by_item = {r.item: r for r in results}
    types = snmpbulkwalk(args, oids.HR_STORAGE_TYPE)
    ram = next(oid.rsplit(".", 1)[1] for oid, kind in types.items() if kind.lstrip(".") == oids.HR_STORAGE_RAM)
    size = int(snmpbulkwalk(args, f"{oids.HR_STORAGE_SIZE}.{ram}")[f"{oids.HR_STORAGE_SIZE}.{ram}"])
    used = int(snmpbulkwalk(args, f"{oids.HR_STORAGE_USED}.{ram}")[f"{oids.HR_STORAGE_USED}.{ram}"])
    assert by_item["memory"].metric("memory_used").value == pytest.approx(100 * used / size, abs=2)
    assert "host-resources" in by_item["memory"].summary
    # hrProcessorLoad appears only a minute after snmpd starts: CPU is compared on snmpsim's recordings
