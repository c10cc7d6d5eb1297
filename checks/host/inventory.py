"""What the ``facts`` check records of a host, and the parsers both host sources share.

A host's facts come from the same places whichever way it is reached: /etc/os-release, uname,
/proc/cpuinfo, the CPU count and MemTotal the host checks use, /sys/block, and the interface
addresses. Locally they are read from the files and psutil (``read_local``); over SSH from one command
(checks.ssh.facts). Both hand the raw texts to the parsers below, so the two give the same record on
the same host.
"""

from __future__ import annotations

import fnmatch
import ipaddress
import os
import shlex
import socket
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Block devices that are not disks of the machine: loop and RAM devices, compressed swap in RAM,
# device-mapper volumes (LVM, crypt: they sit on the disks listed), optical and floppy drives.
NOT_DISKS = ("loop*", "ram*", "zram*", "dm-*", "sr*", "fd*", "nbd*")
SECTOR = 512  # /sys/block/*/size counts 512-byte sectors whatever the device's own sector size
OS_RELEASE = ("/etc/os-release", "/usr/lib/os-release")  # os-release(5): the second is the fallback
CPU_MODEL_KEYS = ("model name", "Model", "cpu model", "Hardware", "cpu")  # x86, arm (Pi), mips, arm, ppc


@dataclass(frozen=True)
class Disk:
    name: str  # sda, nvme0n1, vda
    size: int  # bytes
    model: str = ""


@dataclass(frozen=True)
class Address:
    interface: str
    address: str  # with its prefix: 10.0.0.11/24, fd00::2/64
    family: str  # ipv4 or ipv6


@dataclass(frozen=True)
class HostFacts:
    os: str  # PRETTY_NAME of os-release
    kernel: str  # uname -r
    arch: str  # uname -m
    hostname: str  # uname -n, as socket.gethostname() gives it
    cpu_model: str
    cpus: int
    memory_total: int  # bytes
    disks: tuple[Disk, ...] = ()
    addresses: tuple[Address, ...] = ()
    unread: tuple[str, ...] = field(default=())  # what could not be read, with why ("addresses: ip not found")


def parse_os_release(text: str) -> str:
    """PRETTY_NAME, else NAME and VERSION, of an os-release file (shell-quoted values)."""
    values: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, raw = line.strip().partition("=")
        if not sep or key.startswith("#"):
            continue
        try:
            parts = shlex.split(raw)
        except ValueError:
            parts = [raw.strip("\"'")]
        values[key] = " ".join(parts)
    return values.get("PRETTY_NAME") or " ".join(v for v in (values.get("NAME"), values.get("VERSION")) if v)


def parse_cpu_model(cpuinfo: str) -> str:
    """The processor's model name from /proc/cpuinfo; "" where the kernel gives none (most arm64)."""
    found: dict[str, str] = {}
    for line in cpuinfo.splitlines():
        key, sep, value = line.partition(":")
        key = key.strip()
        if sep and key in CPU_MODEL_KEYS and key not in found and value.strip():
            found[key] = " ".join(value.split())
    return next((found[k] for k in CPU_MODEL_KEYS if k in found), "")


def disks_of(block: Mapping[str, Mapping[str, str]]) -> tuple[Disk, ...]:
    """Whole disks from /sys/block entries ({device: {"size": sectors, "model": text}}), by name;
    partitions are not in /sys/block, and devices that are not disks or have no medium are left out."""
    out = []
    for name in sorted(block):
        files = block[name]
        sectors = files.get("size", "").strip()
        if any(fnmatch.fnmatchcase(name, p) for p in NOT_DISKS) or not sectors.isdigit() or int(sectors) == 0:
            continue
        out.append(Disk(name=name, size=int(sectors) * SECTOR, model=" ".join(files.get("model", "").split())))
    return tuple(out)


def address(interface: str, ip: str, prefix: int | None) -> Address | None:
    """One interface address, or None for a loopback one. ``ip`` may carry a zone (fe80::1%eth0)."""
    try:
        parsed = ipaddress.ip_address(ip.split("%", 1)[0])
    except ValueError:
        return None
    if parsed.is_loopback:
        return None
    if prefix is None:
        prefix = parsed.max_prefixlen
    return Address(interface=interface, address=f"{parsed}/{prefix}", family=f"ipv{parsed.version}")


def keep_addresses(found: Iterable[Address], link_local: bool) -> tuple[Address, ...]:
    """Sorted, without duplicates, and without IPv6 link-local ones unless asked: every interface
    derives one from its MAC address, so they add nothing but noise to an inventory."""
    kept = {a for a in found if link_local or not ipaddress.ip_interface(a.address).ip.is_link_local}
    return tuple(sorted(kept, key=lambda a: (a.interface, a.family, a.address)))


def prefix_of(netmask: str | None) -> int | None:
    """The prefix length of a netmask as psutil gives it (255.255.255.0, ffff:ffff:ffff:ffff::)."""
    if not netmask:
        return None
    try:
        return bin(int(ipaddress.ip_address(netmask))).count("1")
    except ValueError:
        return None


# -- this machine -----------------------------------------------------------------------------------


def read_local(source: Any, link_local: bool = False) -> HostFacts:
    """The facts of the machine this process runs on; ``source`` is the PsutilHostSource (its CPU
    count and memory are what the cpu and memory checks report)."""
    import psutil

    unread = []
    os_name = ""
    for path in OS_RELEASE:
        try:
            os_name = parse_os_release(Path(path).read_text(encoding="utf-8", errors="replace"))
            break
        except OSError:
            continue
    else:
        unread.append("os: no /etc/os-release")
    try:
        cpu_model = parse_cpu_model(Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace"))
    except OSError as exc:
        cpu_model = ""
        unread.append(f"cpu model: {exc.strerror or exc}")
    uname = os.uname()
    found = []
    for nic, entries in psutil.net_if_addrs().items():
        for entry in entries:
            if entry.family in (socket.AF_INET, socket.AF_INET6):
                one = address(nic, entry.address, prefix_of(entry.netmask))
                if one is not None:
                    found.append(one)
    return HostFacts(
        os=os_name,
        kernel=uname.release,
        arch=uname.machine,
        hostname=socket.gethostname(),
        cpu_model=cpu_model,
        cpus=source.cpu_count(),
        memory_total=source.memory().total,
        disks=disks_of(read_sys_block()),
        addresses=keep_addresses(found, link_local),
        unread=tuple(unread),
    )


def read_sys_block(root: str = "/sys/block") -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    try:
        names = os.listdir(root)
    except OSError:
        return out
    for name in names:
        files = out.setdefault(name, {})
        for key, rel in (("size", "size"), ("model", "device/model")):
            try:
                files[key] = Path(root, name, rel).read_text(encoding="utf-8", errors="replace")
            except OSError:
                pass
    return out
