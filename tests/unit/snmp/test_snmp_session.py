"""The shared loop's bounds and deadlines, and how a session classifies a timeout (no device needed)."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from checks.snmp.errors import SnmpError, SnmpUnreachable
from checks.snmp.loop import SnmpLoop
from checks.snmp.session import SnmpSession
from checks.snmp.settings import SnmpSettings
from checks.target import Target

SETTINGS = SnmpSettings(address="127.0.0.1", community="x", timeout=0.2, retries=0)


def test_a_poll_past_its_deadline_fails_alone_and_quickly():
    loop = SnmpLoop(in_flight=4)

    async def hang(client):
        await asyncio.sleep(30)

    async def quick(client):
        return "answer"

    started = time.monotonic()
    with pytest.raises(SnmpUnreachable, match="within the check's 0.3 s"):
        loop.run(SETTINGS, hang, 0.3)
    assert time.monotonic() - started < 5
    assert loop.run(SETTINGS, quick, 1) == "answer"


def test_devices_beyond_the_bound_wait_and_say_so_when_their_deadline_passes():
    loop = SnmpLoop(in_flight=1)
    inside = threading.Event()

    async def busy(client):
        inside.set()
        await asyncio.sleep(1.5)
        return "done"

    first: dict = {}
    worker = threading.Thread(target=lambda: first.setdefault("result", loop.run(SETTINGS, busy, 10)))
    worker.start()
    assert inside.wait(5)
    with pytest.raises(SnmpError, match="was not polled: 1 other devices were in flight") as exc:
        loop.run(SETTINGS, busy, 0.3)
    assert not isinstance(exc.value, SnmpUnreachable)
    worker.join(10)
    assert first["result"] == "done"


class ScriptedLoop:
    """Answers a session's polls from a script: each entry is a value to return or an error to raise."""

    def __init__(self, *script):
        self.script = list(script)
        self.calls: list[bool] = []

    def run(self, settings, work, deadline, probe=False):
        self.calls.append(probe)
        step = self.script.pop(0)
        if isinstance(step, Exception):
            raise step
        return step


def session(loop, **variables) -> SnmpSession:
    target = Target("sw", {"ansible_host": "127.0.0.1", "snmp_community": {"env": "HOME"}, "snmp_timeout": 0.2,
                           **variables})  # fmt: skip
    return SnmpSession(target, loop=loop)


def test_timeout_with_silence_everywhere_is_unreachable():
    loop = ScriptedLoop(SnmpUnreachable("no SNMP answer"), False)
    with pytest.raises(SnmpUnreachable, match="no SNMP answer"):
        session(loop).get(["1.3.6.1.2.1.1.3.0"], 10)
    assert loop.calls == [False, True]


def test_timeout_but_the_agent_answers_discovery_means_wrong_community():
    loop = ScriptedLoop(SnmpUnreachable("no SNMP answer"), True, SnmpUnreachable("no SNMP answer"))
    with pytest.raises(SnmpError, match="community .* is wrong") as exc:
        session(loop).walk(["1.3.6.1.2.1.2.2.1.2"], 10)
    assert not isinstance(exc.value, SnmpUnreachable)


def test_timeout_on_the_poll_but_a_single_get_answers_means_too_slow():
    loop = ScriptedLoop(SnmpUnreachable("no SNMP answer"), True, {})
    with pytest.raises(SnmpError, match="answers a single GET but not the whole poll"):
        session(loop).walk(["1.3.6.1.2.1.2.2.1.2"], 10)


def test_no_time_left_for_the_probe_reports_the_timeout():
    loop = ScriptedLoop(SnmpUnreachable("no SNMP answer"))
    with pytest.raises(SnmpUnreachable):
        session(loop, snmp_timeout=5).get(["1.3.6.1.2.1.1.3.0"], 4)
    assert loop.calls == [False]
