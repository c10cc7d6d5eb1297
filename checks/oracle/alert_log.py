"""oracle_alert_log — ORA- errors in the alert log within the last ``window`` minutes (V$DIAG_ALERT_EXT).

Any ORA- error warns; those in ``critical_codes`` (internal errors, out of shared memory, ...) are critical.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from pydantic import Field, PositiveInt

from checks.base import CheckContext, Outcome, metric
from checks.oracle import OracleCheck
from checks.params import CheckParams
from checks.status import Status
from checks.thresholds import Levels, UpperLimit

ORA = re.compile(r"ORA-\d{5}")


class OracleAlertLogParams(CheckParams):
    window: PositiveInt = Field(default=1440, description="minutes of the alert log to read (default 24 h)")
    warning: UpperLimit = Field(default=0, description="ORA- errors in the window at which to warn (0: any)")
    critical: UpperLimit | None = Field(default=None, description="ORA- errors in the window, critical")
    critical_codes: list[str] = Field(
        default_factory=lambda: ["ORA-00600", "ORA-07445", "ORA-04031", "ORA-00257", "ORA-01578"],
        description="errors that are critical whenever they appear",
    )
    ignore_codes: list[str] = Field(default_factory=list, description="errors to ignore, e.g. ORA-03113")


class OracleAlertLogCheck(OracleCheck):
    name = "oracle_alert_log"
    title = "Oracle alert log: recent ORA- errors (V$DIAG_ALERT_EXT)"
    Params = OracleAlertLogParams
    metrics = {"errors": "alert log entries with an ORA- error in the window"}
    example = "- oracle_alert_log: {window: 1440, ignore_codes: [ORA-03113]}"

    def collect(self, ctx: CheckContext, session, params: OracleAlertLogParams) -> Iterator[Outcome]:
        entries = []
        for r in session.query("alert_log", {"minutes": params.window}):
            codes = [c for c in ORA.findall(r["message"] or "") if c not in params.ignore_codes]
            if codes:
                entries.append((r, codes))
        codes_seen = sorted({c for _, cs in entries for c in cs})
        grave = [c for c in codes_seen if c in params.critical_codes]
        summary = f"{len(entries)} ORA- error(s) in the last {params.window} min"
        if entries:
            newest = entries[0][0]
            summary += f" ({', '.join(codes_seen[:10])}); newest {newest['at']}: {newest['message']}"
        yield Outcome(
            summary=summary,
            metrics=[metric("errors", len(entries))],
            levels={"errors": Levels(params.warning, params.critical)},
            status=Status.CRITICAL if grave else None,
        )
