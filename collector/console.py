"""Terminal output: live progress while a patrol runs, and the tables printed after it."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
from rich.progress import Progress as RichProgress
from rich.table import Table

from checks.result import Result
from checks.status import Status

if TYPE_CHECKING:
    from checks.target import Target
    from collector.patrol import PatrolOutcome
    from collector.planner import Assignment

STYLE = {Status.OK: "green", Status.WARNING: "yellow", Status.CRITICAL: "bold red", Status.UNKNOWN: "magenta"}
# Beyond this many results the table shows only those that are not OK.
FULL_TABLE_LIMIT = 60

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)


class Progress:
    """A progress bar on a terminal; silent when stderr is not one (cron, CI, pipes)."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled and sys.stderr.isatty()
        self._bar: RichProgress | None = None
        self._task = None
        self._bad = 0

    def __enter__(self) -> Progress:
        if self.enabled:
            self._bar = RichProgress(
                TextColumn("[bold]patrol[/]"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("checks  {task.fields[bad]} not OK"),
                TimeElapsedColumn(),
                console=err,
                transient=True,
            )
            self._bar.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        if self._bar is not None:
            self._bar.__exit__(*exc)

    def start(self, assignments: list[Assignment]) -> None:
        if self._bar is not None:
            self._task = self._bar.add_task("patrol", total=len(assignments), bad=0)

    def advance(self, _assignment: Assignment, results: list[Result]) -> None:
        self._bad += sum(r.status is not Status.OK for r in results)
        if self._bar is not None and self._task is not None:
            self._bar.update(self._task, advance=1, bad=self._bad)


def results_table(results: Iterable[Result], title: str | None = None) -> Table:
    table = Table(title=title, title_justify="left", expand=False)
    for column in ("target", "check", "item", "status", "summary"):
        table.add_column(column, overflow="fold")
    for r in sorted(results, key=lambda r: (-r.status.severity, r.target, r.check, r.item)):
        style = STYLE[r.status]
        table.add_row(r.target, r.check, r.item, f"[{style}]{r.status.value}[/]", r.summary)
    return table


def print_results(results: list[Result]) -> None:
    out.print(results_table(results))


def print_patrol(outcome: PatrolOutcome, quiet: bool = False) -> None:
    counts = {s: sum(r.status is s for r in outcome.results) for s in Status}
    if not quiet:
        shown = outcome.results
        title = f"Patrol run {outcome.run_id}"
        if len(shown) > FULL_TABLE_LIMIT:
            shown = [r for r in shown if r.status is not Status.OK]
            title += f" (showing the {len(shown)} results that are not OK)"
        if shown:
            out.print(results_table(shown, title))
        failed = sum(not r.collected for r in outcome.results)
        line = ", ".join(f"[{STYLE[s]}]{counts[s]} {s.value}[/]" for s in Status)
        out.print(f"{len(outcome.results)} results: {line}" + (f"; {failed} could not be collected" if failed else ""))
        out.print(f"Took {outcome.duration_seconds:.1f} s.")
    for fmt, path in outcome.reports.items():
        out.print(f"Report ({fmt}): {path}")
    out.print(f"Worst status: [{STYLE[outcome.status]}]{outcome.status.value}[/]")


def print_deliveries(stats: dict) -> None:
    """One line per notification channel after a one-shot run: what it delivered, what failed."""
    for name, channel in stats.items():
        line = f"Notifications ({name}): {channel.delivered_notices} delivered"
        if channel.failed or channel.dropped:
            line += f", [bold red]{channel.failed} messages failed, {channel.dropped} notices dropped[/]"
            if channel.last_error:
                line += f" ({escape(channel.last_error)})"
        out.print(line)


def print_hosts(hosts: list[Target]) -> None:
    table = Table()
    for column in ("host", "address", "connection", "groups"):
        table.add_column(column)
    for t in hosts:
        connection = "agent" if t.has_agent else t.connection
        table.add_row(t.name, t.address, connection, ", ".join(t.groups))
    out.print(table)
