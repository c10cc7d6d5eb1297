"""A small, fast BER codec for SNMPv1/v2c messages (RFC 1157, RFC 3416), the poller's hot path.

pysnmp decodes through pyasn1, which costs about 150 µs of CPU per varbind: 20 s for the 500 switches
of one poll cycle. SNMPv1/v2c messages are a handful of fixed BER shapes, decoded here directly
from bytes at a few µs per varbind. SNMPv3 (USM, encryption) stays with pysnmp.
"""

from __future__ import annotations

from checks.snmp.oids import OID

GET, GET_NEXT, RESPONSE, GET_BULK = 0xA0, 0xA1, 0xA2, 0xA5

# Application and context types, by BER tag: (name, signed?)
TYPES = {
    0x02: "Integer", 0x04: "OctetString", 0x05: "Null", 0x06: "ObjectIdentifier", 0x40: "IpAddress",
    0x41: "Counter32", 0x42: "Gauge32", 0x43: "TimeTicks", 0x44: "Opaque", 0x46: "Counter64",
    0x80: "NoSuchObject", 0x81: "NoSuchInstance", 0x82: "EndOfMibView",
}  # fmt: skip
ERROR_STATUS = {
    0: "noError", 1: "tooBig", 2: "noSuchName", 3: "badValue", 4: "readOnly", 5: "genErr", 6: "noAccess",
    7: "wrongType", 8: "wrongLength", 9: "wrongEncoding", 10: "wrongValue", 11: "noCreation",
    12: "inconsistentValue", 13: "resourceUnavailable", 14: "commitFailed", 15: "undoFailed",
    16: "authorizationError", 17: "notWritable", 18: "inconsistentName",
}  # fmt: skip


class BerError(ValueError):
    """A message that is not valid SNMP BER."""


# -- encoding --------------------------------------------------------------------------------------


def _length(n: int) -> bytes:
    if n < 0x80:
        return bytes((n,))
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((0x80 | len(body),)) + body


def _tlv(tag: int, body: bytes) -> bytes:
    return bytes((tag,)) + _length(len(body)) + body


def _integer(value: int) -> bytes:
    return _tlv(0x02, value.to_bytes(max(1, (value.bit_length() + 8) // 8), "big", signed=True))


def encode_oid(oid: OID) -> bytes:
    if len(oid) < 2 or oid[0] > 2 or (oid[0] < 2 and oid[1] >= 40):
        raise BerError(f"cannot encode OID {oid}")
    out = bytearray()
    for arc in (oid[0] * 40 + oid[1], *oid[2:]):
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        out.extend(reversed(chunk))
    return _tlv(0x06, bytes(out))


def encode_request(
    version: int, community: bytes, pdu: int, request_id: int, oids: list[OID], non_repeaters: int = 0,
    max_repetitions: int = 0,
) -> bytes:  # fmt: skip
    """A GET, GETNEXT or GETBULK message; ``version`` is 0 for SNMPv1, 1 for SNMPv2c."""
    varbinds = b"".join(_tlv(0x30, encode_oid(oid) + b"\x05\x00") for oid in oids)
    second, third = (non_repeaters, max_repetitions) if pdu == GET_BULK else (0, 0)
    body = _integer(request_id) + _integer(second) + _integer(third) + _tlv(0x30, varbinds)
    return _tlv(0x30, _integer(version) + _tlv(0x04, community) + _tlv(pdu, body))


# -- decoding --------------------------------------------------------------------------------------


def _header(data: bytes, pos: int) -> tuple[int, int, int]:
    """(tag, start of the value, end of the value) of the TLV at ``pos``."""
    try:
        tag = data[pos]
        first = data[pos + 1]
    except IndexError:
        raise BerError("truncated message") from None
    pos += 2
    if first & 0x80:
        size = first & 0x7F
        if size == 0 or size > 4:
            raise BerError("unsupported length form")
        length = int.from_bytes(data[pos : pos + size], "big")
        pos += size
    else:
        length = first
    end = pos + length
    if end > len(data):
        raise BerError("truncated message")
    return tag, pos, end


def decode_oid(body: bytes) -> OID:
    arcs = []
    value = 0
    for byte in body:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            arcs.append(value)
            value = 0
    if not arcs:
        raise BerError("empty OID")
    first = arcs[0]
    head = (0, first) if first < 40 else (1, first - 40) if first < 80 else (2, first - 80)
    return head + tuple(arcs[1:])


def decode_value(tag: int, body: bytes):
    """(python value, SNMP type name) for one varbind value."""
    if tag == 0x04 or tag == 0x44:
        return bytes(body), TYPES[tag]
    if tag in (0x41, 0x42, 0x43, 0x46):
        return int.from_bytes(body, "big"), TYPES[tag]
    if tag == 0x02:
        return int.from_bytes(body, "big", signed=True), "Integer"
    if tag == 0x06:
        return ".".join(map(str, decode_oid(body))), "ObjectIdentifier"
    if tag == 0x40:
        return ".".join(map(str, body)), "IpAddress"
    if tag in TYPES:
        return None, TYPES[tag]  # Null, noSuchObject, noSuchInstance, endOfMibView
    raise BerError(f"unknown value type 0x{tag:02x}")


def decode_response(data: bytes) -> tuple[int, int, int, list[tuple[OID, object, str]]]:
    """(request id, error status, error index, [(oid, value, type name)]) of a Response message."""
    tag, pos, end = _header(data, 0)
    if tag != 0x30:
        raise BerError("not an SNMP message")
    tag, start, pos = _header(data, pos)  # version
    tag, start, pos = _header(data, pos)  # community
    pdu, pos, end = _header(data, pos)
    if pdu != RESPONSE:
        raise BerError(f"unexpected PDU type 0x{pdu:02x}")
    numbers = []
    for _ in range(3):
        tag, start, pos = _header(data, pos)
        if tag != 0x02:
            raise BerError("malformed PDU header")
        numbers.append(int.from_bytes(data[start:pos], "big", signed=True))
    tag, pos, end = _header(data, pos)
    varbinds = []
    while pos < end:
        _, inner, pos = _header(data, pos)
        tag, start, after = _header(data, inner)
        if tag != 0x06:
            raise BerError("varbind without an OID")
        oid = decode_oid(data[start:after])
        tag, start, stop = _header(data, after)
        value, kind = decode_value(tag, data[start:stop])
        varbinds.append((oid, value, kind))
    return numbers[0], numbers[1], numbers[2], varbinds
