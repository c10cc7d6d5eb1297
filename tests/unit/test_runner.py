import socket
import threading
import time

from checks.base import Check, Outcome, metric
from checks.params import CheckParams
from checks.status import Status
from checks.target import Target
from collector import reach
from collector.planner import Assignment
from collector.runner import Runner

RELEASE = threading.Event()


class SleepParams(CheckParams):
    hang: bool = False


class Sleepy(Check):
    name = "sleepy"
    title = "test"
    Params = SleepParams

    def run(self, ctx, params):
        if params.hang:
            RELEASE.wait(60)
        yield Outcome(summary="done", metrics=[metric("x", 1)])


def assignment(target, hang=False, timeout=None):
    check = Sleepy()
    return Assignment("t", target, check, check.validate({"hang": hang, "timeout": timeout}))


LOCAL = Target("here", {"connection": "local"})


def test_a_hung_check_does_not_hold_up_the_others():
    work = [assignment(LOCAL, hang=True, timeout=0.5)] + [
        assignment(Target(f"h{i}", {"connection": "local"})) for i in range(20)
    ]
    seen = []
    start = time.monotonic()
    results = Runner(max_workers=4).run(work, on_done=lambda a, r: seen.append(a.target.name))
    elapsed = time.monotonic() - start
    RELEASE.set()
    assert elapsed < 30  # far below the 60 s the hung call would take: it was abandoned, not waited for
    assert len(results) == 21 and len(seen) == 21
    hung = [r for r in results if r.target == "here"]
    assert hung[0].status is Status.UNKNOWN and "timed out after 0.5 s" in hung[0].summary
    assert all(r.status is Status.OK for r in results if r.target != "here")


def test_unreachable_target_is_critical_with_the_reason_and_costs_only_its_probe():
    with socket.socket() as s:  # a port that was free a moment ago: nothing listens there
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    down = Target("down", {"ansible_host": "127.0.0.1", "ansible_port": port})
    results = Runner().run([assignment(down), assignment(LOCAL)])
    by_target = {r.target: r for r in results}
    assert by_target["down"].status is Status.CRITICAL and not by_target["down"].collected
    assert by_target["down"].summary.startswith("unreachable: 127.0.0.1:") and "refused" in by_target["down"].summary
    assert by_target["here"].status is Status.OK


def test_reachable_remote_and_agent_targets_are_failed_collections_not_silence():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        address = {"ansible_host": "127.0.0.1", "ansible_port": port}
        # Polled over SSH (the default connection): the checks themselves connect and report failures.
        assert reach.blocked(Target("ssh1", address)) is None
        status, reason = reach.blocked(Target("win1", {**address, "connection": "winrm"}))
    assert status is Status.UNKNOWN and "(winrm) checks are not available yet" in reason
    status, reason = reach.blocked(Target("web1", {"patrol_agent": True}))
    assert status is Status.UNKNOWN and "agent" in reason


def test_targets_behind_a_jump_host_are_not_probed_directly():
    with socket.socket() as s:  # nothing listens here: a direct probe would call the target unreachable
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    behind = Target("dmz1", {"ansible_host": "127.0.0.1", "ansible_port": port, "ssh_jump_host": "bastion"})
    assert reach.blocked(behind) is None


def test_missing_secret_at_run_time_is_unknown_not_a_crash(monkeypatch):
    monkeypatch.delenv("NOPE_SECRET", raising=False)
    target = Target("here", {"connection": "local", "db_password": {"env": "NOPE_SECRET"}})
    [r] = Runner().run([assignment(target)])
    assert r.status is Status.UNKNOWN and "environment variable NOPE_SECRET is not set" in r.summary
