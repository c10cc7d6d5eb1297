"""The facts check for real: on this machine (against what the OS, psutil, lsblk and ip say, read
independently), over a real sshd (the same record as locally: it is the same machine), over SNMP
against net-snmp's snmpd and snmpsim, and read back into an asset row by the report."""

from __future__ import annotations

import json
import os
import platform
import socket
import subprocess

import psutil
import pytest

from checks.base import CheckContext
from checks.registry import default_registry
from checks.status import Status
from checks.target import Target
from collector.planner import Assignment
from collector.reach import connections_for
from collector.report.assets import assets_section
from collector.runner import Runner

from .snmp_support import (
    CISCO_SWITCH,
    SnmpServerError,
    free_udp_port,
    snmpbulkwalk,
    start_snmpd,
    start_snmpsim,
    switch_records,
)

pytestmark = pytest.mark.integration

LOCAL = Target("local", {"connection": "local"})


def facts(target: Target, **params):
    check = default_registry().get("facts")
    [result] = Runner(max_workers=2).run([Assignment("facts", target, check, check.validate(params))])
    return result


def labels(result, name: str) -> dict[str, str]:
    return result.metric(name).labels


def lsblk_disks() -> dict[str, int]:
    """Whole disks with a size, as lsblk lists them (loop, zram and empty drives are not disks to us)."""
    out = subprocess.run(["lsblk", "-d", "-b", "-J", "-o", "NAME,SIZE,TYPE"], capture_output=True, text=True,
                         check=True).stdout  # fmt: skip
    return {
        d["name"]: int(d["size"])
        for d in json.loads(out)["blockdevices"]
        if d["type"] == "disk" and int(d["size"]) > 0 and not d["name"].startswith(("zram", "ram"))
    }


def ip_addresses() -> set[tuple[str, str]]:
    """(interface, address/prefix) of every global address, from iproute2's JSON output."""
    out = subprocess.run(["ip", "-j", "addr", "show"], capture_output=True, text=True, check=True).stdout
    found = set()
    for link in json.loads(out):
        for a in link.get("addr_info", []):
            if a.get("scope") != "host" and not (a["family"] == "inet6" and a.get("scope") == "link"):
                found.add((a.get("label") or link["ifname"], f"{a['local']}/{a['prefixlen']}"))
    return found


def test_this_machine_as_the_os_and_psutil_describe_it():
    r = facts(LOCAL)
    assert r.status is Status.OK and r.collected, r.summary
    os_info = labels(r, "os_info")
    assert os_info["hostname"] == socket.gethostname()
    assert os_info["os"] == platform.freedesktop_os_release()["PRETTY_NAME"]
    assert os_info["kernel"] == platform.release() and os_info["arch"] == platform.machine()
    assert r.metric("cpus").value == os.cpu_count()
    assert r.metric("memory_total").value == pytest.approx(psutil.virtual_memory().total, rel=1e-6)
    with open("/proc/cpuinfo") as fh:
        model = next(line.split(":", 1)[1].strip() for line in fh if line.startswith("model name"))
    assert labels(r, "cpu_info")["model"] == " ".join(model.split())
    disks = {m.labels["disk"]: m.value for m in r.metrics if m.name == "disk_size"}
    assert disks == lsblk_disks() and disks
    addresses = {(m.labels["interface"], m.labels["address"]) for m in r.metrics if m.name == "address_info"}
    assert addresses == ip_addresses()
    assert not any(a.startswith(("127.", "::1/")) for _, a in addresses)  # loopback is left out


def test_over_ssh_the_same_machine_gives_the_same_facts(sshd, known_hosts):
    remote = Target("remote", sshd.target_vars(known_hosts))
    check = default_registry().get("facts")
    work = [Assignment("facts", t, check, check.validate({})) for t in (LOCAL, remote)]
    by = {r.target: r for r in Runner(max_workers=4).run(work)}
    local, over_ssh = by["local"], by["remote"]
    assert over_ssh.status is Status.OK and over_ssh.collected, over_ssh.summary
    assert labels(over_ssh, "os_info") == labels(local, "os_info")  # os, kernel, arch, hostname
    assert labels(over_ssh, "cpu_info") == labels(local, "cpu_info")
    assert over_ssh.metric("cpus").value == local.metric("cpus").value == os.cpu_count()
    assert over_ssh.metric("memory_total").value == local.metric("memory_total").value
    assert [(m.name, m.labels, m.value) for m in over_ssh.metrics] == [
        (m.name, m.labels, m.value) for m in local.metrics
    ]
    assert over_ssh.summary == local.summary


