"""snmp_environment against snmpsim: recordings this test writes for a healthy and a failing Cisco device
(CISCO-ENVMON-MIB and ENTITY-SENSOR-MIB), a healthy and a failing Huawei device (HUAWEI-ENTITY-EXTENT-MIB
temperatures and fans), a device only the standard ENTITY-SENSOR-MIB describes (scales, precisions), and
one with no sensors at all."""

from __future__ import annotations

import pytest

from checks.base import CheckContext
from checks.registry import default_registry
from checks.status import Status
from checks.target import Target
from collector.planner import Assignment
from collector.reach import connections_for
from collector.runner import Runner

from .snmp_support import CISCO_SWITCH, HUAWEI_SWITCH, SnmpServerError, free_udp_port, snmpbulkwalk, start_snmpsim

pytestmark = pytest.mark.integration

NET_SNMP = "1.3.6.1.4.1.8072.3.2.10"  # no vendor profile: the fallback's ENTITY-SENSOR-MIB only
ENT_NAME = "1.3.6.1.2.1.47.1.1.1.1.7"
SENSOR = "1.3.6.1.2.1.99.1.1.1"
ENVMON = "1.3.6.1.4.1.9.9.13.1"
HW_STATE = "1.3.6.1.4.1.2011.5.25.31.1.1.1.1"
HW_FAN = "1.3.6.1.4.1.2011.5.25.31.1.1.10.1"


def records(sys_object_id: str, rows: dict[str, tuple[int, object]]) -> list[str]:
    rec = {"1.3.6.1.2.1.1.1.0": (4, "Simulated device for Patrol environment tests"),
           "1.3.6.1.2.1.1.2.0": (6, sys_object_id), "1.3.6.1.2.1.1.3.0": (67, 360_000_00),
           "1.3.6.1.2.1.1.5.0": (4, "env-test"), **rows}  # fmt: skip
    ordered = sorted(rec, key=lambda oid: tuple(int(n) for n in oid.split(".")))
    return [f"{oid}|{rec[oid][0]}|{rec[oid][1]}" for oid in ordered]


def entity_sensor(index: int, name: str, kind: int, scale: int, precision: int, value: int, oper: int = 1) -> dict:
    return {f"{ENT_NAME}.{index}": (4, name), f"{SENSOR}.1.{index}": (2, kind), f"{SENSOR}.2.{index}": (2, scale),
            f"{SENSOR}.3.{index}": (2, precision), f"{SENSOR}.4.{index}": (2, value),
            f"{SENSOR}.5.{index}": (2, oper)}  # fmt: skip


def cisco(failing: bool) -> list[str]:
    rows: dict[str, tuple[int, object]] = {}
    temps = [(1006, "SW#1, Sensor#1, GREEN", 61 if failing else 38, 56, 3 if failing else 1),
             (1007, "SW#1, Sensor#2, GREEN", 45, 56, 2 if failing else 1)]  # fmt: skip
    for index, descr, value, threshold, state in temps:
        rows |= {f"{ENVMON}.3.1.2.{index}": (4, descr), f"{ENVMON}.3.1.3.{index}": (66, value),
                 f"{ENVMON}.3.1.4.{index}": (2, threshold), f"{ENVMON}.3.1.6.{index}": (2, state)}  # fmt: skip
    for index, descr, state in [(1011, "Switch#1, Fan#1", 1), (1012, "Switch#1, Fan#2", 6 if failing else 1)]:
        rows |= {f"{ENVMON}.4.1.2.{index}": (4, descr), f"{ENVMON}.4.1.3.{index}": (2, state)}
    for index, descr, state in [(1013, "Sw1, PSA Normal", 3 if failing else 1), (1014, "Sw1, PSB NotExist", 5)]:
        rows |= {f"{ENVMON}.5.1.2.{index}": (4, descr), f"{ENVMON}.5.1.3.{index}": (2, state)}
    rows |= entity_sensor(1010, "Switch 1 - Inlet Temp Sensor", 8, 9, 0, 41)
    rows |= entity_sensor(2010, "Switch 1 - 12V Rail", 4, 8, 0, 12050)  # 12050 mV
    rows |= entity_sensor(2011, "Switch 1 - Power Supply A Output", 6, 9, 1, 1525, 3 if failing else 1)  # 152.5 W
    rows |= entity_sensor(2012, "Switch 1 - Fan 1 Sensor", 10, 9, 0, 7200)
    if failing:
        rows |= entity_sensor(2013, "Switch 1 - Outlet Temp Sensor", 8, 9, 0, 0, 2)  # unavailable
    return records(CISCO_SWITCH, rows)


