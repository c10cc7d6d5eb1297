"""What every snmp_* check shares: the session, the per-device deadline, and the failure mapping.

An unreachable device (no answer within its timeout and retries) is CRITICAL, ``collected: false``,
like a host the runner cannot reach (checks.base.failure_result). A device that answers with an
error (wrong community or v3 keys, noSuchName, authorization) is UNKNOWN with the reason: the device
is up, the check could not be done. A bad snmp_* inventory variable is UNKNOWN naming the variable.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, ClassVar

from checks.base import Check, CheckContext, Outcome
from checks.snmp.errors import SnmpError, SnmpUnreachable
from checks.status import Status

# Leave the base class's own timeout this much room, so a slow device is reported by us with its
# reason rather than as a check that merely timed out.
DEADLINE_MARGIN = 0.5


def text(value: Any) -> str:
    """An OCTET STRING for a summary: UTF-8 where it is, with undecodable bytes replaced."""
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace").strip("\x00").strip()
    return str(value)


class SnmpCheck(Check):
    connection_kind: ClassVar[str | None] = "snmp"
    default_timeout: ClassVar[float] = 30.0

    def run(self, ctx: CheckContext, params: Any) -> Iterable[Outcome]:
        session = ctx.connection("snmp")
        session.scrubber = ctx.scrubber  # secrets it resolves are scrubbed from every message
        try:
            yield from self.poll(ctx, session, params)
        except SnmpUnreachable as exc:
            yield Outcome(summary=f"unreachable: {exc}", status=Status.CRITICAL, collected=False)
        except SnmpError as exc:
            yield Outcome(summary=f"SNMP error: {exc}", status=Status.UNKNOWN, collected=False)

    def poll(self, ctx: CheckContext, session: Any, params: Any) -> Iterator[Outcome]:
        raise NotImplementedError

    @staticmethod
    def budget(ctx: CheckContext) -> float:
        """Seconds the next SNMP exchange may take."""
        return max(0.1, ctx.remaining() - DEADLINE_MARGIN)
