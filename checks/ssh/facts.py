"""A remote host's facts over SSH: one command reads what ``read_local`` reads on the host itself.

The sections use checks.ssh.procfs's markers. The CPU count and MemTotal are read as the cpu and
memory checks read them (getconf, /proc/meminfo); disks from /sys/block, addresses from ``ip -o addr``
(iproute2), looked for in the sbin directories too since an SSH login's PATH often lacks them. No
command needs root.
"""

from __future__ import annotations

import shlex
from typing import Any

from checks.host.inventory import (
    Address,
    HostFacts,
    address,
    disks_of,
    keep_addresses,
    parse_cpu_model,
    parse_os_release,
)
from checks.ssh.procfs import MARKER, parse_meminfo, split_sections

MISSING = "@@missing"  # printed by a section whose file or tool is absent
SECTIONS = {
    "os_release": f"cat /etc/os-release 2>/dev/null || cat /usr/lib/os-release 2>/dev/null || echo {MISSING}",
    "uname": "uname -n; uname -r; uname -m",
    "cpus": "getconf _NPROCESSORS_ONLN",
    "cpuinfo": "cat /proc/cpuinfo",
    "meminfo": "cat /proc/meminfo",
    "block": "grep -H '' /sys/block/*/size /sys/block/*/device/model",
    "addresses": f"PATH=$PATH:/usr/sbin:/sbin; command -v ip >/dev/null && ip -o addr show || echo {MISSING}",
}


def script() -> str:
    body = "; ".join(f"echo '{MARKER}{name}'; {{ {cmd}; }} 2>/dev/null" for name, cmd in SECTIONS.items())
    return "LC_ALL=C sh -c " + shlex.quote(body + "; true")


def read_facts(conn: Any, link_local: bool = False) -> HostFacts:
    """The facts of the host at the other end of ``conn`` (an SshConnection)."""
    done = conn.run(script())
    return facts_of(split_sections(done.stdout.decode("utf-8", "replace")), link_local)


def facts_of(sections: dict[str, str], link_local: bool = False) -> HostFacts:
    """The record from the command's sections (pure: tested on stored real output)."""
    uname = sections.get("uname", "").splitlines()
    if len(uname) < 3:
        raise RuntimeError("the host did not answer uname -n/-r/-m")
    unread = []
    os_text = sections.get("os_release", "")
    if os_text.strip() == MISSING:
        unread.append("os: no /etc/os-release")
        os_text = ""
    cpus = sections.get("cpus", "").strip()
    memory = parse_meminfo(sections.get("meminfo", ""))
    addresses: tuple[Address, ...] = ()
    ip_text = sections.get("addresses", "")
    if ip_text.strip() == MISSING:
        unread.append("addresses: ip (iproute2) not found")
    else:
        addresses = keep_addresses(parse_ip_addr(ip_text), link_local)
    return HostFacts(
        os=parse_os_release(os_text),
        kernel=uname[1].strip(),
        arch=uname[2].strip(),
        hostname=uname[0].strip(),
        cpu_model=parse_cpu_model(sections.get("cpuinfo", "")),
        cpus=int(cpus) if cpus.isdigit() else 1,
        memory_total=memory["MemTotal"],
        disks=disks_of(parse_sys_block(sections.get("block", ""))),
        addresses=addresses,
        unread=tuple(unread),
    )


def parse_sys_block(text: str) -> dict[str, dict[str, str]]:
    """``grep -H '' /sys/block/*/size /sys/block/*/device/model`` as {device: {"size": ..., "model": ...}}."""
    out: dict[str, dict[str, str]] = {}
    for line in text.splitlines():
        path, sep, value = line.partition(":")
        parts = path.split("/")
        if not sep or parts[:3] != ["", "sys", "block"] or len(parts) < 5:
            continue
        key = "/".join(parts[4:])
        if key in ("size", "device/model"):
            out.setdefault(parts[3], {})[key.rsplit("/", 1)[-1]] = value
    return out


def parse_ip_addr(text: str) -> list[Address]:
    """``ip -o addr show`` lines: "2: eth0    inet 10.0.0.11/24 brd ... scope global eth0\\ ...".

    An IPv4 address is named by its label (the last word before the backslash: eth0:1 for an alias), as
    the kernel names it to psutil; ``veth0@if5`` is the interface veth0. Loopback addresses are left out.
    """
    out = []
    for line in text.splitlines():
        head = line.split("\\", 1)[0].split()
        if len(head) < 4 or head[2] not in ("inet", "inet6"):
            continue
        interface = head[1].split("@", 1)[0]
        if head[2] == "inet" and len(head) > 4 and head[-1].startswith(interface):
            interface = head[-1]
        ip, _, prefix = head[3].partition("/")
        if "peer" in head:  # point-to-point: "inet 10.0.0.1 peer 10.0.0.2/32"; the local address first
            prefix = head[head.index("peer") + 1].partition("/")[2] if not prefix else prefix
        one = address(interface, ip, int(prefix) if prefix.isdigit() else None)
        if one is not None:
            out.append(one)
    return out