def huawei(failing: bool) -> list[str]:
    rows: dict[str, tuple[int, object]] = {}
    # the chassis (no sensor: 0), the MPU, a line card, and a slot whose firmware says 2147483647
    for index, name, temp, threshold in [(67108867, "S5720-28X Chassis", 0, 0), (67108873, "MPU Board 0", 42, 70),
                                         (67108874, "LPU Board 1", 75 if failing else 51, 70),
                                         (67108875, "PWR 1", 2147483647, 0)]:  # fmt: skip
        rows |= {f"{ENT_NAME}.{index}": (4, name), f"{HW_STATE}.11.{index}": (2, temp),
                 f"{HW_STATE}.12.{index}": (2, threshold)}  # fmt: skip
    for slot_sn, speed, present, state in [("0.0", 40, 1, 2 if failing else 1), ("0.1", 0, 2, 2)]:
        rows |= {f"{HW_FAN}.5.{slot_sn}": (2, speed), f"{HW_FAN}.6.{slot_sn}": (2, present),
                 f"{HW_FAN}.7.{slot_sn}": (2, state)}  # fmt: skip
    return records(HUAWEI_SWITCH, rows)


def generic() -> list[str]:
    rows: dict[str, tuple[int, object]] = {}
    rows |= entity_sensor(11, "CPU Temp", 8, 9, 1, 523)  # 52.3 °C
    rows |= entity_sensor(12, "Inlet Humidity", 9, 9, 0, 38)
    rows |= entity_sensor(13, "PSU1 Current", 5, 8, 2, 185000)  # 1850.00 mA = 1.85 A
    rows |= entity_sensor(14, "", 6, 10, 0, 2)  # 2 kW, no name: named by its index
    rows |= entity_sensor(15, "Door Closed", 12, 9, 0, 1)  # a truth value
    return records(NET_SNMP, rows)


RECORDINGS = {
    "env/cisco-ok": cisco(failing=False), "env/cisco-fail": cisco(failing=True),
    "env/huawei-ok": huawei(failing=False), "env/huawei-fail": huawei(failing=True),
    "env/generic": generic(), "env/none": records(NET_SNMP, {}),
}  # fmt: skip


@pytest.fixture(scope="module")
def sim():
    try:
        server = start_snmpsim(RECORDINGS)
    except SnmpServerError as exc:
        pytest.fail(f"cannot start snmpsim for the tests: {exc}", pytrace=False)
    yield server
    server.stop()


def device(sim, name: str = "sw1", **extra) -> Target:
    return Target(name, {"ansible_host": "127.0.0.1", "snmp_port": sim.port, "snmp_version": "2c",
                         "snmp_community": {"env": "PATROL_TEST_COMMUNITY"}, **extra})  # fmt: skip


def run(monkeypatch, sim, community: str, params=None, **extra) -> dict:
    monkeypatch.setenv("PATROL_TEST_COMMUNITY", community)
    check = default_registry().get("snmp_environment")
    target = device(sim, **extra)
    ctx = CheckContext(target=target, connections=connections_for(target))
    return {r.item: r for r in check.execute(ctx, check.validate(params or {}))}


