"""Inspection reports (巡检报告) of patrol runs: HTML, JSON and Markdown.

knowledge = KnowledgeBase.load([Path("/etc/patrol/knowledge")])
report = build_report(run, results, previous, targets, knowledge, ReportOptions(organisation="ACME"))
render(report, ["html", "json", "md"], Path("reports"), "daily-patrol-2026-11-23")
"""

from collector.report.knowledge import KnowledgeBase
from collector.report.model import REPORT_SCHEMA, Report, ReportOptions, TargetInfo, build_report
from collector.report.render import FORMATS, render

__all__ = [
    "FORMATS",
    "REPORT_SCHEMA",
    "KnowledgeBase",
    "Report",
    "ReportOptions",
    "TargetInfo",
    "build_report",
    "render",
]
