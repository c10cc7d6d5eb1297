"""The health score (健康评分) of a patrol run, its band and its one-line verdict.

The score starts at 100 and loses points for every finding according to its severity, never going
below 0. A target that returned no results at all counts as one UNKNOWN finding: silence is not
health. The weights and bands below are the only place these numbers live.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from checks.status import Status
from collector.report.labels import labels

# Points deducted per finding. CRITICAL: the service is or will shortly be hurt. UNKNOWN: we cannot
# tell, which must cost more than a WARNING or an unreachable host would look healthier than a busy one.
DEDUCTIONS: dict[Status, int] = {Status.CRITICAL: 10, Status.UNKNOWN: 5, Status.WARNING: 3, Status.OK: 0}

Band = Literal["excellent", "good", "fair", "poor", "critical"]

# (lowest score of the band, band); the first band whose floor the score reaches applies.
BANDS: tuple[tuple[int, Band], ...] = (
    (95, "excellent"),
    (80, "good"),
    (70, "fair"),
    (60, "poor"),
    (0, "critical"),
)


def health_score(statuses: Iterable[Status]) -> int:
    """100 minus the deductions of the given finding statuses, floored at 0."""
    return max(0, 100 - sum(DEDUCTIONS[Status(s)] for s in statuses))


def band(score: int) -> Band:
    return next(name for floor, name in BANDS if score >= floor)


def verdict(
    score: int,
    counts: dict[Status, int],
    targets_with_problems: int,
    targets_total: int,
    not_collected: int,
    silent_targets: int,
    language: str = "en",
) -> str:
    """One line a manager can read: band, score, findings, and whether the assessment is limited.

    ``counts`` are findings per status; ``not_collected`` the results that could not collect and
    ``silent_targets`` the targets that returned nothing.
    """
    zh = language == "zh"
    crit, unknown, warn = (counts.get(s, 0) for s in (Status.CRITICAL, Status.UNKNOWN, Status.WARNING))
    name = labels(language)[band(score)]
    if zh:
        head = f"{name}（{score}/100）："
        if targets_total == 0:
            body = "未巡检任何对象"
        elif crit + unknown + warn == 0 and not silent_targets:
            body = f"{targets_total} 个对象全部正常"
        else:
            body = (
                f"{targets_total} 个对象中 {targets_with_problems} 个存在问题"
                f"（严重 {crit}、未知 {unknown}、警告 {warn}）"
            )
        limits = []
        if not_collected:
            limits.append(f"{not_collected} 项检查未能采集")
        if silent_targets:
            limits.append(f"{silent_targets} 个对象无结果")
        if targets_total == 0:
            limits.append("没有可评估的内容")
        return head + body + (f"；评估受限：{'，'.join(limits)}" if limits else "") + "。"
    head = f"{name} ({score}/100): "
    if targets_total == 0:
        body = "no targets were inspected"
    elif crit + unknown + warn == 0 and not silent_targets:
        body = f"all {targets_total} targets healthy" if targets_total != 1 else "the target is healthy"
    else:
        body = (
            f"{targets_with_problems} of {targets_total} targets need attention "
            f"({crit} critical, {unknown} unknown, {warn} warning)"
        )
    limits = []
    if not_collected:
        limits.append(f"{not_collected} check{'s' if not_collected != 1 else ''} could not collect")
    if silent_targets:
        limits.append(f"{silent_targets} target{'s' if silent_targets != 1 else ''} returned no results")
    if targets_total == 0:
        limits.append("nothing to assess")
    return head + body + (f"; assessment limited: {', '.join(limits)}" if limits else "") + "."
