"""SNMP checks against snmpsim: a generated 48-port switch whose counters move between polls,
vendor profiles, snmpsim's bundled real-device recordings, and many devices at once with dead ones."""

from __future__ import annotations

import time

import pytest

from checks.base import CheckContext
from checks.rates import RateTracker
from checks.registry import default_registry
from checks.status import Status
from checks.target import Target
from collector.planner import Assignment
from collector.reach import connections_for
from collector.runner import Runner

from .snmp_support import (
    H3C_SWITCH,
    HUAWEI_SWITCH,
    SnmpServerError,
    free_udp_port,
    port_rates,
    snmpbulkwalk,
    start_snmpsim,
    switch_records,
)

pytestmark = pytest.mark.integration

WRAPPING = 2**32 - 1_000_000  # 32-bit octet counters this close to the top wrap within one step
RECORDINGS = {
    "switch/t0": switch_records(step=0),
    "switch/t1": switch_records(step=1),
    "switch/rebooted": switch_records(step=0, uptime_ticks=3000),  # restarted: counters back at their start
    "switch/rebooted-t1": switch_records(step=1, uptime_ticks=3000),
    "old/t0": switch_records(step=0, hc=False, octets32_start=WRAPPING),
    "old/t1": switch_records(step=1, hc=False, octets32_start=WRAPPING),
    "dev-huawei": switch_records(sys_object_id=HUAWEI_SWITCH),
    "dev-h3c": switch_records(sys_object_id=H3C_SWITCH),
}


@pytest.fixture(scope="module")
def sim():
    try:
        server = start_snmpsim(RECORDINGS, bundled=["linux-full-walk", "winxp-full-walk"])
    except SnmpServerError as exc:
        pytest.fail(f"cannot start snmpsim for the tests: {exc}", pytrace=False)
    yield server
    server.stop()


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def device(sim, community: str, name: str = "sw1", **extra) -> Target:
    return Target(name, {"ansible_host": "127.0.0.1", "snmp_port": sim.port, "snmp_version": "2c",
                         "snmp_community": {"env": "PATROL_TEST_COMMUNITY"}, **extra})  # fmt: skip


def run(monkeypatch, check: str, target: Target, community: str, params=None, rates=None):
    monkeypatch.setenv("PATROL_TEST_COMMUNITY", community)
    chk = default_registry().get(check)
    ctx = CheckContext(target=target, connections=connections_for(target), rates=rates or RateTracker())
    return {r.item: r for r in chk.execute(ctx, chk.validate(params or {}))}


def walk(sim, community: str, oid: str) -> dict[str, str]:
    return snmpbulkwalk(["-v2c", "-c", community, f"127.0.0.1:{sim.port}"], oid)


def test_switch_interfaces_rates_status_and_names(sim, monkeypatch):
    clock = FakeClock()
    rates = RateTracker(clock=clock)
    first = run(monkeypatch, "snmp_interfaces", device(sim, "switch/t0"), "switch/t0", {"interval": 0.1}, rates)
    assert all("no rates this time" in r.summary for r in first.values() if r.metric("up").value == 1)
    clock.now += 60  # one step of the recording is 60 s of sysUpTime
    results = run(monkeypatch, "snmp_interfaces", device(sim, "switch/t0"), "switch/t1", {}, rates)

    names = walk(sim, "switch/t1", "1.3.6.1.2.1.31.1.1.1.1")
    kinds = walk(sim, "switch/t1", "1.3.6.1.2.1.2.2.1.3")
    admin = walk(sim, "switch/t1", "1.3.6.1.2.1.2.2.1.7")
    oper = walk(sim, "switch/t1", "1.3.6.1.2.1.2.2.1.8")
    expected = {name: oid.rsplit(".", 1)[1] for oid, name in names.items() if kinds[oid.replace(
        "1.3.6.1.2.1.31.1.1.1.1.", "1.3.6.1.2.1.2.2.1.3.")] != "24"}  # fmt: skip
    assert len(expected) == 49 and set(results) == set(expected)  # 48 ports and a VLAN; the loopback skipped
    for name, index in expected.items():
        r = results[name]
        up = admin[f"1.3.6.1.2.1.2.2.1.7.{index}"] == "1" and oper[f"1.3.6.1.2.1.2.2.1.8.{index}"] == "1"
        assert r.metric("up").value == (1 if up else 0), name
        if admin[f"1.3.6.1.2.1.2.2.1.7.{index}"] != "1":
            assert r.status is Status.OK and "administratively down" in r.summary
        elif not up:
            assert r.status is Status.CRITICAL and "oper status down" in r.summary
    for port in (1, 10, 40):
        r = results[f"Gi1/0/{port}"]
        assert r.metric("rx").value == pytest.approx(port_rates(port)["in_octets"] / 60)
        assert r.metric("tx").value == pytest.approx(port_rates(port)["out_octets"] / 60)
        speed = 10e9 if port == 1 else 1e9  # port 1 is 10G: ifSpeed saturated, ifHighSpeed 10000
        assert r.metric("utilisation").value == pytest.approx(100 * r.metric("tx").value * 8 / speed, abs=0.01)
    assert results["Gi1/0/3"].metric("errors").value == pytest.approx(2.0)
    assert results["Gi1/0/3"].status is Status.WARNING and "errors" in results["Gi1/0/3"].summary
    assert results["Gi1/0/5"].metric("discards").value == pytest.approx(0.5)
    assert results["Gi1/0/1"].summary.endswith("0 discard/s") and "(uplink 1)" in results["Gi1/0/1"].summary
    assert [r for r in results.values() if r.status is Status.CRITICAL] == [
        results[f"Gi1/0/{p}"] for p in range(41, 45)
    ]

    # The device restarts: counters start again; no rate for that interval, then rates as before
    clock.now += 60
    rebooted = run(monkeypatch, "snmp_interfaces", device(sim, "switch/t0"), "switch/rebooted", {}, rates)
    assert rebooted["Gi1/0/10"].metric("rx") is None and "counters reset" in rebooted["Gi1/0/10"].summary
    clock.now += 60
    after = run(monkeypatch, "snmp_interfaces", device(sim, "switch/t0"), "switch/rebooted-t1", {}, rates)
    assert after["Gi1/0/10"].metric("rx").value == pytest.approx(port_rates(10)["in_octets"] / 60)


