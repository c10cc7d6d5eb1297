"""The eight host checks over SSH agree with the same checks run locally with psutil, on this machine.

Both targets are checked in one run, concurrently, so the moving figures (CPU, load, throughput,
process count) are sampled over nearly the same moments. Fixed figures (sizes, totals, boot time)
must match to the unit they are reported in; moving ones within the tolerances below. Statuses must
match except for cpu and load, whose figures can move across a threshold between the two reads.
"""

from __future__ import annotations

import pytest

from checks.registry import default_registry
from checks.status import Status
from checks.target import Target
from collector.planner import Assignment
from collector.runner import Runner

pytestmark = pytest.mark.integration

HOST_CHECKS = ["cpu", "load", "memory", "swap", "disk", "processes", "uptime", "network_interfaces"]
MOVING_STATUS = {"cpu", "load"}


def tolerance(check: str, name: str, local: float) -> float:
    """How far the SSH figure may be from the local one."""
    if check == "cpu":
        return 15.0  # percentage points over two nearly simultaneous 3 s windows on a shared machine
    if check == "load":
        return 0.5 + 0.2 * abs(local) if name != "cpus" else 0.0
    if check == "disk":
        # Sizes are whole KiB in df's output; files written meanwhile (other tests, logs) move used/free.
        return {"total": 1024.0, "used": 0.5, "inodes_free": 0.5}.get(name, max(1024.0, 0.005 * local))
    if check in ("memory", "swap"):
        return 2.0 if name in ("used", "free") and local <= 100 else max(0.02 * local, 4096)
    if check == "processes":
        return {"total": 25.0, "zombies": 2.0, "pid_usage": 0.1}.get(name, 2.0)
    if check == "uptime":
        return 5.0
    if check == "network_interfaces":
        return 0.0 if name == "up" else (2.0 if name in ("errors", "drops") else max(100_000.0, 0.5 * abs(local)))
    raise AssertionError(f"no tolerance for {check}.{name}")


def test_every_host_check_agrees_between_psutil_and_ssh(sshd, known_hosts):
    registry = default_registry()
    local = Target("local", {"connection": "local"})
    remote = Target("remote", sshd.target_vars(known_hosts))
    work = []
    for name in HOST_CHECKS:
        check = registry.get(name)
        params = {"interval": 3} if name in ("cpu", "network_interfaces") else {}
        work += [Assignment("cmp", t, check, check.validate(params)) for t in (local, remote)]
    results = Runner(max_workers=16).run(work)

    by = {(r.target, r.check, r.item): r for r in results}
    for r in results:
        assert r.collected and r.status is not Status.UNKNOWN, (r.target, r.check, r.item, r.summary)
    local_keys = {(c, i) for t, c, i in by if t == "local"}
    remote_keys = {(c, i) for t, c, i in by if t == "remote"}
    assert local_keys == remote_keys, local_keys ^ remote_keys
    assert {c for c, _ in local_keys} == set(HOST_CHECKS)
    assert any(c == "disk" for c, _ in local_keys) and any(c == "network_interfaces" for c, _ in local_keys)

    compared = 0
    for check, item in sorted(local_keys):
        mine, theirs = by[("local", check, item)], by[("remote", check, item)]
        if check not in MOVING_STATUS:
            assert mine.status is theirs.status, (check, item, mine.summary, theirs.summary)
        assert [m.name for m in mine.metrics] == [m.name for m in theirs.metrics], (check, item)
        for m in mine.metrics:
            other = theirs.metric(m.name)
            assert m.unit == other.unit
            allowed = tolerance(check, m.name, m.value)
            assert abs(m.value - other.value) <= allowed, (check, item, m.name, m.value, other.value, allowed)
            compared += 1
    assert compared >= 20, compared


def test_required_processes_over_ssh_match_names_executables_and_argv0(sshd, known_hosts):
    remote = Target("remote", sshd.target_vars(known_hosts))
    check = default_registry().get("processes")
    # sshd runs as root: its name is readable by the unprivileged SSH user, its executable is not.
    params = check.validate({"required": ["sshd", "patrol-no-such-daemon"]})
    results = Runner().run([Assignment("req", remote, check, params)])
    items = {r.item: r for r in results}
    assert items["sshd"].status is Status.OK and items["sshd"].metric("count").value >= 1, items["sshd"].summary
    assert items["patrol-no-such-daemon"].status is Status.CRITICAL
    assert items["patrol-no-such-daemon"].summary == "not running"
