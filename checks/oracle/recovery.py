"""oracle_fra and oracle_invalid_objects — recovery area usage, invalid objects."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator

from pydantic import Field

from checks.base import CheckContext, Outcome, metric
from checks.oracle import OracleCheck, container_item
from checks.params import CheckParams
from checks.sql.check import percent
from checks.status import Status
from checks.thresholds import Levels, UpperLimit
from checks.units import format_bytes


class OracleFraParams(CheckParams):
    warning: UpperLimit = Field(default=90, description="recovery area used % (reclaimable not counted) to warn at")
    critical: UpperLimit = Field(default=98, description="recovery area used % at which the state is critical")


class OracleFraCheck(OracleCheck):
    name = "oracle_fra"
    title = "Oracle fast recovery area usage (v$recovery_file_dest), reclaimable space not counted"
    Params = OracleFraParams
    metrics = {
        "used": "space used less reclaimable, % of the limit",
        "used_bytes": "space used (bytes)",
        "reclaimable_bytes": "space reclaimable (bytes)",
        "limit_bytes": "db_recovery_file_dest_size",
    }
    example = "- oracle_fra: {warning: 90, critical: 98}"

    def collect(self, ctx: CheckContext, session, params: OracleFraParams) -> Iterator[Outcome]:
        rows = [r for r in session.query("recovery_area") if r["name"]]
        if not rows:
            yield Outcome(summary="no fast recovery area configured (db_recovery_file_dest unset)", status=Status.OK)
            return
        for r in rows:
            used = percent(r["space_used"] - r["space_reclaimable"], r["space_limit"])
            yield Outcome(
                item=r["name"],
                summary=f"{used:.1f}% used: {format_bytes(r['space_used'])} of {format_bytes(r['space_limit'])}, "
                f"{format_bytes(r['space_reclaimable'])} reclaimable, {r['files']} files",
                metrics=[
                    metric("used", used, "%"),
                    metric("used_bytes", r["space_used"], "B"),
                    metric("reclaimable_bytes", r["space_reclaimable"], "B"),
                    metric("limit_bytes", r["space_limit"], "B"),
                ],
                levels={"used": Levels(params.warning, params.critical)},
            )


class OracleInvalidObjectsParams(CheckParams):
    warning: UpperLimit = Field(default=0, description="invalid objects at which to warn (0: any)")
    critical: UpperLimit | None = Field(default=None, description="invalid objects at which the state is critical")
    exclude_owners: list[str] = Field(default_factory=list, description="owner patterns to ignore, e.g. 'APEX_*'")


class OracleInvalidObjectsCheck(OracleCheck):
    name = "oracle_invalid_objects"
    title = "Oracle invalid objects, per container"
    Params = OracleInvalidObjectsParams
    metrics = {"invalid": "objects with status INVALID"}
    example = "- oracle_invalid_objects: {warning: 0, exclude_owners: ['APEX_*']}"

    def collect(self, ctx: CheckContext, session, params: OracleInvalidObjectsParams) -> Iterator[Outcome]:
        by_container: dict[str, list[dict]] = {}
        cdb = session.flavor == "cdb"
        for r in session.query("invalid_objects"):
            if any(fnmatch.fnmatchcase(r["owner"], p) for p in params.exclude_owners):
                continue
            by_container.setdefault(r["container"] or "", []).append(r)
        if not by_container:
            yield Outcome(
                summary="no invalid objects",
                metrics=[metric("invalid", 0)],
                levels={"invalid": Levels(params.warning, params.critical)},
            )
            return
        for container, rows in sorted(by_container.items()):
            total = sum(r["invalid"] for r in rows)
            worst = sorted(rows, key=lambda r: -r["invalid"])[:5]
            detail = ", ".join(f"{r['owner']} {r['object_type']} {r['invalid']}" for r in worst)
            yield Outcome(
                item=container_item("invalid objects", container) if cdb else "",
                summary=f"{total} invalid object(s): {detail}",
                metrics=[metric("invalid", total)],
                levels={"invalid": Levels(params.warning, params.critical)},
            )
