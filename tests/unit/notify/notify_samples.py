"""Notices for the notifier's unit tests."""

from __future__ import annotations

import datetime as dt

from collector.notify.notice import Notice

AT = dt.datetime(2024, 5, 1, 2, 0, 3, tzinfo=dt.UTC)


def make_notice(event_id: int = 1, *, target: str = "web-01", check: str = "disk", item: str = "/var",
                severity: str = "CRITICAL", state: str = "firing", change: str = "opened",
                summary: str = "92% used (critical at 90%)", groups: tuple[str, ...] = ("linux", "web"),
                escalation_level: int = 0, actor: str | None = None, comment: str | None = None,
                labels: dict[str, str] | None = None, at: dt.datetime = AT) -> Notice:
    return Notice(event_id, f"{target}/{check}/{item}", target, check, item, severity, state, change,  # type: ignore
                  summary, at - dt.timedelta(minutes=12, seconds=5), at, 4, at, groups, escalation_level, actor,
                  comment, labels or {})
