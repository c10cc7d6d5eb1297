"""The two ways a database check can fail, kept apart because they mean different things.

``CannotConnect``: the server is down, refuses us, or rejects the credentials — the database is not
available to its users either, so the check is CRITICAL with ``collected: false``.
``QueryFailed``: we are connected but one query failed (permission denied, a view this version lacks,
a statement timeout) — only that check is UNKNOWN; the target's other checks go on.
"""

from __future__ import annotations


class SqlError(Exception):
    """Base of the SQL layer's errors; messages never carry a password (settings keep it out of repr)."""


class SqlConfigError(SqlError):
    """A bad or missing inventory variable; the message names the variable."""


class CannotConnect(SqlError):
    """No session could be opened (refused, unreachable, timed out, authentication failed)."""


class QueryFailed(SqlError):
    """One query failed on an open session."""

    def __init__(self, query: str, reason: str) -> None:
        self.query = query
        self.reason = reason
        super().__init__(f"query {query!r} failed: {reason}")
