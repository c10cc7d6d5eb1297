"""The SNMPv1/v2c BER codec, cross-checked against pysnmp's own (pyasn1) encoder and decoder."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pyasn1.codec.ber import decoder, encoder
from pysnmp.proto.api import v2c

from checks.snmp import ber

OIDS = st.tuples(st.integers(0, 2), st.integers(0, 39)).flatmap(
    lambda head: st.lists(st.integers(0, 2**32 - 1), max_size=12).map(lambda tail: head + tuple(tail))
)


@given(OIDS)
def test_oid_round_trip_and_matches_pyasn1(oid):
    encoded = ber.encode_oid(oid)
    assert encoded == encoder.encode(v2c.ObjectIdentifier(oid))
    assert ber.decode_oid(encoded[2:] if encoded[1] < 0x80 else encoded[2 + (encoded[1] & 0x7F) :]) == oid


@pytest.mark.parametrize("pdu", [ber.GET, ber.GET_NEXT, ber.GET_BULK])
def test_requests_decode_with_pysnmp(pdu):
    oids = [(1, 3, 6, 1, 2, 1, 2, 2, 1, 2), (1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 6, 4294967295)]
    data = ber.encode_request(1, b"s3cr3t", pdu, 123456789, oids, 0, 25)
    message, rest = decoder.decode(data, asn1Spec=v2c.Message())
    assert rest == b""
    assert bytes(v2c.apiMessage.get_community(message)) == b"s3cr3t"
    decoded_pdu = v2c.apiMessage.get_pdu(message)
    assert int(v2c.apiPDU.get_request_id(decoded_pdu)) == 123456789
    assert [tuple(name) for name, _ in v2c.apiPDU.get_varbinds(decoded_pdu)] == oids
    if pdu == ber.GET_BULK:
        assert int(v2c.apiBulkPDU.get_max_repetitions(decoded_pdu)) == 25


def response(varbinds, status=0, index=0, request_id=42) -> bytes:
    pdu = v2c.ResponsePDU()
    v2c.apiPDU.set_defaults(pdu)
    v2c.apiPDU.set_request_id(pdu, request_id)
    v2c.apiPDU.set_error_status(pdu, status)
    v2c.apiPDU.set_error_index(pdu, index)
    v2c.apiPDU.set_varbinds(pdu, varbinds)
    message = v2c.Message()
    v2c.apiMessage.set_defaults(message)
    v2c.apiMessage.set_community(message, "public")
    v2c.apiMessage.set_pdu(message, pdu)
    return encoder.encode(message)


def test_every_value_type_decodes_like_pysnmp():
    varbinds = [
        ((1, 3, 6, 1, 2, 1, 1, 1, 0), v2c.OctetString(b"Cisco IOS \xff\x00")),
        ((1, 3, 6, 1, 2, 1, 1, 2, 0), v2c.ObjectIdentifier((1, 3, 6, 1, 4, 1, 9, 1, 2066))),
        ((1, 3, 6, 1, 2, 1, 1, 3, 0), v2c.TimeTicks(4294967295)),
        ((1, 3, 6, 1, 2, 1, 2, 2, 1, 3, 1), v2c.Integer(-5)),
        ((1, 3, 6, 1, 2, 1, 2, 2, 1, 10, 1), v2c.Counter32(4294967295)),
        ((1, 3, 6, 1, 2, 1, 2, 2, 1, 5, 1), v2c.Gauge32(1_000_000_000)),
        ((1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 6, 1), v2c.Counter64(2**64 - 1)),
        ((1, 3, 6, 1, 2, 1, 4, 20, 1, 1, 10, 0, 0, 1), v2c.IpAddress("10.0.0.1")),
        ((1, 3, 6, 1, 2, 1, 1, 9, 0), v2c.NoSuchObject("")),
        ((1, 3, 6, 1, 2, 1, 1, 10, 0), v2c.NoSuchInstance("")),
        ((1, 3, 6, 1, 2, 1, 1, 11, 0), v2c.EndOfMibView("")),
        ((1, 3, 6, 1, 2, 1, 1, 12, 0), v2c.Null("")),
    ]
    request_id, status, index, decoded = ber.decode_response(response(varbinds, 0, 0, 2**31 - 1))
    assert (request_id, status, index) == (2**31 - 1, 0, 0)
    assert decoded == [
        ((1, 3, 6, 1, 2, 1, 1, 1, 0), b"Cisco IOS \xff\x00", "OctetString"),
        ((1, 3, 6, 1, 2, 1, 1, 2, 0), "1.3.6.1.4.1.9.1.2066", "ObjectIdentifier"),
        ((1, 3, 6, 1, 2, 1, 1, 3, 0), 4294967295, "TimeTicks"),
        ((1, 3, 6, 1, 2, 1, 2, 2, 1, 3, 1), -5, "Integer"),
        ((1, 3, 6, 1, 2, 1, 2, 2, 1, 10, 1), 4294967295, "Counter32"),
        ((1, 3, 6, 1, 2, 1, 2, 2, 1, 5, 1), 1_000_000_000, "Gauge32"),
        ((1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 6, 1), 2**64 - 1, "Counter64"),
        ((1, 3, 6, 1, 2, 1, 4, 20, 1, 1, 10, 0, 0, 1), "10.0.0.1", "IpAddress"),
        ((1, 3, 6, 1, 2, 1, 1, 9, 0), None, "NoSuchObject"),
        ((1, 3, 6, 1, 2, 1, 1, 10, 0), None, "NoSuchInstance"),
        ((1, 3, 6, 1, 2, 1, 1, 11, 0), None, "EndOfMibView"),
        ((1, 3, 6, 1, 2, 1, 1, 12, 0), None, "Null"),
    ]


def test_long_responses_and_error_status():
    many = [((1, 3, 6, 1, 2, 1, 2, 2, 1, 2, i), v2c.OctetString(f"GigabitEthernet1/0/{i}")) for i in range(1, 400)]
    _, status, index, decoded = ber.decode_response(response(many, 2, 7))
    assert (status, index, len(decoded)) == (2, 7, 399)
    assert decoded[-1] == ((1, 3, 6, 1, 2, 1, 2, 2, 1, 2, 399), b"GigabitEthernet1/0/399", "OctetString")


@pytest.mark.parametrize("data", [b"", b"\x30", b"\x30\x05\x02\x01\x01", b"\x04\x00", b"\x30\x84\xff\xff\xff\xff"])
def test_garbage_is_rejected_not_crashing(data):
    with pytest.raises(ber.BerError):
        ber.decode_response(data)


def test_truncated_response_is_rejected():
    data = response([((1, 3, 6, 1), v2c.OctetString(b"x" * 300))])
    with pytest.raises(ber.BerError):
        ber.decode_response(data[:-10])