def test_the_report_reads_real_local_facts_into_an_asset():
    r = facts(LOCAL)
    section = assets_section([r], None)
    [asset] = section.assets
    assert asset.target == "local" and not asset.is_device
    assert asset.os == platform.freedesktop_os_release()["PRETTY_NAME"]
    assert asset.kernel == f"{platform.release()} {platform.machine()}"
    assert asset.hostname == socket.gethostname()
    assert asset.cpus == os.cpu_count() and asset.value("cpu").startswith(f"{os.cpu_count()} × ")
    assert asset.memory_bytes == psutil.virtual_memory().total and asset.value("memory").endswith("GiB")
    assert asset.disk_bytes == sum(lsblk_disks().values())
    assert section.changes == [] and section.new_targets == []


# -- SNMP ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def snmpd():
    try:
        server = start_snmpd()
    except SnmpServerError as exc:
        pytest.fail(f"cannot start snmpd for the tests: {exc}", pytrace=False)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def sim():
    # The generated switch, with an ipAddrTable: Vlan1 (index 1001) holds the management address.
    records = switch_records() + [
        "1.3.6.1.2.1.4.20.1.1.10.0.10.2|64|10.0.10.2",
        "1.3.6.1.2.1.4.20.1.2.10.0.10.2|2|1001",
        "1.3.6.1.2.1.4.20.1.3.10.0.10.2|64|255.255.255.0",
    ]
    records.sort(key=lambda line: tuple(int(n) for n in line.split("|")[0].split(".")))
    try:
        server = start_snmpsim({"switch": records})
    except SnmpServerError as exc:
        pytest.fail(f"cannot start snmpsim for the tests: {exc}", pytrace=False)
    yield server
    server.stop()


def device_facts(monkeypatch, community: str, port: int, **extra):
    monkeypatch.setenv("PATROL_TEST_COMMUNITY", community)
    target = Target("dev", {"ansible_host": "127.0.0.1", "snmp_port": port, "snmp_version": "2c",
                            "snmp_community": {"env": "PATROL_TEST_COMMUNITY"}, **extra})  # fmt: skip
    check = default_registry().get("facts")
    ctx = CheckContext(target=target, connections=connections_for(target))
    [result] = check.execute(ctx, check.validate({}))
    return result


def test_snmpd_device_info_is_what_snmpget_reads(snmpd, monkeypatch):
    r = device_facts(monkeypatch, snmpd.community, snmpd.port)
    assert r.status is Status.OK and r.collected, r.summary
    system = snmpbulkwalk(["-v2c", "-c", snmpd.community, f"127.0.0.1:{snmpd.port}"], "1.3.6.1.2.1.1")
    info = labels(r, "device_info")
    assert info["descr"] == system["1.3.6.1.2.1.1.1.0"].strip('"')
    assert info["object_id"] == system["1.3.6.1.2.1.1.2.0"].lstrip(".")
    assert info["name"] == system["1.3.6.1.2.1.1.5.0"].strip('"') == socket.gethostname()
    assert r.metric("os_info") is None  # a device: no host figures
    # snmpd serves this machine's own IPv4 addresses from ipAddrTable, named by ifName.
    ipv4 = {(i, a) for i, a in ip_addresses() if "." in a and ":" not in i}
    found = {(m.labels["interface"], m.labels["address"]) for m in r.metrics if m.name == "address_info"}
    assert found == ipv4 and found


def test_snmpsim_switch_identity_and_management_address(sim, monkeypatch):
    r = device_facts(monkeypatch, "switch", sim.port)
    assert r.status is Status.OK, r.summary
    assert labels(r, "device_info") == {"descr": "Simulated 48-port switch for Patrol tests",
                                        "object_id": CISCO_SWITCH, "name": "sw-test"}  # fmt: skip
    assert [m.labels for m in r.metrics if m.name == "address_info"] == [
        {"interface": "Vl1", "address": "10.0.10.2/24", "family": "ipv4"}
    ]
    [asset] = assets_section([r], None).assets
    assert asset.is_device and asset.os == "Simulated 48-port switch for Patrol tests"
    assert asset.value("device") == f"sw-test {CISCO_SWITCH}"


def test_a_silent_device_is_critical_and_a_wrong_community_unknown(sim, monkeypatch):
    r = device_facts(monkeypatch, "switch", free_udp_port(), snmp_timeout=0.5, snmp_retries=0)
    assert r.status is Status.CRITICAL and not r.collected and r.summary.startswith("unreachable")
    r = device_facts(monkeypatch, "no-such-community", sim.port, snmp_timeout=0.5, snmp_retries=0)
    assert r.status is Status.UNKNOWN and not r.collected and "community" in r.summary
