"""A DB-API stand-in that replays recorded result sets, for checks no server here can run (Oracle).

The recording maps a query name (as in ``queries/<engine>.yaml``) to what the server answered:
``{"columns": [...], "rows": [[...], ...]}``, or ``{"error": "ORA-01031: insufficient privileges"}``
for a query the account may not run. The replay sees only the SQL text the executor sends and finds
the query by it, so the executor, the variant choice and the type conversion are the real ones.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from checks.sql.queries import load_queries


class RecordedError(Exception):
    """The error a recording says the server raised for a query."""


class ReplayConnection:
    def __init__(self, engine: str, recording: Mapping[str, Any]) -> None:
        self.recording = recording
        self.by_sql = {v.sql: name for name, q in load_queries(engine).items() for v in q.variants}
        self.executed: list[tuple[str, Any]] = []  # (query name, binds), for tests
        self.closed = False

    def cursor(self) -> ReplayCursor:
        return ReplayCursor(self)

    def close(self) -> None:
        self.closed = True

    def is_healthy(self) -> bool:
        return not self.closed


class ReplayCursor:
    def __init__(self, conn: ReplayConnection) -> None:
        self.conn = conn
        self.description: list[tuple] | None = None
        self._rows: list[tuple] = []

    def execute(self, sql: str, params: Any = None) -> None:
        if sql.startswith("SET SESSION "):  # a driver's session setting (statement timeout): no result
            self.conn.executed.append(("SET", sql))
            self.description, self._rows = None, []
            return
        name = self.conn.by_sql.get(sql.strip())
        if name is None:
            raise RecordedError(f"no query with this SQL in the query data: {sql[:80]!r}")
        self.conn.executed.append((name, params))
        answer = self.conn.recording.get(name)
        if answer is None:
            raise RecordedError(f"the recording has no result set for query {name!r}")
        if "error" in answer:
            raise RecordedError(answer["error"])
        self.description = [(c, None, None, None, None, None, None) for c in answer["columns"]]
        self._rows = [tuple(_value(v) for v in row) for row in answer["rows"]]

    def fetchall(self) -> list[tuple]:
        return list(self._rows)

    def close(self) -> None:
        pass


def _value(value: Any) -> Any:
    """JSON has no timestamps: a recording writes them {"ts": "2024-05-01T06:00:00+00:00"}."""
    if isinstance(value, dict) and "ts" in value:
        return dt.datetime.fromisoformat(value["ts"])
    return value
