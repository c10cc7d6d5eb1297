"""The four result states, with Nagios exit codes and a severity order."""

from __future__ import annotations

import enum
from collections.abc import Iterable


class Status(str, enum.Enum):
    OK = "OK"
    WARNING = "WARNING"
    CRITICAL = "CRITICAL"
    UNKNOWN = "UNKNOWN"

    @property
    def code(self) -> int:
        """The Nagios plugin exit code (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN)."""
        return _CODES[self]

    @property
    def severity(self) -> int:
        """Order used to pick the worst status.

        UNKNOWN ranks above WARNING ("cannot check" is not "healthy") but below CRITICAL, which
        gives the exit-code rule: 2 on any CRITICAL, else 3 on any UNKNOWN, else 1 on WARNING.
        """
        return _SEVERITY[self]

    @classmethod
    def worst(cls, statuses: Iterable[Status]) -> Status:
        return max(statuses, key=lambda s: s.severity, default=cls.OK)

    @classmethod
    def from_code(cls, code: int) -> Status:
        for status, value in _CODES.items():
            if value == code:
                return status
        return cls.UNKNOWN


_CODES = {Status.OK: 0, Status.WARNING: 1, Status.CRITICAL: 2, Status.UNKNOWN: 3}
_SEVERITY = {Status.OK: 0, Status.WARNING: 1, Status.UNKNOWN: 2, Status.CRITICAL: 3}
