"""Command: runs a program (no shell) with the message as JSON on standard input.

The program gets a small environment, not the collector's (which holds other channels' secrets): PATH,
HOME, LANG and TZ as the collector has them, the channel's ``env``, and
    PATROL_CHANNEL, PATROL_DELIVERY_ID, PATROL_COUNT, PATROL_SEVERITY (the worst), PATROL_SUBJECT, PATROL_TEXT
plus, when the message holds one notice, PATROL_EVENT_ID, PATROL_TARGET, PATROL_CHECK, PATROL_ITEM,
PATROL_STATE, PATROL_CHANGE and PATROL_SUMMARY. Exit status 0 is a delivery; anything else, or running past
the timeout (the program and its children are killed), is a failure with the end of its standard error.
"""

from __future__ import annotations

import os
import signal
import subprocess

from collector.notify.channels.base import Channel, json_bytes
from collector.notify.delivery import DeliveryError
from collector.notify.templates import Message

PASSED_ON = ("PATH", "HOME", "LANG", "LC_ALL", "TZ")
MAX_STDERR = 500


class Command(Channel):
    def __init__(self, settings, secrets, session_factory) -> None:
        super().__init__(settings, secrets, session_factory)
        self.argv = list(settings.command)
        self.env = {}
        for name, value in settings.env.items():
            self.env[name] = value if isinstance(value, str) else secrets.get(value, "env", name)

    def environment(self, message: Message) -> dict[str, str]:
        env = {name: os.environ[name] for name in PASSED_ON if name in os.environ}
        env.setdefault("PATH", os.defpath)
        env.update(
            PATROL_CHANNEL=self.name,
            PATROL_DELIVERY_ID=message.id,
            PATROL_COUNT=str(len(message.notices)),
            PATROL_SEVERITY=message.worst,
            PATROL_SUBJECT=message.subject,
            PATROL_TEXT=message.text,
        )
        if len(message.notices) == 1:
            n = message.notices[0]
            env.update(PATROL_EVENT_ID=str(n.event_id), PATROL_TARGET=n.target, PATROL_CHECK=n.check,
                       PATROL_ITEM=n.item, PATROL_STATE=n.state, PATROL_CHANGE=n.change, PATROL_SUMMARY=n.summary)
        env.update(self.env)
        return env

    def send(self, message: Message) -> None:
        program = self.argv[0]
        try:
            process = subprocess.Popen(
                self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                env=self.environment(message), start_new_session=True,  # its own group: killed whole on timeout
            )
        except FileNotFoundError:
            raise DeliveryError(f"program {program} not found", retry=False) from None
        except PermissionError:
            raise DeliveryError(f"program {program} is not executable by this user", retry=False) from None
        except OSError as exc:
            raise DeliveryError(f"cannot run {program}: {exc.strerror or exc}") from None
        try:
            _, stderr = process.communicate(json_bytes(message.payload()), timeout=self.timeout)
        except subprocess.TimeoutExpired:
            _kill(process)
            raise DeliveryError(f"{program} did not finish within {self.timeout:g} s and was killed") from None
        if process.returncode != 0:
            how = f"was killed by signal {-process.returncode}" if process.returncode < 0 \
                else f"exited with status {process.returncode}"
            tail = " ".join(stderr.decode("utf-8", errors="replace").split())[-MAX_STDERR:]
            raise DeliveryError(f"{program} {how}" + (f": {tail}" if tail else ""))


def _kill(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    try:
        process.communicate(timeout=2)
    except subprocess.TimeoutExpired:  # a grandchild that left the group still holds the pipes
        for pipe in (process.stdin, process.stdout, process.stderr):
            if pipe:
                pipe.close()
        process.wait(timeout=2)
