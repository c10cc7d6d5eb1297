"""A network device's facts over SNMP: its identity (sysDescr, sysObjectID, sysName) and IPv4 addresses.

Addresses come from ipAddrTable (IP-MIB, IPv4 only: deprecated but answered by every agent, where
the newer ipAddressTable is often missing), named by ifName where the device has ifXTable, else by
ifDescr. The identity is one GET, the addresses one walk of the same poll.
"""

from __future__ import annotations

from dataclasses import dataclass

from checks.host.inventory import Address, address, keep_addresses, prefix_of
from checks.snmp import oids
from checks.snmp.base import text
from checks.snmp.oids import Table, Varbind

IP_AD_ENT_IF_INDEX = "1.3.6.1.2.1.4.20.1.2"  # ipAddrTable, indexed by the address itself
IP_AD_ENT_NET_MASK = "1.3.6.1.2.1.4.20.1.3"
IDENTITY = [oids.SYS_DESCR, oids.SYS_OBJECT_ID, oids.SYS_NAME]
TABLES = [IP_AD_ENT_IF_INDEX, IP_AD_ENT_NET_MASK, oids.IF_NAME, oids.IF_DESCR]


@dataclass(frozen=True)
class DeviceFacts:
    descr: str
    object_id: str
    name: str
    addresses: tuple[Address, ...] = ()


def poll(session, budget: float) -> DeviceFacts:
    got, tables = session.get_and_walk(IDENTITY, TABLES, budget)
    return device_facts(got, tables)


def device_facts(got: dict[oids.OID, Varbind], tables: dict[oids.OID, Table]) -> DeviceFacts:
    """The record from the GET and the walk (pure: tested on recorded answers)."""

    def scalar(oid: str) -> str:
        found = got.get(oids.parse(oid))
        return text(found.value) if found is not None else ""

    def column(oid: str) -> Table:
        return tables.get(oids.parse(oid), {})

    names = {index: text(v.value) for index, v in column(oids.IF_DESCR).items() if v.value is not None}
    names.update({index: text(v.value) for index, v in column(oids.IF_NAME).items() if text(v.value)})
    masks = column(IP_AD_ENT_NET_MASK)
    found = []
    for index, if_index in column(IP_AD_ENT_IF_INDEX).items():
        if len(index) != 4 or not isinstance(if_index.value, int):
            continue
        ip = oids.dotted(index)
        mask = masks.get(index)
        interface = names.get((if_index.value,), f"ifIndex {if_index.value}")
        one = address(interface, ip, prefix_of(text(mask.value)) if mask is not None else None)
        if one is not None:
            found.append(one)
    return DeviceFacts(
        descr=scalar(oids.SYS_DESCR),
        object_id=scalar(oids.SYS_OBJECT_ID).lstrip("."),
        name=scalar(oids.SYS_NAME),
        addresses=keep_addresses(found, link_local=True),
    )
