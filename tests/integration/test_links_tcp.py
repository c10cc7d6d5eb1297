"""tcp_connect across a veth link between two network namespaces the test makes.

A listener in the peer namespace, a port nothing listens on (refused), and a port whose packets an
nftables rule drops (a blackhole: no answer at all, so the probe runs into its timeout).
"""

from __future__ import annotations

import sys
import time

import pytest

from .netns import B_ADDR, B_ADDR6, NetnsPair, missing_tools, run_check

LISTEN, REFUSED, BLACKHOLED = 8080, 8081, 8082
SERVER = f"""
import socket, sys, time
socks = []
for family, addr in ((socket.AF_INET, {B_ADDR!r}), (socket.AF_INET6, {B_ADDR6!r})):
    s = socket.socket(family)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, {LISTEN}))
    s.listen(64)
    socks.append(s)
print("ready", flush=True)
time.sleep(3600)
"""


@pytest.fixture(scope="module")
def net():
    missing = missing_tools()
    if missing:
        pytest.fail(f"missing {', '.join(missing)}: run scripts/test-deps as root", pytrace=False)
    with NetnsPair() as pair:
        pair.settle()
        server = pair.start(pair.b, [sys.executable, "-c", SERVER])
        line = server.stdout.readline()
        assert line.strip() == b"ready", server.stderr.read()
        pair.nft(pair.b, f"tcp dport {BLACKHOLED} drop")
        yield pair


def by_item(results):
    return {r["item"]: r for r in results}


def metric(result, name):
    return next(m["value"] for m in result["metrics"] if m["name"] == name)


def test_listening_refused_and_blackholed_endpoints_are_told_apart(net):
    endpoints = [f"{B_ADDR}:{LISTEN}", f"[{B_ADDR6}]:{LISTEN}", f"{B_ADDR}:{REFUSED}", f"{B_ADDR}:{BLACKHOLED}"]
    start = time.monotonic()
    results = by_item(run_check(net.a, "tcp_connect", {"endpoints": endpoints, "connect_timeout": 2}))
    elapsed = time.monotonic() - start
    assert list(results) == endpoints  # one item per endpoint, in the order given

    for item in endpoints[:2]:
        ok = results[item]
        assert ok["status"] == "OK" and metric(ok, "reachable") == 1, ok
        assert 0 < metric(ok, "connect_time") < 1

    refused = results[f"{B_ADDR}:{REFUSED}"]
    assert refused["status"] == "CRITICAL" and "refused" in refused["summary"] and metric(refused, "reachable") == 0

    blackholed = results[f"{B_ADDR}:{BLACKHOLED}"]
    assert blackholed["status"] == "CRITICAL" and "no answer within 2 s" in blackholed["summary"], blackholed
    assert "refused" not in blackholed["summary"]
    # Probed concurrently: the whole list costs about one timeout, not the sum of them.
    assert blackholed["duration_seconds"] < 10
    assert elapsed < 30


def test_bare_ports_use_the_target_address_and_skip_the_ssh_probe(net):
    # The peer runs no SSH server: the run must not stop at "unreachable on port 22" before measuring.
    peer = {"name": "peer", "vars": {"ansible_host": B_ADDR}}
    results = by_item(run_check(net.a, "tcp_connect", {"endpoints": [LISTEN, str(REFUSED)]}, target=peer))
    assert results[f"{B_ADDR}:{LISTEN}"]["status"] == "OK"
    assert results[f"{B_ADDR}:{REFUSED}"]["status"] == "CRITICAL"


def test_connect_time_thresholds(net):
    [r] = run_check(net.a, "tcp_connect", {"endpoints": [f"{B_ADDR}:{LISTEN}"], "warning": "@0:10"})
    assert r["status"] == "WARNING" and "connect_time" in r["summary"]


def test_a_link_down_is_critical_within_the_timeout(net):
    net.link(net.b, "down")
    try:
        [r] = run_check(net.a, "tcp_connect", {"endpoints": [f"{B_ADDR}:{LISTEN}"], "connect_timeout": 1})
    finally:
        net.link(net.b, "up")
    assert r["status"] == "CRITICAL" and r["duration_seconds"] < 10, r