def test_32_bit_counters_wrap_and_names_fall_back_to_ifdescr(sim, monkeypatch):
    clock = FakeClock()
    rates = RateTracker(clock=clock)
    run(monkeypatch, "snmp_interfaces", device(sim, "old/t0", "old"), "old/t0", {"interval": 0.1}, rates)
    clock.now += 60
    results = run(monkeypatch, "snmp_interfaces", device(sim, "old/t0", "old"), "old/t1", {}, rates)
    # no ifXTable: names from ifDescr, the 32-bit octets have wrapped between the polls
    octets = walk(sim, "old/t1", "1.3.6.1.2.1.2.2.1.10")
    assert int(octets["1.3.6.1.2.1.2.2.1.10.5"]) < WRAPPING  # it did wrap
    r = results["GigabitEthernet1/0/5"]
    assert r.metric("rx").value == pytest.approx(port_rates(5)["in_octets"] / 60)
    assert r.metric("utilisation").value == pytest.approx(100 * r.metric("tx").value * 8 / 1e9, abs=0.01)
    # ifSpeed saturated and no ifHighSpeed: the speed is unknown, so no utilisation rather than a wrong one
    assert results["GigabitEthernet1/0/1"].metric("utilisation") is None
    assert results["GigabitEthernet1/0/1"].metric("rx") is not None


def test_include_exclude_by_name_and_type(sim, monkeypatch):
    results = run(monkeypatch, "snmp_interfaces", device(sim, "switch/t0"), "switch/t0",
                  {"interval": 0.1, "include": ["Gi1/0/1*"], "exclude": ["Gi1/0/11"]})  # fmt: skip
    assert sorted(results) == sorted(["Gi1/0/1", "Gi1/0/10"] + [f"Gi1/0/{i}" for i in range(12, 20)])
    typed = run(monkeypatch, "snmp_interfaces", device(sim, "switch/t0"), "switch/t0",
                {"interval": 0.1, "include_types": ["propVirtual", 24], "exclude_types": []})  # fmt: skip
    assert sorted(typed) == ["Nu0", "Vl1"]


@pytest.mark.parametrize(
    ("community", "cpu_oid", "memory_check"),
    [
        ("switch/t0", "1.3.6.1.4.1.9.9.109.1.1.1.1.8", "cisco"),
        ("dev-huawei", "1.3.6.1.4.1.2011.5.25.31.1.1.1.1.5", "huawei"),
        ("dev-h3c", "1.3.6.1.4.1.25506.2.6.1.1.1.1.6", "h3c"),
    ],
)
def test_vendor_profiles_match_snmpbulkwalk(sim, monkeypatch, community, cpu_oid, memory_check):
    results = run(monkeypatch, "snmp_device", device(sim, community), community)
    cpus = [int(v) for v in walk(sim, community, cpu_oid).values() if int(v) > 0]
    assert results["cpu"].metric("cpu_used").value == max(cpus)
    assert f"profile {memory_check}" in results["cpu"].summary
    if memory_check == "cisco":
        used = sum(int(v) for v in walk(sim, community, "1.3.6.1.4.1.9.9.48.1.1.1.5").values())
        free = sum(int(v) for v in walk(sim, community, "1.3.6.1.4.1.9.9.48.1.1.1.6").values())
        assert results["memory"].metric("memory_used").value == pytest.approx(100 * used / (used + free), abs=0.01)
        assert results["memory"].metric("memory_total").value == used + free
    else:
        column = {"huawei": "1.3.6.1.4.1.2011.5.25.31.1.1.1.1.7", "h3c": "1.3.6.1.4.1.25506.2.6.1.1.1.1.8"}
        mems = [int(v) for v in walk(sim, community, column[memory_check]).values()]
        assert results["memory"].metric("memory_used").value == max(mems)
    expected_cpu = Status.CRITICAL if max(cpus) > 90 else Status.OK
    assert results["cpu"].status is expected_cpu


