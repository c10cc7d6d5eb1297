"""Unit tests of the link checks' and nagios's pieces that need no network: endpoints, packets,
statistics, parameter validation, and how the runner treats checks that reach targets themselves."""

from __future__ import annotations

import socket
import struct

import pytest

from checks.base import Check, Outcome, metric
from checks.errors import ConfigError
from checks.links.endpoints import split_endpoint
from checks.links.http import HttpCheck, status_expected
from checks.links.icmp import EchoStats, checksum, echo_request, parse_reply
from checks.links.ping import PingCheck
from checks.links.tcp import TcpConnectCheck
from checks.plugins.nagios import NagiosCheck, plugin_path
from checks.status import Status
from checks.target import Target
from collector.planner import Assignment
from collector.runner import Runner


def test_endpoints_host_port_ipv6_and_bare_ports():
    assert split_endpoint("db01:5432", "t") == ("db01", 5432)
    assert split_endpoint("[2001:db8::1]:443", "t") == ("2001:db8::1", 443)
    assert split_endpoint(22, "10.0.0.5") == ("10.0.0.5", 22)
    assert split_endpoint("8080", "web") == ("web", 8080)
    for bad in ("db01", "db01:0", "db01:70000", "2001:db8::1:443", "[::1]443", ":80"):
        with pytest.raises(ValueError):
            split_endpoint(bad, "t")


def test_tcp_connect_names_the_bad_endpoint():
    with pytest.raises(ConfigError) as err:
        TcpConnectCheck().validate({"endpoints": ["db01:5432", "web"]})
    assert "endpoints" in str(err.value) and "'web'" in str(err.value)
    with pytest.raises(ConfigError):
        TcpConnectCheck().validate({"endpoints": []})


def test_icmp_echo_request_checksum_and_reply_parsing():
    packet = echo_request(socket.AF_INET, 0x1234, 7, b"token123" + bytes(48))
    assert checksum(packet) == 0  # a packet with its checksum in place sums to zero
    kind, ident, seq, payload = parse_reply(socket.AF_INET, packet, raw=False)
    assert (kind, ident, seq) == (8, 0x1234, 7) and payload.startswith(b"token123")
    addresses = (b"\x0a\0\0\x02", b"\x0a\0\0\x01")
    ip_header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(packet), 0, 0, 64, 1, 0, *addresses)
    assert parse_reply(socket.AF_INET, ip_header + packet, raw=True)[2] == 7  # raw IPv4 includes the IP header
    assert parse_reply(socket.AF_INET, b"\x00", raw=False) is None


def test_echo_statistics_loss_and_jitter():
    stats = EchoStats(sent=4, rtts=[0.010, 0.012, 0.011])
    assert stats.loss_percent == 25 and stats.received == 3
    assert stats.jitter == pytest.approx((0.002 + 0.001) / 2)
    assert EchoStats(sent=3, rtts=[0.01]).jitter is None
    assert EchoStats().loss_percent == 100


def test_ping_series_must_fit_in_the_timeout():
    PingCheck().validate({"count": 100, "interval": 0.2})  # 20.8 s of 29 s
    with pytest.raises(ConfigError) as err:
        PingCheck().validate({"count": 200, "interval": 0.2})
    assert "lower count or interval, or raise timeout" in str(err.value)
    PingCheck().validate({"count": 200, "interval": 0.2, "timeout": 60})


def test_ping_100_percent_loss_is_critical_whatever_the_thresholds():
    params = PingCheck().validate({"critical": 101, "warning": 101})
    outcome = PingCheck.evaluate("h", "h", EchoStats(sent=5), params)
    assert outcome.status is Status.CRITICAL and "no reply to 5 echo requests" in outcome.summary


def test_http_status_classes_and_validation():
    assert status_expected(204, ["2xx"]) and status_expected(301, [200, "3xx"]) and not status_expected(500, [200])
    with pytest.raises(ConfigError) as err:
        HttpCheck().validate({"url": "example.com/health", "expected_status": [], "cert_warning": "x"})
    text = str(err.value)
    assert "url" in text and "expected_status" in text and "cert_warning" in text


def test_nagios_plugin_paths_and_validation():
    params = NagiosCheck().validate({"plugin": "check_disk"})
    assert str(plugin_path(params)) == "/usr/lib/nagios/plugins/check_disk"
    params = NagiosCheck().validate({"plugin": "/opt/site/check_x", "plugin_dir": "/elsewhere"})
    assert str(plugin_path(params)) == "/opt/site/check_x"
    with pytest.raises(ConfigError) as err:
        NagiosCheck().validate({"plugin": "check_disk", "args": "-w 20%", "plugin_dir": "plugins"})
    assert "args" in str(err.value) and "plugin_dir: must be an absolute path" in str(err.value)
    with pytest.raises(ConfigError):
        NagiosCheck().validate({"plugin": "check_x", "args": [{"secret": "x", "extra": 1}]})


class Reaching(Check):
    name = "reaching"
    title = "test"
    own_connection = True

    def run(self, ctx, params):
        yield Outcome(summary="measured", metrics=[metric("x", 1)])


def test_checks_that_reach_the_target_themselves_skip_the_ssh_probe():
    with socket.socket() as s:  # a port nothing listens on: the SSH probe would say unreachable
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    router = Target("router", {"ansible_host": "127.0.0.1", "ansible_port": port})
    agent = Target("web", {"patrol_agent": True})
    check = Reaching()
    params = check.validate({})
    results = {r.target: r for r in Runner().run([Assignment("t", router, check, params),
                                                  Assignment("t", agent, check, params)])}  # fmt: skip
    assert results["router"].status is Status.OK and results["router"].summary == "measured"
    # On an agent host the agent runs it; a one-shot run says so instead of measuring from here.
    assert results["web"].status is Status.UNKNOWN and "agent" in results["web"].summary
