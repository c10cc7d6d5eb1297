"""Numeric OIDs Patrol reads (Debian ships no MIB files, so nothing is looked up by name)."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

OID = tuple[int, ...]


@dataclass(frozen=True)
class Varbind:
    oid: OID
    value: Any  # int, bytes, dotted str (OID, IpAddress), or None (noSuchObject, noSuchInstance)
    kind: str  # the SNMP type name: Counter32, Counter64, OctetString, NoSuchObject ...


Table = dict[OID, Varbind]  # table index (the OID part after the column) -> value, for one walked subtree

# SNMPv2-MIB system group
SYS_DESCR = "1.3.6.1.2.1.1.1.0"
SYS_OBJECT_ID = "1.3.6.1.2.1.1.2.0"
SYS_UPTIME = "1.3.6.1.2.1.1.3.0"  # TimeTicks, hundredths of a second since the agent (re)started
SYS_NAME = "1.3.6.1.2.1.1.5.0"

# IF-MIB ifTable (1.3.6.1.2.1.2.2.1) and ifXTable (1.3.6.1.2.1.31.1.1.1) columns
IF_DESCR = "1.3.6.1.2.1.2.2.1.2"
IF_TYPE = "1.3.6.1.2.1.2.2.1.3"
IF_SPEED = "1.3.6.1.2.1.2.2.1.5"  # Gauge32 bit/s; saturates at 4294967295 for links over ~4.3 Gbit/s
IF_ADMIN_STATUS = "1.3.6.1.2.1.2.2.1.7"
IF_OPER_STATUS = "1.3.6.1.2.1.2.2.1.8"
IF_IN_OCTETS = "1.3.6.1.2.1.2.2.1.10"
IF_IN_DISCARDS = "1.3.6.1.2.1.2.2.1.13"
IF_IN_ERRORS = "1.3.6.1.2.1.2.2.1.14"
IF_OUT_OCTETS = "1.3.6.1.2.1.2.2.1.16"
IF_OUT_DISCARDS = "1.3.6.1.2.1.2.2.1.19"
IF_OUT_ERRORS = "1.3.6.1.2.1.2.2.1.20"
IF_NAME = "1.3.6.1.2.1.31.1.1.1.1"
IF_HC_IN_OCTETS = "1.3.6.1.2.1.31.1.1.1.6"
IF_HC_OUT_OCTETS = "1.3.6.1.2.1.31.1.1.1.10"
IF_HIGH_SPEED = "1.3.6.1.2.1.31.1.1.1.15"  # Gauge32 Mbit/s
IF_ALIAS = "1.3.6.1.2.1.31.1.1.1.18"

# HOST-RESOURCES-MIB
HR_PROCESSOR_LOAD = "1.3.6.1.2.1.25.3.3.1.2"  # % per processor, averaged over the last minute
HR_STORAGE_TYPE = "1.3.6.1.2.1.25.2.3.1.2"
HR_STORAGE_DESCR = "1.3.6.1.2.1.25.2.3.1.3"
HR_STORAGE_UNITS = "1.3.6.1.2.1.25.2.3.1.4"  # bytes per allocation unit
HR_STORAGE_SIZE = "1.3.6.1.2.1.25.2.3.1.5"
HR_STORAGE_USED = "1.3.6.1.2.1.25.2.3.1.6"
HR_STORAGE_RAM = "1.3.6.1.2.1.25.2.1.2"  # hrStorageType value of physical memory


def parse(text: str | OID) -> OID:
    """``'1.3.6.1'`` or ``'.1.3.6.1'`` -> ``(1, 3, 6, 1)``; raises ValueError naming the bad OID."""
    if isinstance(text, tuple):
        return text
    return _parse(text)


@functools.lru_cache(maxsize=4096)  # checks parse the same few column OIDs for every device
def _parse(text: str) -> OID:
    parts = str(text).strip().lstrip(".").split(".")
    try:
        oid = tuple(int(p) for p in parts)
    except ValueError:
        raise ValueError(f"{text!r} is not a numeric OID (expected digits and dots, e.g. 1.3.6.1.2.1.1.3.0)") from None
    if len(oid) < 2 or any(n < 0 for n in oid):
        raise ValueError(f"{text!r} is not a numeric OID (expected at least two non-negative numbers)")
    return oid


def dotted(oid: OID) -> str:
    return ".".join(str(n) for n in oid)