def test_bundled_linux_recording(sim, monkeypatch):
    results = run(monkeypatch, "snmp_device", device(sim, "linux-full-walk", "linux"), "linux-full-walk")
    loads = [int(v) for v in walk(sim, "linux-full-walk", "1.3.6.1.2.1.25.3.3.1.2").values()]
    assert results["cpu"].metric("cpu_used").value == pytest.approx(sum(loads) / len(loads))
    size = int(walk(sim, "linux-full-walk", "1.3.6.1.2.1.25.2.3.1.5.1")["1.3.6.1.2.1.25.2.3.1.5.1"])
    used = int(walk(sim, "linux-full-walk", "1.3.6.1.2.1.25.2.3.1.6.1")["1.3.6.1.2.1.25.2.3.1.6.1"])
    assert results["memory"].metric("memory_used").value == pytest.approx(100 * used / size, abs=0.01)
    assert results["memory"].status is Status.WARNING  # 93.8 % used: above 85, below 95
    interfaces = run(monkeypatch, "snmp_interfaces", device(sim, "linux-full-walk", "linux"), "linux-full-walk",
                     {"interval": 0.1, "exclude_types": []})  # fmt: skip
    assert sorted(interfaces) == sorted(walk(sim, "linux-full-walk", "1.3.6.1.2.1.31.1.1.1.1").values())


def test_bundled_windows_recording_and_v3_context(sim, monkeypatch):
    results = run(monkeypatch, "snmp_device", device(sim, "winxp-full-walk", "xp"), "winxp-full-walk")
    assert "host-resources" in results["cpu"].summary and results["cpu"].collected
    # SNMPv3 (snmpsim's own user: MD5 auth, DES privacy); the context name selects the recording
    monkeypatch.setenv("PATROL_TEST_AUTH", "auctoritas")
    monkeypatch.setenv("PATROL_TEST_PRIV", "privatus")
    v3 = Target("linux-v3", {"ansible_host": "127.0.0.1", "snmp_port": sim.port, "snmp_version": "3",
                             "snmp_user": "simulator", "snmp_auth_protocol": "MD5",
                             "snmp_auth_key": {"env": "PATROL_TEST_AUTH"}, "snmp_priv_protocol": "DES",
                             "snmp_priv_key": {"env": "PATROL_TEST_PRIV"}, "snmp_context": "linux-full-walk"})
    chk = default_registry().get("snmp_system")
    [result] = chk.execute(CheckContext(target=v3, connections=connections_for(v3)), chk.validate({}))
    name = walk(sim, "linux-full-walk", "1.3.6.1.2.1.1.5")["1.3.6.1.2.1.1.5.0"]
    assert result.status is Status.OK and result.summary.startswith(f"{name}: up ")


def test_dead_devices_cost_only_their_own_timeout(sim, monkeypatch):
    """Through the runner as a patrol runs it: no TCP probe of port 22 for SNMP devices, healthy devices
    answer at once while dead ones wait out their own timeout."""
    monkeypatch.setenv("PATROL_TEST_COMMUNITY", "switch/t0")
    registry = default_registry()
    system = registry.get("snmp_system")
    params = system.validate({"warning": None})
    healthy = [device(sim, "switch/t0", f"ok{i}") for i in range(6)]
    dead = [device(sim, "switch/t0", f"dead{i}", snmp_port=free_udp_port(), snmp_timeout=4, snmp_retries=1)
            for i in range(3)]  # fmt: skip
    assignments = [Assignment("t", target, system, params) for target in dead + healthy]
    started = time.monotonic()
    results = {r.target: r for r in Runner(max_workers=4).run(assignments)}
    elapsed = time.monotonic() - started
    assert set(results) == {t.name for t in healthy + dead}
    for t in dead:
        assert results[t.name].status is Status.CRITICAL and not results[t.name].collected
        assert "no SNMP answer" in results[t.name].summary
    for t in healthy:
        assert results[t.name].status is Status.OK, results[t.name].summary
        # a dead device's first try alone takes 4 s: a healthy one that waited behind it would show it
        assert results[t.name].duration_seconds < 4
    assert elapsed < 60


def test_snmp_system_tells_a_reboot_since_the_previous_poll(sim, monkeypatch):
    clock = FakeClock()
    rates = RateTracker(clock=clock)
    params = {"warning": None}  # only the reboot itself should raise the status
    before = run(monkeypatch, "snmp_system", device(sim, "switch/t1"), "switch/t1", params, rates)[""]
    uptime = int(walk(sim, "switch/t1", "1.3.6.1.2.1.1.3")["1.3.6.1.2.1.1.3.0"]) / 100
    assert before.status is Status.OK and before.metric("uptime").value == uptime
    clock.now += 60
    after = run(monkeypatch, "snmp_system", device(sim, "switch/t1"), "switch/rebooted", params, rates)[""]
    assert after.status is Status.WARNING and after.summary.startswith("restarted since the previous poll")
    assert after.metric("uptime").value == 30.0
    clock.now += 60
    steady = run(monkeypatch, "snmp_system", device(sim, "switch/t1"), "switch/rebooted-t1", params, rates)[""]
    assert steady.status is Status.OK
