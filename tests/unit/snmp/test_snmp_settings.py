"""SNMP settings from inventory variables, and which targets are SNMP devices."""

from __future__ import annotations

import socket

import pytest

from checks.secrets import Scrubber
from checks.snmp.errors import SnmpConfigError
from checks.snmp.settings import SnmpSettings, is_snmp_device
from checks.status import Status
from checks.target import Target
from collector import reach


def target(**variables) -> Target:
    return Target("sw1", {"ansible_host": "127.0.0.1", **variables})


def test_v2c_defaults_and_secret_is_scrubbed(monkeypatch):
    monkeypatch.setenv("COMM", "c0mmunity-x")
    scrubber = Scrubber()
    s = SnmpSettings.from_target(target(snmp_community={"env": "COMM"}), scrubber)
    assert (s.version, s.port, s.timeout, s.retries, s.max_repetitions) == ("2c", 161, 2.0, 1, 25)
    assert s.community == "c0mmunity-x" and "c0mmunity-x" not in repr(s)
    assert scrubber.scrub("bad community c0mmunity-x") == "bad community ***"


def test_v3_auth_priv_with_protocol_spellings(monkeypatch):
    monkeypatch.setenv("A", "authkey-123")
    monkeypatch.setenv("P", "privkey-123")
    s = SnmpSettings.from_target(target(
        snmp_version=3, snmp_user="mon", snmp_auth_protocol="sha-256", snmp_auth_key={"env": "A"},
        snmp_priv_protocol="aes256", snmp_priv_key={"env": "P"}, snmp_context="vrf1", snmp_port="1161",
        snmp_timeout=0.5, snmp_retries=0, snmp_max_repetitions=50,
    ))  # fmt: skip
    assert (s.auth_protocol, s.priv_protocol, s.security_level, s.context) == ("SHA256", "AES256", "authPriv", "vrf1")
    assert (s.port, s.timeout, s.retries, s.max_repetitions) == (1161, 0.5, 0, 50)
    assert "authkey-123" not in repr(s) and "privkey-123" not in repr(s)


def test_every_bad_variable_is_named_at_once(monkeypatch):
    monkeypatch.setenv("SHORT", "short")
    with pytest.raises(SnmpConfigError) as exc:
        SnmpSettings.from_target(target(
            snmp_version="3", snmp_auth_protocol="SHA-3", snmp_auth_key={"env": "SHORT"}, snmp_port=0,
            snmp_timeout="soon", snmp_retries=2.5, snmp_priv_protocol="AES",
        ))  # fmt: skip
    text = str(exc.value)
    for field in ("snmp_user", "snmp_auth_protocol", "snmp_port", "snmp_timeout", "snmp_retries", "snmp_priv_key"):
        assert field in text, field
    assert "at least 8 characters" in text
    assert "'short'" not in text  # the secret itself is never echoed


def test_version_and_community_required():
    with pytest.raises(SnmpConfigError, match="snmp_community: required for SNMPv2c"):
        SnmpSettings.from_target(target(snmp_version="2c"))
    with pytest.raises(SnmpConfigError, match="snmp_version: expected one of"):
        SnmpSettings.from_target(target(snmp_version="4", snmp_community={"env": "X"}))
    with pytest.raises(SnmpConfigError, match="needs authentication too"):
        SnmpSettings.from_target(target(snmp_version="3", snmp_user="u", snmp_priv_key={"env": "HOME"}))


@pytest.mark.parametrize(
    ("variables", "expected"),
    [
        ({"snmp_version": "2c"}, True),
        ({"snmp_community": {"env": "C"}}, True),
        ({"connection": "snmp"}, True),
        ({"snmp_version": "3", "connection": "ssh"}, False),  # explicitly SSH: also polled by SNMP, but probed
        ({"snmp_version": "3", "ansible_connection": "local"}, False),
        ({"ansible_user": "patrol"}, False),
    ],
)
def test_is_snmp_device(variables, expected):
    assert is_snmp_device(target(**variables)) is expected


def test_snmp_devices_are_not_probed_over_tcp():
    closed = free_tcp_port()  # nothing listens there: a TCP probe would report the target unreachable
    assert reach.blocked(target(connection="snmp", ansible_port=closed), timeout=1) is None
    assert reach.blocked(target(snmp_version="2c", ansible_port=closed), timeout=1) is None
    status, reason = reach.blocked(target(ansible_port=closed), timeout=1)
    assert status is Status.CRITICAL and "unreachable" in reason


def free_tcp_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_every_target_gets_an_snmp_connection_and_snmp_devices_no_ssh():
    with reach.RunConnections() as run:
        assert set(reach.connections_for(target(connection="snmp"), run)) == {"snmp"}
        assert set(reach.connections_for(target(snmp_version="2c"), run)) == {"snmp"}
        ssh_target = target(snmp_version="2c", connection="ssh")
        assert set(reach.connections_for(ssh_target, run)) == {"snmp", "host", "ssh", "shell"}
        assert set(reach.connections_for(Target("l", {"connection": "local"}), run)) == {"snmp", "host", "shell"}