def test_healthy_cisco_envmon_and_entity_sensors(sim, monkeypatch):
    results = run(monkeypatch, sim, "env/cisco-ok")
    assert set(results) == {
        "temperature SW#1, Sensor#1, GREEN", "temperature SW#1, Sensor#2, GREEN", "fan Switch#1, Fan#1",
        "fan Switch#1, Fan#2", "PSU Sw1, PSA Normal", "Switch 1 - Inlet Temp Sensor", "Switch 1 - 12V Rail",
        "Switch 1 - Power Supply A Output", "Switch 1 - Fan 1 Sensor",
    }  # the absent supply (notPresent) is no item  # fmt: skip
    assert all(r.status is Status.OK for r in results.values()), [r.summary for r in results.values()]
    temp = results["temperature SW#1, Sensor#1, GREEN"]
    assert temp.metric("temperature").value == 38 and temp.metric("temperature").unit == "C"
    assert temp.thresholds[0].critical == "~:56" and "device threshold 56 °C" in temp.summary
    walked = snmpbulkwalk(["-v2c", "-c", "env/cisco-ok", f"127.0.0.1:{sim.port}"], f"{ENVMON}.3.1.3")
    assert temp.metric("temperature").value == int(walked[f"{ENVMON}.3.1.3.1006"])
    assert results["Switch 1 - 12V Rail"].metric("voltage").value == pytest.approx(12.05)
    assert results["Switch 1 - 12V Rail"].metric("voltage").unit == "V"
    assert results["Switch 1 - Power Supply A Output"].metric("power").value == pytest.approx(152.5)
    fan = results["Switch 1 - Fan 1 Sensor"]
    assert fan.metric("fan_speed").value == 7200 and fan.metric("fan_speed").unit == "rpm"
    assert results["fan Switch#1, Fan#1"].summary == "fan Switch#1, Fan#1: state normal (ok)"
    assert run(monkeypatch, sim, "env/cisco-ok", {"report_absent": True})["PSU Sw1, PSB NotExist"].status is Status.OK


def test_failing_cisco(sim, monkeypatch):
    results = run(monkeypatch, sim, "env/cisco-fail")
    hot = results["temperature SW#1, Sensor#1, GREEN"]
    assert hot.status is Status.CRITICAL and "state critical," in hot.summary and "61 °C > 56" in hot.summary
    assert results["temperature SW#1, Sensor#2, GREEN"].status is Status.WARNING  # the device's own state
    dead_fan = results["fan Switch#1, Fan#2"]
    assert dead_fan.status is Status.CRITICAL and "state notFunctioning (critical)" in dead_fan.summary
    assert results["PSU Sw1, PSA Normal"].status is Status.CRITICAL
    broken = results["Switch 1 - Power Supply A Output"]
    assert broken.status is Status.CRITICAL and "sensor nonoperational" in broken.summary
    gone = results["Switch 1 - Outlet Temp Sensor"]
    assert gone.status is Status.UNKNOWN and "unavailable" in gone.summary and not gone.collected
    assert results["Switch 1 - Inlet Temp Sensor"].status is Status.OK


def test_temperature_overrides(sim, monkeypatch):
    results = run(monkeypatch, sim, "env/cisco-ok", {"temperature_warning": 40, "temperature_critical": 50})
    assert results["temperature SW#1, Sensor#1, GREEN"].status is Status.OK  # 38
    assert results["temperature SW#1, Sensor#2, GREEN"].status is Status.WARNING  # 45 > 40
    assert results["temperature SW#1, Sensor#2, GREEN"].thresholds[0].critical == "~:50"  # not the device's 56
    assert results["Switch 1 - Inlet Temp Sensor"].status is Status.WARNING  # 41 > 40, ENTITY-SENSOR-MIB too


