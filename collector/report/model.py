"""The inspection report of one patrol run, as data: what every format (HTML, JSON, Markdown) shows.

``build_report`` turns a stored run and its results into a ``Report``; the renderers only lay it
out. The JSON form of ``Report`` is the documented ``patrol.report/1`` schema, so a field added here
is an addition to that schema and a field renamed is a breaking change.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field

from checks.result import Metric, Result
from checks.status import Status
from collector.config.variables import REPORT_CATEGORIES
from collector.report import score
from collector.report.assets import AssetsSection, assets_section
from collector.report.capacity import CapacityRow
from collector.report.events import EventsSection
from collector.report.figures import ObservedValue, key_metrics, observed_text, observed_values
from collector.report.knowledge import KnowledgeBase
from collector.report.labels import labels, normalise_language
from collector.report.score import Band
from collector.store import RunRecord

REPORT_SCHEMA = "patrol.report/1"
CATEGORIES = REPORT_CATEGORIES
STATUS_ORDER = (Status.OK, Status.WARNING, Status.CRITICAL, Status.UNKNOWN)  # as charts and counts show them

Key = tuple[str, str, str]  # target, check, item


@dataclass(frozen=True)
class TargetInfo:
    """A target as the report describes it. ``category`` is one of ``CATEGORIES``."""

    name: str
    address: str = ""
    category: str = "hosts"
    groups: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReportOptions:
    title: str | None = None  # default: "Inspection report" in the report's language
    organisation: str = ""
    inspector: str | None = None  # default: the run's inspector
    reviewer: str = ""
    language: str = "en"  # "en" or "zh" (zh-CN)
    timezone: str | None = None  # IANA name for the times shown; default: this machine's zone

    @classmethod
    def from_settings(cls, settings: object) -> ReportOptions:
        """Options from any object with some of these attributes (a playbook's ``report:`` section);
        a missing attribute or None means the default."""
        if isinstance(settings, ReportOptions):
            return settings
        values = {name: getattr(settings, name, None) for name in cls.__dataclass_fields__}
        return cls(**{name: value for name, value in values.items() if value is not None})


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class Cover(_Model):
    organisation: str
    title: str
    run_id: int | None  # None: a report over a period of the store, not one run
    playbook: str
    playbook_description: str
    started_at: dt.datetime
    finished_at: dt.datetime | None
    duration_seconds: float | None
    inspector: str
    reviewer: str
    patrol_version: str
    schema_version: str = REPORT_SCHEMA
    generated_at: dt.datetime
    timezone: str


class FailedCollection(_Model):
    """A check that could not collect, or (``check`` None) a target that returned nothing."""

    target: str
    check: str | None
    item: str
    reason: str


class Overview(_Model):
    status_counts: dict[Status, int]  # results per status, OK first
    worst_status: Status
    targets_total: int
    targets_by_category: dict[str, int]
    targets_with_problems: int
    targets_failed: int  # returned nothing, or nothing they returned was collected
    checks_run: int  # distinct (target, check) pairs
    results_total: int
    duration_seconds: float | None
    failed_collections: list[FailedCollection]


class Health(_Model):
    score: int = Field(ge=0, le=100)
    band: Band
    verdict: str
    limited: bool  # some checks or targets could not be assessed
    deductions: dict[Status, int]  # points lost per status


class Finding(_Model):
    target: str
    category: str
    check: str
    item: str
    status: Status
    summary: str
    collected: bool
    observed: list[ObservedValue]
    observed_text: str
    trend: Literal["new", "persisting"]
    previous_status: Status | None
    since: dt.datetime | None  # the first result of the current non-OK streak, as far as the store knows
    recommendation: str


class ResolvedFinding(_Model):
    target: str
    check: str
    item: str
    previous_status: Status
    previous_summary: str
    now: Literal["OK", "absent"]  # absent: the target reported, this item no longer appears


class ResultLine(_Model):
    check: str
    item: str
    status: Status
    summary: str
    collected: bool
    key_metrics: list[str]
    metrics: list[Metric]


class TargetSection(_Model):
    name: str
    address: str
    groups: list[str]
    worst_status: Status
    failed: bool
    results: list[ResultLine]

    @property
    def healthy(self) -> bool:
        """Every result OK and collected: the printed report lists such a target on one line."""
        return self.worst_status is Status.OK and not self.failed


class CategorySection(_Model):
    category: str
    targets: list[TargetSection]


class DayStatus(_Model):
    """One day of the health trend: items by the status of their last result that day."""

    day: dt.date
    ok: int
    warning: int
    critical: int
    unknown: int

    @classmethod
    def from_counts(cls, day: dt.date, counts: Mapping[Status, int]) -> DayStatus:
        return cls(day=day, **{s.value.lower(): counts.get(s, 0) for s in STATUS_ORDER})

    def counts(self) -> dict[Status, int]:
        return {s: getattr(self, s.value.lower()) for s in STATUS_ORDER}


class SignOff(_Model):
    inspector: str
    reviewer: str
    date: dt.date


class Report(_Model):
    schema_: Literal["patrol.report/1"] = Field(default=REPORT_SCHEMA, alias="schema")
    language: str
    cover: Cover
    overview: Overview
    health: Health
    findings: list[Finding]
    resolved: list[ResolvedFinding]
    has_previous: bool
    categories: list[CategorySection]
    events: EventsSection | None = None  # None: no event store to read (a report built outside a collector)
    capacity: list[CapacityRow] = Field(default_factory=list)  # the soonest full first
    trend: list[DayStatus] = Field(default_factory=list)  # oldest first; empty without a store
    assets: AssetsSection | None = None  # None: no target ran the facts check
    signoff: SignOff

    def to_json_dict(self) -> dict:
        return self.model_dump(mode="json", by_alias=True)


def build_report(
    run: RunRecord,
    results: Sequence[Result],
    previous: Sequence[Result] | None,
    targets: Sequence[TargetInfo],
    knowledge: KnowledgeBase,
    options: ReportOptions | object = ReportOptions(),
    now: dt.datetime | None = None,
    events: EventsSection | None = None,
    capacity: Sequence[CapacityRow] = (),
    since: Mapping[Key, dt.datetime] | None = None,
    trend: Sequence[DayStatus] = (),
) -> Report:
    """The report of ``run``. ``previous``: the results of the previous run of the same playbook, if any.
    ``events``: the events section (``collector.report.events``), when the store has events.
    ``trend``: the daily health trend (``collector.report.history``).
    ``since``: when each item's current non-OK streak began, from the event engine
    (``collector.report.events.problem_since``); an item it does not know of dates from the earliest
    of its result and, if it was already failing, the previous run's.

    Targets that appear in ``results`` but not in ``targets`` are added as hosts, so nothing is dropped.
    ``options`` may also be any object with the ``ReportOptions`` attributes (a playbook's report settings).
    """
    options = ReportOptions.from_settings(options)
    language = normalise_language(options.language)
    words = labels(language)
    timezone = options.timezone or local_timezone_name()
    zone(timezone)  # an unknown zone fails here, before any work
    now = now or dt.datetime.now(dt.UTC)
    infos = _all_targets(targets, results)
    by_target: dict[str, list[Result]] = defaultdict(list)
    for result in results:
        by_target[result.target].append(result)
    silent = [name for name in infos if not by_target[name]]

    findings = _findings(results, previous, infos, knowledge, language, since or {})
    duration = run.duration_seconds
    if duration is None and results:  # an unfinished run: up to its last result
        ends = [r.started_at + dt.timedelta(seconds=r.duration_seconds) for r in results]
        duration = max(0.0, (max(ends) - run.started_at).total_seconds())
    inspector = options.inspector or run.inspector or ""
    cover = Cover(
        organisation=options.organisation,
        title=options.title or words["default_title"],
        run_id=run.id,
        playbook=run.playbook,
        playbook_description=run.description,
        started_at=run.started_at,
        finished_at=run.finished_at,
        duration_seconds=duration,
        inspector=inspector,
        reviewer=options.reviewer,
        patrol_version=patrol_version(),
        generated_at=now,
        timezone=timezone,
    )
    report_date = (run.finished_at or run.started_at).astimezone(zone(cover.timezone)).date()
    return Report(
        language=language,
        cover=cover,
        overview=_overview(results, infos, by_target, silent, duration, words),
        health=_health(results, findings, infos, silent, language),
        findings=findings,
        resolved=_resolved(results, previous, by_target),
        has_previous=previous is not None,
        categories=_sections(infos, by_target),
        events=events,
        capacity=list(capacity),
        trend=list(trend),
        assets=assets_section(results, previous),
        signoff=SignOff(inspector=inspector, reviewer=options.reviewer, date=report_date),
    )


def _overview(
    results: Sequence[Result],
    infos: dict[str, TargetInfo],
    by_target: dict[str, list[Result]],
    silent: list[str],
    duration: float | None,
    words: dict[str, str],
) -> Overview:
    failed = [
        FailedCollection(target=r.target, check=r.check, item=r.item, reason=r.summary)
        for r in _ordered(results)
        if not r.collected
    ] + [FailedCollection(target=name, check=None, item="", reason=words["no_results"]) for name in silent]
    problem_targets = {r.target for r in results if r.status is not Status.OK} | set(silent)
    return Overview(
        status_counts={s: sum(1 for r in results if r.status is s) for s in STATUS_ORDER},
        worst_status=Status.worst([*(r.status for r in results), *([Status.UNKNOWN] if silent else [])]),
        targets_total=len(infos),
        targets_by_category={c: n for c in _category_order(infos) if (n := _count(infos, c))},
        targets_with_problems=len(problem_targets),
        targets_failed=sum(1 for name in infos if not any(r.collected for r in by_target[name])),
        checks_run=len({(r.target, r.check) for r in results}),
        results_total=len(results),
        duration_seconds=duration,
        failed_collections=failed,
    )


def _health(
    results: Sequence[Result],
    findings: list[Finding],
    infos: dict[str, TargetInfo],
    silent: list[str],
    language: str,
) -> Health:
    deducted = [f.status for f in findings] + [Status.UNKNOWN] * len(silent)  # silence costs as UNKNOWN
    points = score.health_score(deducted)
    not_collected = sum(1 for r in results if not r.collected)
    problem_targets = {f.target for f in findings} | set(silent)
    verdict = score.verdict(
        points,
        {s: sum(1 for f in findings if f.status is s) for s in STATUS_ORDER[1:]},
        targets_with_problems=len(problem_targets),
        targets_total=len(infos),
        not_collected=not_collected,
        silent_targets=len(silent),
        language=language,
    )
    return Health(
        score=points,
        band=score.band(points),
        verdict=verdict,
        limited=bool(not_collected or silent or not infos),
        deductions={s: score.DEDUCTIONS[s] * deducted.count(s) for s in STATUS_ORDER[1:]},
    )


# -- findings and their trend ---------------------------------------------------------------------


def _key(result: Result) -> Key:
    return (result.target, result.check, result.item)


def _ordered(results: Sequence[Result]) -> list[Result]:
    return sorted(results, key=lambda r: (r.target, r.check, r.item))


def _findings(
    results: Sequence[Result],
    previous: Sequence[Result] | None,
    infos: dict[str, TargetInfo],
    knowledge: KnowledgeBase,
    language: str,
    since: Mapping[Key, dt.datetime],
) -> list[Finding]:
    """Every non-OK result, most severe first (CRITICAL, UNKNOWN, WARNING), then target, check, item."""
    before_results = {_key(r): r for r in previous or () if r.status is not Status.OK}
    before = {key: r.status for key, r in before_results.items()}
    problems = sorted(
        (r for r in results if r.status is not Status.OK),
        key=lambda r: (-r.status.severity, r.target, r.check, r.item),
    )
    findings = []
    for result in problems:
        values = observed_values(result, language)
        findings.append(
            Finding(
                target=result.target,
                category=infos[result.target].category,
                check=result.check,
                item=result.item,
                status=result.status,
                summary=result.summary,
                collected=result.collected,
                observed=values,
                observed_text=observed_text(result, values, language),
                trend="persisting" if _key(result) in before else "new",
                previous_status=before.get(_key(result)),
                since=_since(result, since, before_results.get(_key(result))),
                # A failed collection says nothing of the figure: advise on collecting, not on the figure.
                recommendation=knowledge.recommend(
                    result.check, result.item, result.status if result.collected else Status.UNKNOWN, language
                ),
            )
        )
    return findings


def _since(result: Result, known: Mapping[Key, dt.datetime], before: Result | None) -> dt.datetime:
    first = known.get(_key(result))
    if first is not None and first <= result.started_at:
        return first
    return min(result.started_at, before.started_at) if before is not None else result.started_at


def _resolved(
    results: Sequence[Result], previous: Sequence[Result] | None, by_target: dict[str, list[Result]]
) -> list[ResolvedFinding]:
    """Previous findings that are OK now, or gone from a target that did report.

    Gone counts as resolved only when the target's same check collected this time: if the check
    failed as a whole (one UNKNOWN without its items), the old item's state is simply not known.
    """
    now = {_key(r): r for r in results}
    resolved = []
    for old in _ordered([r for r in previous or () if r.status is not Status.OK]):
        current = now.get(_key(old))
        if current is not None:
            if current.status is Status.OK:
                resolved.append(_resolution(old, "OK"))
            continue
        same_check = [r for r in by_target.get(old.target, []) if r.check == old.check]
        reported = any(r.collected for r in by_target.get(old.target, []))
        if reported and all(r.collected for r in same_check):
            resolved.append(_resolution(old, "absent"))
    return resolved


def _resolution(old: Result, now: Literal["OK", "absent"]) -> ResolvedFinding:
    return ResolvedFinding(
        target=old.target,
        check=old.check,
        item=old.item,
        previous_status=old.status,
        previous_summary=old.summary,
        now=now,
    )


# -- per-target sections --------------------------------------------------------------------------


def _all_targets(targets: Sequence[TargetInfo], results: Sequence[Result]) -> dict[str, TargetInfo]:
    infos = {t.name: t for t in targets}
    for result in results:
        infos.setdefault(result.target, TargetInfo(name=result.target, address=result.target))
    return infos


def _category_order(infos: dict[str, TargetInfo]) -> list[str]:
    extra = sorted({t.category for t in infos.values()} - set(CATEGORIES))
    return [*CATEGORIES, *extra]


def _count(infos: dict[str, TargetInfo], category: str) -> int:
    return sum(1 for t in infos.values() if t.category == category)


def _sections(infos: dict[str, TargetInfo], by_target: dict[str, list[Result]]) -> list[CategorySection]:
    sections = []
    for category in _category_order(infos):
        members = sorted((t for t in infos.values() if t.category == category), key=lambda t: t.name)
        if not members:
            continue
        tables = []
        for info in members:
            rows = _ordered(by_target.get(info.name, []))
            tables.append(
                TargetSection(
                    name=info.name,
                    address=info.address or info.name,
                    groups=list(info.groups),
                    worst_status=Status.worst(r.status for r in rows) if rows else Status.UNKNOWN,
                    failed=not any(r.collected for r in rows),
                    results=[
                        ResultLine(
                            check=r.check,
                            item=r.item,
                            status=r.status,
                            summary=r.summary,
                            collected=r.collected,
                            key_metrics=key_metrics(r.metrics, r.thresholds),
                            metrics=r.metrics,
                        )
                        for r in rows
                    ],
                )
            )
        sections.append(CategorySection(category=category, targets=tables))
    return sections


# -- environment ----------------------------------------------------------------------------------


def patrol_version() -> str:
    try:
        return importlib.metadata.version("patrol")
    except importlib.metadata.PackageNotFoundError:
        return "dev"


def local_timezone_name() -> str:
    """This machine's IANA zone name (tzlocal, when installed), else its current UTC offset."""
    try:
        import tzlocal  # an apscheduler dependency, so present with the collector extra

        return tzlocal.get_localzone_name() or "UTC"
    except Exception:  # noqa: BLE001 - no tzlocal, or no zone configured: fall back to the offset
        offset = dt.datetime.now().astimezone().utcoffset() or dt.timedelta(0)
        return _offset_name(offset)


def _offset_name(offset: dt.timedelta) -> str:
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def zone(name: str) -> dt.tzinfo:
    """The zone the report's times are shown in: an IANA name ('Asia/Shanghai') or an offset ('+08:00')."""
    offset = re.fullmatch(r"([+-])(\d\d):(\d\d)", name)
    if offset:
        sign = 1 if offset[1] == "+" else -1
        return dt.timezone(sign * dt.timedelta(hours=int(offset[2]), minutes=int(offset[3])))
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {name!r}: expected e.g. 'Asia/Shanghai', 'UTC' or '+08:00'"
        ) from None
