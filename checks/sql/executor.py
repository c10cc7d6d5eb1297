"""One session per target and engine, running named queries from the engine's query data.

"Can connect" and "can query" are separate outcomes: opening the session raises ``CannotConnect``
(the check is CRITICAL), a failing query raises ``QueryFailed`` for that query only (UNKNOWN for the
check that asked; the session stays usable for the others). The checks of one target share the
session from several threads, so statements are serialised with a lock (DB-API connections are not
safe for concurrent use). A session whose connection broke reconnects on the next query.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any

from checks.errors import CheckUnavailable
from checks.secrets import Scrubber
from checks.sql.drivers import DRIVERS, Driver
from checks.sql.errors import CannotConnect, QueryFailed
from checks.sql.queries import load_queries, shape
from checks.sql.settings import DbSettings
from checks.timeouts import CallTimedOut, call_with_timeout

Connector = Callable[[DbSettings], Any]
CONNECT_MARGIN = 1.0  # seconds the driver gets beyond its own connect timeout before we give up on it


class SqlSession:
    def __init__(
        self,
        settings: DbSettings,
        driver: Driver | None = None,
        connector: Connector | None = None,
        scrubber: Scrubber | None = None,
    ) -> None:
        self.settings = settings
        self.driver = driver or DRIVERS[settings.engine]()
        self.driver._statement_timeout = settings.statement_timeout  # type: ignore[attr-defined]
        self._connect = connector or self.driver.connect
        self.scrubber = scrubber or Scrubber()
        self.queries = load_queries(settings.engine)
        self.flavor = ""
        self.version = 0
        self._conn: Any = None
        self._lock = threading.RLock()

    # -- connecting -----------------------------------------------------------------------------

    def open(self) -> SqlSession:
        with self._lock:
            if self._conn is not None and not self.driver.closed(self._conn):
                return self
            self.close()
            try:
                # A backstop over the driver's own connect timeout: python-oracledb's thin mode bounds
                # only the TCP connect, and waits forever on a port that accepts but never answers
                # (measured). An abandoned attempt's thread ends when the peer closes or the OS gives up.
                conn = call_with_timeout(
                    lambda: self._connect(self.settings),
                    self.settings.connect_timeout + CONNECT_MARGIN,
                    f"connect {self.settings.engine} {self.settings.endpoint}",
                )
            except CallTimedOut:
                raise CannotConnect(
                    f"no answer from {self.settings.endpoint} within {self.settings.connect_timeout:g} s"
                ) from None
            except CheckUnavailable:
                raise  # no driver: this machine cannot check, the database may well be fine
            except Exception as exc:  # noqa: BLE001 - every driver failure to connect means the same
                raise CannotConnect(self._reason(exc)) from None
            self._conn = conn
            try:
                [row] = self._run(self.driver.identify_query, None)
                self.flavor, self.version = self.driver.identify(conn, row)
            except Exception as exc:  # noqa: BLE001 - connected, but not to something we can talk to
                self.close()
                raise CannotConnect(f"connected, but cannot identify the server: {self._reason(exc)}") from None
            return self

    def close(self) -> None:
        with self._lock:
            conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except Exception:  # noqa: BLE001, S110 - closing a broken connection may fail; nothing to do
                pass

    @property
    def server(self) -> str:
        return f"{self.flavor} {self.version}" if self.flavor else "not connected"

    # -- querying -------------------------------------------------------------------------------

    def query(self, name: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """Rows of query ``name`` as dicts of its typed columns; ``QueryFailed`` if it cannot be run."""
        with self._lock:
            self.open()
            try:
                return self._run(name, params)
            except QueryFailed:
                raise
            except Exception as exc:  # noqa: BLE001 - a query's failure is reported for that query only
                raise QueryFailed(name, self._reason(exc)) from None

    def _run(self, name: str, params: Mapping[str, Any] | None) -> list[dict[str, Any]]:
        query = self.queries[name]
        variant = query.variant_for(self.flavor, self.version) if self.flavor else query.variants[-1]
        if variant is None:
            raise QueryFailed(name, f"not available on {self.server}")
        cur = self._conn.cursor()
        try:
            cur.execute(variant.sql, dict(params) if params else None)
            names = [d[0] for d in cur.description or ()]
            rows = list(cur.fetchall()) if names else []
        finally:
            try:
                cur.close()
            except Exception:  # noqa: BLE001, S110 - a cursor of a broken connection
                pass
        try:
            return shape(query, variant, names, rows)
        except ValueError as exc:
            raise QueryFailed(name, f"unexpected result on {self.server}: {exc}") from None

    def _reason(self, exc: BaseException) -> str:
        text = " ".join(str(exc).split()) or exc.__class__.__name__
        return self.scrubber.scrub(f"{exc.__class__.__name__}: {text}")
