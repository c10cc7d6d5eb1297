"""The base of every database check: gets the target's session and maps the SQL layer's failures.

- cannot connect (refused, unreachable, wrong password, connect timeout): CRITICAL, ``collected: false``,
  with the reason — the database is down for its users too;
- a query of this check fails (permission denied, statement timeout, missing view): UNKNOWN for this
  check only, with the reason; the target's other checks use the same session and go on;
- a bad ``<engine>_*`` inventory variable: UNKNOWN naming the variable.

The session comes from the run (``ctx.connection(engine)``: one per target, shared); where the context
has none (an agent, a test), the check opens its own and closes it when done.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from typing import Any, ClassVar

from checks.base import Check, CheckContext, Outcome
from checks.sql.errors import CannotConnect, QueryFailed, SqlConfigError
from checks.sql.executor import SqlSession
from checks.sql.pool import SqlPool
from checks.status import Status


class SqlCheck(Check):
    engine: ClassVar[str] = ""
    default_timeout: ClassVar[float] = 30.0
    # The check reaches the database itself: the runner does not probe the target over SSH first (a
    # database endpoint need not run sshd), and a server it cannot reach is its own CRITICAL result.
    own_connection: ClassVar[bool] = True

    def run(self, ctx: CheckContext, params: Any) -> Iterable[Outcome]:
        own: SqlPool | None = None
        try:
            if self.engine in ctx.connections:
                session = ctx.connection(self.engine)
            else:
                own = SqlPool(ctx.scrubber)
                session = own.session(ctx.target, self.engine)
            yield from self.collect(ctx, session, params)
        except CannotConnect as exc:
            yield Outcome(summary=f"cannot connect: {exc}", status=Status.CRITICAL, collected=False)
        except QueryFailed as exc:
            yield Outcome(summary=f"cannot query: {exc}", status=Status.UNKNOWN, collected=False)
        except SqlConfigError as exc:
            yield Outcome(summary=f"bad database settings: {exc}", status=Status.UNKNOWN, collected=False)
        finally:
            if own is not None:
                own.close()

    def collect(self, ctx: CheckContext, session: SqlSession, params: Any) -> Iterator[Outcome]:
        raise NotImplementedError


def age_seconds(then: dt.datetime | None, now: dt.datetime) -> float | None:
    return None if then is None else max(0.0, (now - then).total_seconds())


def percent(part: float, whole: float) -> float:
    return round(100.0 * part / whole, 2) if whole else 0.0
