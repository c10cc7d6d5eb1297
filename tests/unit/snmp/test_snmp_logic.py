"""SNMP check logic without a device: table joins, counters across wraps and restarts, walk guards."""

from __future__ import annotations

import asyncio

import pytest

from checks.base import CheckContext
from checks.errors import ConfigError
from checks.rates import RateTracker
from checks.snmp import oids
from checks.snmp.client import SnmpClient
from checks.snmp.get import SnmpGetCheck
from checks.snmp.interfaces import Interface, SnmpInterfacesCheck, build_interfaces, if_type
from checks.snmp.oids import Varbind
from checks.snmp.settings import SnmpSettings
from checks.snmp.system import TICKS_WRAP, rebooted
from checks.status import Status
from checks.target import Target


def table(column: str, rows: dict[int, object], kind: str = "Integer") -> tuple[oids.OID, dict]:
    root = oids.parse(column)
    return root, {(i,): Varbind(root + (i,), v, kind) for i, v in rows.items()}


def test_rebooted_tells_a_restart_from_a_32_bit_wrap():
    assert not rebooted(None, 100, 60)
    assert not rebooted(1000, 7000, 60)
    assert rebooted(500_000, 1000, 60)  # went back: restarted
    assert not rebooted(TICKS_WRAP - 3000, 3000, 60)  # 497 days: wrapped 30 s before, 30 s after
    assert rebooted(TICKS_WRAP - 3000, 900_000, 60)  # near the top, but far more than 60 s later: restarted


def test_interfaces_join_name_fallback_and_speed():
    tables = dict([
        table(oids.IF_DESCR, {1: b"GigabitEthernet0/1", 2: b"TenGigabitEthernet1/1", 3: b"Serial0"}, "OctetString"),
        table(oids.IF_NAME, {1: b"Gi0/1", 2: b"Te1/1"}, "OctetString"),
        table(oids.IF_TYPE, {1: 6, 2: 6, 3: 22}),
        table(oids.IF_SPEED, {1: 1_000_000_000, 2: 4294967295, 3: 2_048_000}, "Gauge32"),
        table(oids.IF_HIGH_SPEED, {1: 1000, 2: 10_000}, "Gauge32"),
        table(oids.IF_HC_IN_OCTETS, {1: 5, 2: 6}, "Counter64"),
        table(oids.IF_HC_OUT_OCTETS, {1: 7, 2: 8}, "Counter64"),
        table(oids.IF_IN_OCTETS, {1: 1, 2: 2, 3: 3}, "Counter32"),
        table(oids.IF_OUT_OCTETS, {1: 1, 2: 2, 3: 4}, "Counter32"),
        table(oids.IF_IN_ERRORS, {1: 0, 2: 0, 3: 9}, "Counter32"),
    ])  # fmt: skip
    gi, te, serial = build_interfaces(tables)
    assert (gi.name, te.name, serial.name) == ("Gi0/1", "Te1/1", "Serial0")  # ifName, else ifDescr
    assert (gi.speed_bps, te.speed_bps, serial.speed_bps) == (1e9, 10e9, 2_048_000.0)
    assert gi.counters64 == {"in_octets": 5, "out_octets": 7} and "in_octets" not in gi.counters32
    assert serial.counters64 == {} and serial.counters32["in_octets"] == 3 and serial.counters32["in_errors"] == 9


def test_if_type_names_and_numbers():
    assert if_type("ethernetCsmacd") == 6 and if_type(161) == 161 and if_type("24") == 24
    with pytest.raises(ValueError, match="unknown interface type 'ethernet'"):
        if_type("ethernet")
    with pytest.raises(ConfigError, match="exclude_types"):
        SnmpInterfacesCheck().validate({"exclude_types": ["nope"]})


def test_oper_status_alerts_only_where_admin_is_up():
    check = SnmpInterfacesCheck()
    params = check.validate({})
    base = dict(index=1, name="Gi0/1", type=6, speed_bps=1e9, alias="", counters32={}, counters64={})
    admin_down = check.evaluate("Gi0/1", Interface(admin=2, oper=2, **base), None, params)
    oper_down = check.evaluate("Gi0/1", Interface(admin=1, oper=7, **base), None, params)
    dormant = check.evaluate("Gi0/1", Interface(admin=1, oper=5, **base), None, params)
    assert admin_down.status is None and admin_down.metrics[0].value == 0
    assert oper_down.status is Status.CRITICAL and "lowerLayerDown" in oper_down.summary
    assert dormant.status is None and dormant.metrics[0].value == 1


