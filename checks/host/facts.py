"""facts — the asset and configuration inventory of a target: OS, kernel, CPU, memory, disks, addresses.

Facts are information, not health: a target whose facts were read is OK, one whose facts cannot be
read is UNKNOWN with the reason. The findings are metrics, Prometheus style (``*_info`` of value 1
whose labels carry the text, and plain figures), which collector.report.assets reads back into the
assets section of a report and compares with the previous patrol's.

The transport follows the target, as everywhere: the "host" connection where there is one (psutil for
an agent or a ``connection: local`` target, /proc and friends over SSH for the poller), else SNMP for
a network device (``checks.snmp.settings.is_snmp_device``), which gives its identity and addresses.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from pydantic import Field

from checks.base import Check, CheckContext, Outcome, metric
from checks.host.inventory import Address, HostFacts
from checks.params import CheckParams
from checks.result import Metric
from checks.snmp import facts as snmp_facts
from checks.snmp.base import SnmpCheck
from checks.snmp.errors import SnmpError, SnmpUnreachable
from checks.snmp.settings import is_snmp_device
from checks.status import Status
from checks.units import format_bytes


class FactsParams(CheckParams):
    link_local: bool = Field(
        default=False, description="also list IPv6 link-local (fe80::/10) addresses, which every interface has"
    )


class FactsCheck(Check):
    name = "facts"
    title = "Asset inventory: OS, kernel, CPU, memory, disks and addresses (devices: sysDescr, sysObjectID)"
    Params = FactsParams
    connection_kind = "host"  # or "snmp" for a network device
    metrics = {
        "os_info": "1, labelled os (os-release PRETTY_NAME), kernel, arch and hostname",
        "cpu_info": "1, labelled with the CPU model",
        "cpus": "logical CPUs online",
        "memory_total": "physical memory (bytes)",
        "disk_size": "size of each whole disk (bytes), labelled disk and model",
        "address_info": "1 per address (not loopback), labelled interface, address (with /prefix) and family",
        "device_info": "network devices: 1, labelled descr (sysDescr), object_id (sysObjectID) and name (sysName)",
    }
    example = "- facts"

    def run(self, ctx: CheckContext, params: FactsParams) -> Iterable[Outcome]:
        if "host" not in ctx.connections and "snmp" in ctx.connections and is_snmp_device(ctx.target):
            yield from self.device(ctx)
            return
        yield host_outcome(ctx.connection("host").facts(params.link_local))

    @staticmethod
    def device(ctx: CheckContext) -> Iterator[Outcome]:
        session = ctx.connection("snmp")
        session.scrubber = ctx.scrubber
        try:
            found = snmp_facts.poll(session, SnmpCheck.budget(ctx))
        except SnmpUnreachable as exc:
            yield Outcome(summary=f"unreachable: {exc}", status=Status.CRITICAL, collected=False)
            return
        except SnmpError as exc:
            yield Outcome(summary=f"SNMP error: {exc}", status=Status.UNKNOWN, collected=False)
            return
        if not found.descr and not found.object_id:
            yield Outcome(summary="the device answered SNMP but gave neither sysDescr nor sysObjectID",
                          status=Status.UNKNOWN, collected=False)  # fmt: skip
            return
        summary = f"{found.name or ctx.target.name}: {found.descr[:120] or found.object_id}"
        summary += f"; {_count(len(found.addresses), 'address', 'addresses')}"
        yield Outcome(
            summary=summary,
            metrics=[
                # Built directly: the label "name" would collide with metric()'s own parameter.
                Metric(
                    name="device_info",
                    value=1,
                    labels={"descr": found.descr, "object_id": found.object_id, "name": found.name},
                ),
                *address_metrics(found.addresses),
            ],
            status=Status.OK,
        )


def host_outcome(facts: HostFacts) -> Outcome:
    figures = [
        metric("os_info", 1, os=facts.os, kernel=facts.kernel, arch=facts.arch, hostname=facts.hostname),
        metric("cpu_info", 1, model=facts.cpu_model),
        metric("cpus", facts.cpus),
        metric("memory_total", facts.memory_total, "B"),
        *[metric("disk_size", d.size, "B", disk=d.name, model=d.model) for d in facts.disks],
        *address_metrics(facts.addresses),
    ]
    cpu = f"{facts.cpus} × {facts.cpu_model}" if facts.cpu_model else _count(facts.cpus, "CPU", "CPUs")
    disks = sum(d.size for d in facts.disks)
    parts = [
        facts.os or "unknown OS",
        f"kernel {facts.kernel} {facts.arch}",
        cpu,
        f"{format_bytes(facts.memory_total)} memory",
        _count(len(facts.disks), "disk", "disks") + (f" ({format_bytes(disks)})" if disks else ""),
        _count(len(facts.addresses), "address", "addresses"),
    ]
    summary = f"{facts.hostname}: " + ", ".join(parts)
    if facts.unread:
        summary += "; not read: " + "; ".join(facts.unread)
    return Outcome(summary=summary, metrics=figures, status=Status.OK)


def address_metrics(addresses: Iterable[Address]) -> list:
    return [metric("address_info", 1, interface=a.interface, address=a.address, family=a.family) for a in addresses]


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"
