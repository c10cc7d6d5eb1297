"""ping across a veth link between two network namespaces the test makes (10.201.0.0/24, fd00:201::/64).

Loss is injected with nftables on the peer's input (the kernel has no netem), so loss figures are random:
the tests assert ranges wide enough (about four standard deviations of the binomial) not to flake.
"""

from __future__ import annotations

import time

import pytest

from .netns import A_ADDR, B_ADDR, B_ADDR6, NetnsPair, missing_tools, run_check

DROP_CAP_NET_RAW = ("setpriv", "--bounding-set=-net_raw", "--")  # root without raw sockets, as a service user


@pytest.fixture(scope="module")
def net():
    missing = missing_tools()
    if missing:
        pytest.fail(f"missing {', '.join(missing)}: run scripts/test-deps as root", pytrace=False)
    with NetnsPair() as pair:
        pair.settle()
        yield pair


@pytest.fixture(autouse=True)
def clean_rules(net):
    yield
    net.nft_flush(net.b)
    net.link(net.b, "up")
    net.sysctl(net.a, "net.ipv4.ping_group_range=1 0")


def by_item(results):
    return {r["item"]: r for r in results}


def metric(result, name):
    return next(m["value"] for m in result["metrics"] if m["name"] == name)


def test_healthy_link_has_no_loss_over_raw_sockets_as_root(net):
    results = by_item(run_check(net.a, "ping", {"hosts": [B_ADDR, B_ADDR6], "count": 20, "interval": 0.01}))
    for item in (B_ADDR, B_ADDR6):
        r = results[item]
        assert r["status"] == "OK", r
        assert metric(r, "loss") == 0 and metric(r, "received") == 20
        assert 0 < metric(r, "rtt_min") <= metric(r, "rtt_avg") <= metric(r, "rtt_max") < 1
        assert metric(r, "jitter") >= 0
        assert "0% loss (20/20)" in r["summary"]


def test_unprivileged_icmp_sockets_where_ping_group_range_allows(net):
    net.sysctl(net.a, "net.ipv4.ping_group_range=0 2147483647")
    results = by_item(
        run_check(net.a, "ping", {"hosts": [B_ADDR, B_ADDR6], "count": 10, "interval": 0.01}, prefix=DROP_CAP_NET_RAW)
    )
    assert {results[i]["status"] for i in (B_ADDR, B_ADDR6)} == {"OK"}
    assert metric(results[B_ADDR], "loss") == 0


def test_neither_socket_allowed_is_unknown_naming_the_sysctl(net):
    net.sysctl(net.a, "net.ipv4.ping_group_range=1 0")
    [r] = run_check(net.a, "ping", {"hosts": [B_ADDR], "count": 3, "interval": 0.01}, prefix=DROP_CAP_NET_RAW)
    assert r["status"] == "UNKNOWN" and not r["collected"]
    assert "net.ipv4.ping_group_range" in r["summary"] and "'1 0'" in r["summary"] and "CAP_NET_RAW" in r["summary"]


def test_injected_loss_is_measured_within_a_tolerance_band(net):
    # 30 % of echo requests dropped on the peer's input; 200 probes give a standard deviation of about
    # 3.2 points, so 15..45 % is more than four deviations either side.
    net.nft(net.b, "ip protocol icmp numgen random mod 100 < 30 drop")
    [r] = run_check(net.a, "ping", {"hosts": [B_ADDR], "count": 200, "interval": 0.01, "critical": 80})
    loss = metric(r, "loss")
    assert 15 <= loss <= 45, r
    assert r["status"] == "WARNING" and "loss" in r["summary"] and "> 20" in r["summary"]
    assert metric(r, "sent") == 200 and metric(r, "received") == round(200 * (1 - loss / 100))


def test_loss_above_critical_is_critical(net):
    net.nft(net.b, "ip protocol icmp numgen random mod 100 < 80 drop")
    [r] = run_check(net.a, "ping", {"hosts": [B_ADDR], "count": 100, "interval": 0.01})
    assert r["status"] == "CRITICAL" and 60 < metric(r, "loss") < 100, r


def test_link_down_is_total_loss_and_critical_within_the_timeout(net):
    net.link(net.b, "down")
    start = time.monotonic()
    results = by_item(
        run_check(net.a, "ping", {"hosts": [B_ADDR, B_ADDR6], "count": 5, "interval": 0.1, "reply_timeout": 1})
    )
    elapsed = time.monotonic() - start
    for item in (B_ADDR, B_ADDR6):
        r = results[item]
        assert r["status"] == "CRITICAL" and metric(r, "loss") == 100, r
        assert "no reply to 5 echo requests" in r["summary"]
        assert r["duration_seconds"] < 5  # 0.4 s of sending + 1 s waiting, far below the 30 s check timeout
    assert elapsed < 30  # the whole subprocess, generous for a loaded machine


def test_the_target_address_is_pinged_when_no_hosts_are_listed(net):
    peer = {"name": "peer", "vars": {"ansible_host": B_ADDR}}
    [r] = run_check(net.a, "ping", {"count": 3, "interval": 0.01}, target=peer)
    assert r["item"] == B_ADDR and r["status"] == "OK"


def test_rtt_thresholds_apply_to_the_average(net):
    [r] = run_check(net.a, "ping", {"hosts": [B_ADDR], "count": 3, "interval": 0.01, "rtt_warning": "@0:10"})
    assert r["status"] == "WARNING" and "rtt_avg" in r["summary"]  # any rtt is inside 0..10 s


def test_an_unresolvable_host_is_critical(net):
    [r] = run_check(net.a, "ping", {"hosts": ["no-such-host.invalid"], "count": 1})
    assert r["status"] == "CRITICAL" and "cannot resolve no-such-host.invalid" in r["summary"]


def test_the_local_end_answers_too(net):
    [r] = run_check(net.b, "ping", {"hosts": [A_ADDR], "count": 3, "interval": 0.01})
    assert r["status"] == "OK"