def test_rates_through_tracker_wrap_and_restart():
    clock = [0.0]
    rates = RateTracker(clock=lambda: clock[0])
    key = ("snmp_if", "sw", 1, "Gi0/1")
    assert rates.update(key + (32,), {"in_octets": 2**32 - 100}, 32) is None
    clock[0] = 10
    assert rates.update(key + (32,), {"in_octets": 900}, 32) == {"in_octets": 100.0}  # wrapped: 1000 in 10 s
    clock[0] = 20
    assert rates.update(key + (64,), {"in_octets": 10}, 64) is None
    clock[0] = 30
    assert rates.update(key + (64,), {"in_octets": 5}, 64) == {"in_octets": None}  # 64-bit went back: reset
    clock[0] = 40
    assert rates.update(key + (32,), {"in_octets": 2000}, 32, restarted=True) == {"in_octets": None}


class ScriptedClient(SnmpClient):
    """The walk logic against scripted answers: what a broken agent might send."""

    def __init__(self, answers: list[list[tuple[oids.OID, object, str]]], version: str = "2c") -> None:
        super().__init__(None, SnmpSettings(address="127.0.0.1", version=version, community="x"))
        self.answers = answers
        self.requests: list[list[oids.OID]] = []

    async def _exchange(self, pdu, wanted, repetitions=0):
        self.requests.append(list(wanted))
        return 0, 0, self.answers.pop(0) if self.answers else []


def test_walk_stops_at_the_subtree_end_and_on_non_increasing_oids():
    root_a, root_b = (1, 3, 6, 1, 2, 1, 2, 2, 1, 2), (1, 3, 6, 1, 2, 1, 2, 2, 1, 3)
    client = ScriptedClient([
        [(root_a + (1,), b"a1", "OctetString"), (root_b + (1,), 6, "Integer"),
         (root_a + (2,), b"a2", "OctetString"), (root_b + (1,), 6, "Integer")],  # b repeats itself: a loop
        [(root_a + (3,), b"a3", "OctetString")],
        [(root_b + (1,), 6, "Integer")],  # a's next OID is outside its subtree
    ])  # fmt: skip
    tables = asyncio.run(client.walk([root_a, root_b]))
    assert sorted(tables[root_a]) == [(1,), (2,), (3,)] and list(tables[root_b]) == [(1,)]
    assert client.requests == [[root_a, root_b], [root_a + (2,)], [root_a + (3,)]]


def test_walk_ends_on_end_of_mib_and_empty_answers():
    root = (1, 3, 6, 1, 4, 1, 9)
    client = ScriptedClient([[(root + (1,), 1, "Integer"), ((1, 3, 6, 1, 4, 1, 9, 1), None, "EndOfMibView")]])
    assert list(asyncio.run(client.walk([root]))[root]) == [(1,)]
    assert asyncio.run(ScriptedClient([]).walk([root])) == {root: {}}


def test_snmp_get_values_rates_and_expectations():
    check = SnmpGetCheck()
    params = check.validate({"oids": [
        {"oid": ".1.3.6.1.2.1.15.3.1.2.10.0.0.1", "name": "bgp_state", "critical": "6:6"},
        {"oid": "1.3.6.1.4.1.9.9.13.1.3.1.3.1", "name": "temperature", "warning": 50, "scale": 0.5},
        {"oid": "1.3.6.1.2.1.2.2.1.14.1", "name": "errors", "rate": True},
        {"oid": "1.3.6.1.2.1.1.5.0", "name": "sysname", "expect": "core-sw1"},
    ]})  # fmt: skip
    clock = [0.0]
    ctx = CheckContext(target=Target("sw"), rates=RateTracker(clock=lambda: clock[0]))
    bgp, temp, errors, name = params.oids
    assert check.evaluate(ctx, bgp, Varbind((1,), 3, "Integer")).levels["value"].evaluate(3) is Status.CRITICAL
    assert check.evaluate(ctx, temp, Varbind((1,), 120, "Gauge32")).metrics[0].value == 60
    assert "next poll" in check.evaluate(ctx, errors, Varbind((1,), 4294967000, "Counter32")).summary
    clock[0] = 10
    wrapped = check.evaluate(ctx, errors, Varbind((1,), 704, "Counter32"))  # 1000 errors in 10 s, across the wrap
    assert wrapped.metrics[0].value == 100 and wrapped.metrics[0].unit == "/s"
    assert check.evaluate(ctx, name, Varbind((1,), b"edge-sw2", "OctetString")).status is Status.CRITICAL
    assert check.evaluate(ctx, name, Varbind((1,), None, "NoSuchObject")).status is Status.UNKNOWN
    with pytest.raises(ConfigError, match="not a numeric OID"):
        check.validate({"oids": [{"oid": "sysName.0", "name": "x"}]})
    with pytest.raises(ConfigError, match="unique"):
        check.validate({"oids": [{"oid": "1.3.6.1", "name": "x"}, {"oid": "1.3.6.2", "name": "x"}]})
