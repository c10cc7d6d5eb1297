"""oracle_dataguard — transport and apply lag of a Data Guard standby (V$DATAGUARD_STATS).

On a primary the view is empty: the check reports the role, OK (unless ``standby: true``). A standby
that reports no lag value (the stat is unknown) is UNKNOWN for that item.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from pydantic import Field

from checks.base import CheckContext, Outcome, metric
from checks.oracle import OracleCheck
from checks.params import CheckParams
from checks.status import Status
from checks.thresholds import Levels, UpperLimit

INTERVAL = re.compile(r"^\s*([+-])?(\d+)\s+(\d+):(\d+):(\d+(?:\.\d+)?)\s*$")


def interval_seconds(text: str | None) -> float | None:
    """'+00 00:05:30' (days hours:minutes:seconds) -> 330.0; None when absent or unparseable."""
    if not text:
        return None
    m = INTERVAL.match(text)
    if not m:
        return None
    sign, days, hours, minutes, seconds = m.groups()
    value = int(days) * 86400 + int(hours) * 3600 + int(minutes) * 60 + float(seconds)
    return -value if sign == "-" else value


class OracleDataguardParams(CheckParams):
    warning: UpperLimit = Field(default=1800, description="transport or apply lag (s) at which to warn")
    critical: UpperLimit = Field(default=3600, description="transport or apply lag (s) at which critical")
    standby: bool = Field(default=False, description="the database must be a standby (CRITICAL when primary)")


class OracleDataguardCheck(OracleCheck):
    name = "oracle_dataguard"
    title = "Oracle Data Guard transport and apply lag (standby)"
    Params = OracleDataguardParams
    metrics = {"lag": "transport or apply lag (s)"}
    example = "- oracle_dataguard: {standby: true, warning: 1800, critical: 3600}"

    def collect(self, ctx: CheckContext, session, params: OracleDataguardParams) -> Iterator[Outcome]:
        [db] = session.query("database_role")
        if "STANDBY" not in (db["role"] or ""):
            yield Outcome(
                summary=f"{db['role']} ({db['open_mode']}): no lag to measure"
                + (", but a standby was expected" if params.standby else ""),
                status=Status.CRITICAL if params.standby else Status.OK,
            )
            return
        for r in session.query("dataguard_stats"):
            lag = interval_seconds(r["value"])
            if lag is None:
                yield Outcome(
                    item=r["name"],
                    summary=f"{db['role']}: {r['name']} unknown ({r['value'] or 'no value'})",
                    status=Status.UNKNOWN,
                )
                continue
            yield Outcome(
                item=r["name"],
                summary=f"{db['role']}: {r['name']} {lag:.0f} s (computed {r['time_computed']})",
                metrics=[metric("lag", lag, "s")],
                levels={"lag": Levels(params.warning, params.critical)},
            )
