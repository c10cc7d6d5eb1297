"""The report as an Excel workbook (openpyxl): sheets Overview, Details, Exceptions, and Events,
Availability, Capacity, Assets and Asset changes when the report has them; status cells coloured as in the HTML report.

Numbers stay numbers (a reader sorts and filters them), times are shown in the report's zone.
"""

from __future__ import annotations

import datetime as dt
import io

from checks.status import Status
from collector.report.charts import STATUS_COLOURS
from collector.report.labels import labels
from collector.report.model import Report, zone

SEVERITY_COLOURS = {**{s.value: STATUS_COLOURS[s] for s in Status}, "NODATA": STATUS_COLOURS[Status.UNKNOWN]}
WHITE_TEXT = {"CRITICAL", "OK", "UNKNOWN", "NODATA"}  # dark fills: white text reads better


def render_xlsx(report: Report) -> bytes:
    # The collector extra brings openpyxl; patrol's main() names the extra when it is missing.
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    t = labels(report.language)
    tz = zone(report.cover.timezone)
    bold = Font(bold=True)

    def when(value: dt.datetime | None) -> str:
        return value.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S") if value else ""

    def status_cell(cell, status: str) -> None:
        colour = SEVERITY_COLOURS.get(status)
        if colour:
            cell.fill = PatternFill("solid", fgColor=colour.lstrip("#"))
            cell.font = Font(bold=True, color="FFFFFF" if status in WHITE_TEXT else "000000")
        cell.value = t.get(status, status)

    def table(sheet, header: list[str], rows: list[list], status_column: int | None = None) -> None:
        sheet.append(header)
        for cell in sheet[sheet.max_row]:
            cell.font = bold
        first = sheet.max_row + 1
        for row in rows:
            sheet.append(row)
            if status_column is not None:
                status_cell(sheet.cell(row=sheet.max_row, column=status_column + 1), row[status_column])
        sheet.freeze_panes = sheet.cell(row=first, column=1)
        for index, _ in enumerate(header, 1):
            width = max((len(str(c.value)) for c in sheet[get_column_letter(index)] if c.value is not None), default=8)
            sheet.column_dimensions[get_column_letter(index)].width = min(60, max(10, width + 2))

    book = Workbook()
    overview = book.active
    overview.title = "Overview"
    cover, ov, health = report.cover, report.overview, report.health
    pairs = [
        (t["organisation"], cover.organisation), (cover.title, ""), (t["playbook"], cover.playbook),
        (t["started"], when(cover.started_at)), (t["finished"], when(cover.finished_at)),
        (t["inspector"], cover.inspector), (t["reviewer"], cover.reviewer),
        (t["health_score"], health.score), ("", health.verdict),
        (t["targets"], ov.targets_total), (t["targets_with_problems"], ov.targets_with_problems),
        (t["targets_failed"], ov.targets_failed), (t["checks_run"], ov.checks_run), (t["results"], ov.results_total),
        *[(t[s.value], n) for s, n in ov.status_counts.items()],
        (t["version"], f"Patrol {cover.patrol_version} · {cover.schema_version}"),
    ]
    if cover.run_id is not None:
        pairs.insert(3, (t["run"], cover.run_id))
    for key, value in pairs:
        overview.append([key, value])
        overview.cell(row=overview.max_row, column=1).font = bold
    overview.column_dimensions["A"].width = 28
    overview.column_dimensions["B"].width = 60

    details = book.create_sheet("Details")
    table(details, [t["target"], t["address"], t["check"], t["item"], t["status"], t["summary"], t["key_metrics"]], [
        [target.name, target.address, line.check, line.item, line.status.value, line.summary,
         ", ".join(line.key_metrics)]
        for section in report.categories for target in section.targets for line in target.results
    ], status_column=4)

    exceptions = book.create_sheet("Exceptions")
    table(exceptions, [t["status"], t["target"], t["check"], t["item"], t["observed"], t["trend"],
                       t["since"], t["recommendation"]], [
        [f.status.value, f.target, f.check, f.item, f.observed_text, t.get(f.trend, f.trend), when(f.since),
         f.recommendation]
        for f in report.findings
    ], status_column=0)

    if report.events is not None:
        ev = report.events
        events = book.create_sheet("Events")
        for key, value in [
            (t["events_opened"], ev.opened), (t["events_notified"], ev.notified),
            (t["mtta"] + " (s)", ev.mtta_seconds), (t["mttr"] + " (s)", ev.mttr_seconds),
            (t["ack_within"].format(minutes=ev.ack_target_minutes) + " (%)", ev.acknowledged_within_target_percent),
            (t["resolution_rate"] + " (%)", ev.resolution_rate_percent),
            *[(t.get(s, s), n) for s, n in ev.by_severity.items()],
        ]:
            events.append([key, value])
            events.cell(row=events.max_row, column=1).font = bold
        events.append([])
        table(events, [t["status"], t["target"], t["check"], t["item"], t["summary"], t["opened_at"],
                       t["acknowledged_by"]], [
            [e.severity, e.target, e.check, e.item, e.summary, when(e.opened_at), e.acknowledged_by or ""]
            for e in ev.open_now
        ], status_column=0)

        availability = book.create_sheet("Availability")
        table(availability, [t["target"], t["availability"] + " (%)", t["down_time"] + " (s)", t["outages"]], [
            [a.target, round(a.percent, 3), round(a.down_seconds), a.outages] for a in ev.availability
        ])

    if report.capacity:
        capacity = book.create_sheet("Capacity")
        table(capacity, [t["target"], t["check"], t["item"], t["used"] + " (%)", t["growth"] + " (pp)",
                         t["days_until_full"]], [
            [r.target, r.check, r.item, round(r.used_percent, 2),
             None if r.growth_per_day is None else round(r.growth_per_day, 3),
             None if r.days_until_full is None else round(r.days_until_full, 1)]
            for r in report.capacity
        ])

    if report.assets is not None:
        assets = book.create_sheet("Assets")
        table(assets, [t["target"], t["os"], t["kernel"], t["cpu"], t["memory"] + " (B)", t["disks"],
                       t["addresses"], t["device"], t["new"]], [
            [a.target, a.os, a.kernel, a.value("cpu"), a.memory_bytes, a.value("disks"), a.value("addresses"),
             a.value("device"), "✓" if a.target in report.assets.new_targets else ""]
            for a in report.assets.assets
        ])
        changes = book.create_sheet("Asset changes")
        table(changes, [t["target"], t["field"], t["before"], t["after"]], [
            [c.target, t[c.field], c.before, c.after] for c in report.assets.changes
        ])

    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
