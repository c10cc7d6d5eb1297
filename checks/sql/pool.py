"""The database sessions of one run: one per target and engine, shared by that target's checks.

The first check to need a session opens it; a failure to connect is remembered for the rest of the
run, so an unreachable server costs its connect timeout once, not once per check (as checks/ssh/pool.py).
Without a run (``SqlPool`` not given), a check gets a session of its own, closed when the check ends.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from checks.errors import CheckUnavailable
from checks.secrets import Scrubber
from checks.sql.errors import CannotConnect
from checks.sql.executor import Connector, SqlSession
from checks.sql.settings import db_settings
from checks.target import Target


class SqlPool:
    def __init__(self, scrubber: Scrubber | None = None, connectors: dict[str, Connector] | None = None) -> None:
        self.scrubber = scrubber or Scrubber()
        self.connectors = connectors or {}  # engine -> connector, for tests (recorded Oracle result sets)
        self._lock = threading.Lock()
        self._keys: dict[tuple[str, str], threading.Lock] = {}
        self._open: dict[tuple[str, str], SqlSession] = {}
        self._failed: dict[tuple[str, str], str] = {}
        self._closed = False

    def session(self, target: Target, engine: str) -> SqlSession:
        key = (target.name, engine)
        with self._lock:
            if self._closed:
                raise CheckUnavailable("the run is over: its database sessions are closed")
            lock = self._keys.setdefault(key, threading.Lock())
        with lock:
            if key in self._failed:
                raise CannotConnect(self._failed[key])
            session = self._open.get(key)
            if session is None:
                settings = db_settings(target, engine, self.scrubber)
                session = SqlSession(settings, connector=self.connectors.get(engine), scrubber=self.scrubber)
            try:
                session.open()
            except CannotConnect as exc:
                self._failed[key] = str(exc)
                raise
            with self._lock:
                if self._closed:
                    session.close()
                    raise CheckUnavailable("the run is over: its database sessions are closed")
                self._open[key] = session
            return session

    def factory(self, engine: str) -> Callable[[Target], Any]:
        """The connection factory registered under ``engine`` (collector.reach.connections_for)."""
        return lambda target: self.session(target, engine)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            sessions, self._open = list(self._open.values()), {}
        for session in sessions:
            session.close()
