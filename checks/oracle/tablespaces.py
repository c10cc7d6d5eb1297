"""oracle_tablespaces — used space against the size each tablespace may grow to, TEMP and UNDO included.

Honours autoextend: an autoextensible data file may grow to MAXBYTES, so "full" is the sum of
``DECODE(autoextensible, 'YES', MAXBYTES, BYTES)``, not the allocated size (the classic wrong number).
Permanent tablespaces: used = allocated − free (DBA_FREE_SPACE). UNDO: used = ACTIVE + UNEXPIRED extents
(expired ones are reused). TEMP: used = size − free of DBA_TEMP_FREE_SPACE, limit from the temp files.
In a CDB every container the account may see is covered, the item being ``PDB/TABLESPACE``.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator

from pydantic import Field

from checks.base import CheckContext, Outcome, metric
from checks.oracle import OracleCheck, container_item
from checks.params import CheckParams
from checks.sql.check import percent
from checks.thresholds import Levels, UpperLimit
from checks.units import format_bytes


class OracleTablespacesParams(CheckParams):
    warning: UpperLimit = Field(default=85, description="used % of the maximum size (autoextend honoured) to warn at")
    critical: UpperLimit = Field(default=95, description="used % of the maximum size at which critical")
    temp_warning: UpperLimit | None = Field(default=90, description="TEMP used % to warn at")
    temp_critical: UpperLimit | None = Field(default=None, description="TEMP used % at which critical")
    undo_warning: UpperLimit | None = Field(default=90, description="UNDO used % (active + unexpired) to warn at")
    undo_critical: UpperLimit | None = Field(default=None, description="UNDO used % at which critical")
    exclude: list[str] = Field(default_factory=list, description="item patterns to skip, e.g. 'PDB$SEED/*'")


class OracleTablespacesCheck(OracleCheck):
    name = "oracle_tablespaces"
    title = "Oracle tablespace usage against autoextend MAXBYTES, TEMP and UNDO included, CDB/PDB aware"
    Params = OracleTablespacesParams
    metrics = {
        "used": "used space, % of the size the tablespace may grow to (autoextend honoured)",
        "used_bytes": "used space (bytes)",
        "allocated_bytes": "space allocated in its files now (bytes)",
        "max_bytes": "size it may grow to: MAXBYTES of autoextensible files, else BYTES (bytes)",
    }
    example = "- oracle_tablespaces: {warning: 85, critical: 95, exclude: ['PDB$SEED/*']}"

    def collect(self, ctx: CheckContext, session, params: OracleTablespacesParams) -> Iterator[Outcome]:
        undo = {(r["con_id"], r["tablespace"]): r["used_bytes"] for r in session.query("undo_used")}
        rows = []
        for r in session.query("tablespace_files"):
            if r["contents"] == "UNDO":
                used = undo.get((r["con_id"], r["tablespace"]), 0)
                levels = Levels(params.undo_warning, params.undo_critical)
            else:
                used = r["allocated_bytes"] - r["free_bytes"]
                levels = Levels(params.warning, params.critical)
            rows.append((r, used, levels))
        for r in session.query("temp_usage"):
            rows.append(
                ({**r, "contents": "TEMPORARY"}, r["used_bytes"], Levels(params.temp_warning, params.temp_critical))
            )
        for r, used, levels in rows:
            item = container_item(r["tablespace"], r["container"])
            if any(fnmatch.fnmatchcase(item, p) for p in params.exclude):
                continue
            ratio = percent(used, r["max_bytes"])
            grow = "autoextend" if r["autoextensible"] else "fixed size"
            yield Outcome(
                item=item,
                summary=f"{r['contents'].lower()}: {format_bytes(used)} used of {format_bytes(r['max_bytes'])} "
                f"({ratio:.1f}%, {grow}; {format_bytes(r['allocated_bytes'])} allocated)",
                metrics=[
                    metric("used", ratio, "%"),
                    metric("used_bytes", used, "B"),
                    metric("allocated_bytes", r["allocated_bytes"], "B"),
                    metric("max_bytes", r["max_bytes"], "B"),
                ],
                levels={"used": levels},
            )
