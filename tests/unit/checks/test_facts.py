"""The facts check on stored outputs: its SSH command's answer captured on a Debian 12 VM
(tests/fixtures/ssh/debian12-facts.txt), a bare-metal server's sections composed in the same tools'
real formats (below), and SNMP answers as pysnmp hands them over; then the metrics read back by the
report's assets section, as the report reads them."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from checks.base import CheckContext
from checks.host.inventory import Address, Disk, parse_cpu_model, parse_os_release, prefix_of
from checks.registry import default_registry
from checks.snmp import oids
from checks.snmp.facts import IP_AD_ENT_IF_INDEX, IP_AD_ENT_NET_MASK, device_facts
from checks.snmp.oids import Varbind
from checks.ssh import facts as ssh_facts
from checks.ssh.connection import CommandResult
from checks.ssh.procfs import SshHostSource, split_sections
from checks.status import Status
from checks.target import Target
from collector.report.assets import asset_of

GIB = 1024**3
STORED = (Path(__file__).parents[2] / "fixtures" / "ssh" / "debian12-facts.txt").read_text()

# A Rocky Linux 9 server with an NVMe system disk, a SATA SSD, LVM, a DVD drive, an address alias,
# WireGuard (point-to-point) and a container's veth: each section as the tool prints it.
SERVER = {
    "os_release": 'NAME="Rocky Linux"\nVERSION="9.4 (Blue Onyx)"\nID="rocky"\n'
    'PRETTY_NAME="Rocky Linux 9.4 (Blue Onyx)"\n',
    "uname": "db01.example.com\n5.14.0-427.13.1.el9_4.x86_64\nx86_64",
    "cpus": "32",
    "cpuinfo": "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) Gold 6338 CPU @ 2.00GHz\n"
    "\nprocessor\t: 1\nmodel name\t: Intel(R) Xeon(R) Gold 6338 CPU @ 2.00GHz\n",
    "meminfo": "MemTotal:       131600424 kB\nMemFree:        100000000 kB\nMemAvailable:   120000000 kB\n"
    "SwapTotal:       8388604 kB\nSwapFree:        8388604 kB\n",
    "block": "/sys/block/dm-0/size:975175680\n/sys/block/loop0/size:130560\n/sys/block/nvme0n1/size:1000215216\n"
    "/sys/block/sda/size:3750748848\n/sys/block/sr0/size:2097151\n"
    "/sys/block/nvme0n1/device/model:Samsung SSD 980 PRO 500GB                \n"
    "/sys/block/sda/device/model:SAMSUNG MZ7L31T9 \n/sys/block/sr0/device/model:DVD+-RW DU-8A5LH \n",
    "addresses": (
        "1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever\n"
        "1: lo    inet6 ::1/128 scope host noprefixroute \\       valid_lft forever preferred_lft forever\n"
        "2: eno1    inet 10.0.0.21/24 brd 10.0.0.255 scope global noprefixroute eno1\\       valid_lft forever "
        "preferred_lft forever\n"
        "2: eno1    inet 10.0.0.50/24 brd 10.0.0.255 scope global secondary eno1:vip\\       valid_lft forever "
        "preferred_lft forever\n"
        "2: eno1    inet6 2001:db8:10::21/64 scope global noprefixroute \\       valid_lft forever "
        "preferred_lft forever\n"
        "2: eno1    inet6 fe80::3eec:efff:fe12:3456/64 scope link noprefixroute \\       valid_lft forever "
        "preferred_lft forever\n"
        "6: wg0    inet 10.8.0.1 peer 10.8.0.2/32 scope global wg0\\       valid_lft forever preferred_lft forever\n"
        "9: veth1a2b3c4@if8    inet6 fe80::a0b1:c2ff:fed3:e4f5/64 scope link \\       valid_lft forever "
        "preferred_lft forever\n"
    ),
}


def test_the_stored_debian_vm_answer():
    facts = ssh_facts.facts_of(split_sections(STORED))
    assert (facts.os, facts.kernel, facts.arch, facts.hostname) == (
        "Debian GNU/Linux 12 (bookworm)", "6.18.44-fc-v1252", "x86_64", "vm")  # fmt: skip
    assert facts.cpu_model == "Intel(R) Xeon(R) Processor" and facts.cpus == 2
    assert facts.memory_total == 24683792 * 1024
    assert facts.disks == (Disk("vda", 536870912 * 512, ""),)  # loop0-7 and zram0 are not disks
    assert facts.addresses == (Address("eth0", "192.0.2.2/24", "ipv4"), Address("eth0", "fd00::2/64", "ipv6"))
    assert facts.unread == ()
    with_link_local = ssh_facts.facts_of(split_sections(STORED), link_local=True)
    assert Address("eth0", "fe80::fc:ff:fe00:1/64", "ipv6") in with_link_local.addresses


def test_a_server_with_models_lvm_aliases_and_point_to_point():
    facts = ssh_facts.facts_of(SERVER)
    assert facts.os == "Rocky Linux 9.4 (Blue Onyx)" and facts.kernel == "5.14.0-427.13.1.el9_4.x86_64"
    assert facts.cpus == 32 and facts.cpu_model == "Intel(R) Xeon(R) Gold 6338 CPU @ 2.00GHz"
    assert facts.disks == (
        Disk("nvme0n1", 1000215216 * 512, "Samsung SSD 980 PRO 500GB"),
        Disk("sda", 3750748848 * 512, "SAMSUNG MZ7L31T9"),
    )  # dm-0 (LVM on them), loop0 and the DVD drive sr0 are left out
    assert [(a.interface, a.address) for a in facts.addresses] == [
        ("eno1", "10.0.0.21/24"), ("eno1", "2001:db8:10::21/64"), ("eno1:vip", "10.0.0.50/24"), ("wg0", "10.8.0.1/32"),
    ]  # fmt: skip


def test_what_the_host_lacks_is_named_and_without_uname_nothing_is_read():
    sections = dict(SERVER, os_release=ssh_facts.MISSING, addresses=ssh_facts.MISSING + "\n")
    facts = ssh_facts.facts_of(sections)
    assert facts.os == "" and facts.addresses == () and facts.disks
    assert facts.unread == ("os: no /etc/os-release", "addresses: ip (iproute2) not found")
    with pytest.raises(RuntimeError, match="uname"):
        ssh_facts.facts_of(dict(SERVER, uname=""))


def test_os_release_cpu_models_and_netmasks():
    assert parse_os_release("NAME='Alpine Linux'\nVERSION_ID=3.20.0\nPRETTY_NAME=\"Alpine Linux v3.20\"") == (
        "Alpine Linux v3.20"
    )
    assert parse_os_release('NAME="Slackware"\nVERSION="15.0"\n') == "Slackware 15.0"
    assert parse_os_release('PRETTY_NAME="Debian \\"sid\\""') == 'Debian "sid"'
    # Raspberry Pi OS (32-bit arm) names the board in Model; arm64 kernels give no model at all.
    pi = "processor\t: 0\nBogoMIPS\t: 108.00\nHardware\t: BCM2835\nModel\t\t: Raspberry Pi 4 Model B Rev 1.4\n"
    assert parse_cpu_model(pi) == "Raspberry Pi 4 Model B Rev 1.4"
    assert parse_cpu_model("processor\t: 0\nBogoMIPS\t: 50.00\nCPU implementer\t: 0x41\n") == ""
    assert prefix_of("255.255.252.0") == 22 and prefix_of("ffff:ffff:ffff:ffff::") == 64 and prefix_of(None) is None


class StoredConnection:
    def __init__(self, answer: str) -> None:
        self.answer = answer
        self.commands: list[str] = []

    def run(self, command: str, timeout=None) -> CommandResult:
        self.commands.append(command)
        return CommandResult(0, self.answer.encode(), b"")


def run_facts(target: Target, connections: dict, **params):
    check = default_registry().get("facts")
    ctx = CheckContext(target=target, connections=connections)
    return check.execute(ctx, check.validate(params))


def test_over_ssh_one_command_gives_the_metrics_the_assets_section_reads():
    conn = StoredConnection(STORED)
    source = SshHostSource(lambda: conn)
    [r] = run_facts(Target("vm1", {}), {"host": lambda _t: source})
    assert len(conn.commands) == 1 and "ip -o addr show" in conn.commands[0]
    assert r.status is Status.OK and r.collected
    assert r.summary == (
        "vm: Debian GNU/Linux 12 (bookworm), kernel 6.18.44-fc-v1252 x86_64, "
        "2 × Intel(R) Xeon(R) Processor, 23.5 GiB memory, 1 disk (256.0 GiB), 2 addresses"
    )
    assert r.metric("os_info").labels == {"os": "Debian GNU/Linux 12 (bookworm)", "kernel": "6.18.44-fc-v1252",
                                          "arch": "x86_64", "hostname": "vm"}  # fmt: skip
    assert r.metric("memory_total").unit == "B" and r.metric("disk_size").labels == {"disk": "vda", "model": ""}
    asset = asset_of(r)
    assert asset.kernel == "6.18.44-fc-v1252 x86_64" and asset.value("cpu") == "2 × Intel(R) Xeon(R) Processor"
    assert asset.value("memory") == "23.5 GiB" and asset.value("disks") == "vda 256.0 GiB"
    assert asset.value("addresses") == "eth0 192.0.2.2/24, eth0 fd00::2/64"


def test_a_partial_answer_is_ok_with_what_was_not_read():
    answer = "".join(f"@@patrol:{k}\n{v}\n" for k, v in dict(SERVER, addresses=ssh_facts.MISSING).items())
    source = SshHostSource(lambda: StoredConnection(answer))
    [r] = run_facts(Target("db01", {}), {"host": lambda _t: source})
    assert r.status is Status.OK and r.summary.endswith("; not read: addresses: ip (iproute2) not found")
    assert [m.labels["disk"] for m in r.metrics if m.name == "disk_size"] == ["nvme0n1", "sda"]


def test_no_way_to_read_the_facts_is_unknown_with_the_reason():
    [r] = run_facts(Target("web01", {"patrol_agent": True}), {})
    assert r.status is Status.UNKNOWN and not r.collected
    assert r.summary.startswith("cannot check: no 'host' connection")
    source = SshHostSource(lambda: StoredConnection("@@patrol:os_release\nNAME=x\n"))  # uname never answered
    [r] = run_facts(Target("web01", {}), {"host": lambda _t: source})
    assert r.status is Status.UNKNOWN and "uname" in r.summary


# -- SNMP ------------------------------------------------------------------------------------------


def column(oid: str, rows: dict[tuple, object], kind: str) -> tuple[oids.OID, dict]:
    root = oids.parse(oid)
    return root, {index: Varbind(root + index, value, kind) for index, value in rows.items()}


CISCO_GET = {
    oids.parse(oids.SYS_DESCR): Varbind(
        oids.parse(oids.SYS_DESCR),
        b"Cisco IOS Software, C2960X Software (C2960X-UNIVERSALK9-M), Version 15.2(7)E4, RELEASE SOFTWARE (fc2)",
        "OctetString",
    ),  # fmt: skip
    oids.parse(oids.SYS_OBJECT_ID): Varbind(oids.parse(oids.SYS_OBJECT_ID), "1.3.6.1.4.1.9.1.1208", "ObjectIdentifier"),
    oids.parse(oids.SYS_NAME): Varbind(oids.parse(oids.SYS_NAME), b"sw01.dc1", "OctetString"),
}
CISCO_TABLES = dict([
    column(IP_AD_ENT_IF_INDEX, {(10, 0, 10, 2): 50, (10, 255, 0, 1): 60, (127, 0, 0, 1): 70}, "Integer"),
    column(IP_AD_ENT_NET_MASK, {(10, 0, 10, 2): "255.255.255.0", (10, 255, 0, 1): "255.255.255.255",
                                (127, 0, 0, 1): "255.0.0.0"}, "IpAddress"),  # fmt: skip
    column(oids.IF_DESCR, {(50,): b"Vlan10", (60,): b"Loopback0", (70,): b"Null0"}, "OctetString"),
    column(oids.IF_NAME, {(50,): b"Vl10", (60,): b"Lo0"}, "OctetString"),
])  # fmt: skip


def test_device_facts_from_the_system_group_and_ip_addr_table():
    found = device_facts(CISCO_GET, CISCO_TABLES)
    assert found.descr.startswith("Cisco IOS Software, C2960X") and found.object_id == "1.3.6.1.4.1.9.1.1208"
    assert found.name == "sw01.dc1"
    # ifName where there is one; a 127/8 address is loopback and left out (a Loopback0 interface is not).
    assert found.addresses == (Address("Lo0", "10.255.0.1/32", "ipv4"), Address("Vl10", "10.0.10.2/24", "ipv4"))
    no_x = {k: v for k, v in CISCO_TABLES.items() if k != oids.parse(oids.IF_NAME)}
    assert [a.interface for a in device_facts(CISCO_GET, no_x).addresses] == ["Loopback0", "Vlan10"]


class StoredSession:
    """Answers the facts poll with recorded values, as SnmpSession.get_and_walk returns them."""

    scrubber = None

    def __init__(self, got, tables):
        self.got, self.tables = got, tables

    def get_and_walk(self, wanted, roots, deadline):
        return self.got, {oids.parse(r): self.tables.get(oids.parse(r), {}) for r in roots}


def test_an_snmp_device_gets_device_info_and_a_host_never_does():
    session = StoredSession(CISCO_GET, CISCO_TABLES)
    device = Target("sw01", {"snmp_version": "2c", "snmp_community": {"env": "X"}})
    [r] = run_facts(device, {"snmp": lambda _t: session})
    assert r.status is Status.OK
    assert r.metric("device_info").labels == {"descr": CISCO_GET[oids.parse(oids.SYS_DESCR)].value.decode(),
                                              "object_id": "1.3.6.1.4.1.9.1.1208", "name": "sw01.dc1"}  # fmt: skip
    assert [m.name for m in r.metrics] == ["device_info", "address_info", "address_info"]
    asset = asset_of(r)
    assert asset.is_device and asset.value("device") == "sw01.dc1 1.3.6.1.4.1.9.1.1208"
    assert asset.value("addresses") == "Lo0 10.255.0.1/32, Vl10 10.0.10.2/24"
    # A host reached over SSH has an "snmp" connection too (every target has): it reads the host.
    source = SshHostSource(lambda: StoredConnection(STORED))
    [r] = run_facts(Target("vm1", {}), {"snmp": lambda _t: session, "host": lambda _t: source})
    assert r.metric("device_info") is None and r.metric("os_info").labels["hostname"] == "vm"
    [r] = run_facts(device, {"snmp": lambda _t: StoredSession({}, {})})
    assert r.status is Status.UNKNOWN and not r.collected and "neither sysDescr nor sysObjectID" in r.summary


def test_facts_results_round_trip_through_json_into_assets():
    source = SshHostSource(lambda: StoredConnection(STORED))
    [r] = run_facts(Target("vm1", {}), {"host": lambda _t: source})
    again = type(r).from_json_dict(r.to_json_dict())
    assert asset_of(again) == asset_of(r) and asset_of(again).collected_at <= dt.datetime.now(dt.UTC)