def test_huawei_temperatures_and_fans(sim, monkeypatch):
    ok = run(monkeypatch, sim, "env/huawei-ok")
    assert set(ok) == {"temperature MPU Board 0", "temperature LPU Board 1", "fan 0/0"}  # no-sensor rows skipped
    assert all(r.status is Status.OK for r in ok.values())
    assert ok["temperature LPU Board 1"].metric("temperature").value == 51
    assert ok["temperature LPU Board 1"].thresholds[0].critical == "~:70"
    assert ok["fan 0/0"].metric("fan_speed").value == 40 and ok["fan 0/0"].metric("fan_speed").unit == "%"
    failing = run(monkeypatch, sim, "env/huawei-fail")
    assert failing["temperature LPU Board 1"].status is Status.CRITICAL and "75 °C > 70" in failing[
        "temperature LPU Board 1"].summary  # fmt: skip
    assert failing["temperature MPU Board 0"].status is Status.OK
    assert failing["fan 0/0"].status is Status.WARNING and "state abnormal (warning)" in failing["fan 0/0"].summary


def test_standard_entity_sensor_mib_scales(sim, monkeypatch):
    results = run(monkeypatch, sim, "env/generic")
    assert results["CPU Temp"].metric("temperature").value == pytest.approx(52.3)
    assert results["Inlet Humidity"].metric("humidity").value == 38
    assert results["PSU1 Current"].metric("current").value == pytest.approx(1.85)
    assert results["PSU1 Current"].metric("current").unit == "A"
    assert results["sensor 14"].metric("power").value == 2000  # kilo: 2 kW
    assert results["Door Closed"].metric("sensor_value").value == 1 and "truth value" in results["Door Closed"].summary
    assert all(r.status is Status.OK for r in results.values())


def test_a_device_without_sensors_is_unknown(sim, monkeypatch):
    (result,) = run(monkeypatch, sim, "env/none").values()
    assert result.status is Status.UNKNOWN and "no environment sensors (profile host-resources)" in result.summary


def test_a_site_profile_adds_a_vendor_table(sim, monkeypatch, tmp_path):
    # A site describes the failing Cisco's supplies under its own profile (same name: it replaces cisco)
    (tmp_path / "cisco.yaml").write_text(
        "name: cisco\nsys_object_id: ['1.3.6.1.4.1.9.']\nenvironment:\n  entity_sensors: false\n  tables:\n"
        "    - {kind: supply, label: power, name: 1.3.6.1.4.1.9.9.13.1.5.1.2, state: 1.3.6.1.4.1.9.9.13.1.5.1.3,\n"
        "       states: {1: ok, 3: warning, 5: absent}}\n"
    )
    results = run(monkeypatch, sim, "env/cisco-fail", {"profile_dirs": [str(tmp_path)]})
    assert set(results) == {"power Sw1, PSA Normal"} and results["power Sw1, PSA Normal"].status is Status.WARNING
    (bad,) = run(monkeypatch, sim, "env/cisco-ok", {"profile_dirs": [str(tmp_path / "missing")]}).values()
    assert bad.status is Status.UNKNOWN and "does not exist" in bad.summary


def test_from_the_poller_and_a_dead_device(sim, monkeypatch):
    monkeypatch.setenv("PATROL_TEST_COMMUNITY", "env/cisco-fail")
    check = default_registry().get("snmp_environment")
    dead = Target("dead", {"ansible_host": "127.0.0.1", "snmp_port": free_udp_port(), "snmp_timeout": 0.3,
                           "snmp_retries": 0, "snmp_community": {"env": "PATROL_TEST_COMMUNITY"}})  # fmt: skip
    results = Runner(max_workers=2).run([Assignment("t", t, check, check.validate({})) for t in (device(sim), dead)])
    by_target = {}
    for r in results:
        by_target.setdefault(r.target, []).append(r)
    assert by_target["dead"][0].status is Status.CRITICAL and not by_target["dead"][0].collected
    assert any(r.status is Status.CRITICAL for r in by_target["sw1"]) and len(by_target["sw1"]) == 10
