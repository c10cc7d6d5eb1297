"""Which channels hear of a notice: routes, escalation levels and follow-ups.

- Routes are tried in order; the first that matches decides, unless it says ``continue: true``, in which
  case the routes after it are tried too (Alertmanager's model). No match: the notice goes nowhere.
- An ``escalated`` notice of level n also goes to escalation level n's channels (if its ``match`` holds).
- Follow-ups: a channel that was told about an event is told when it is acknowledged or resolved, even if
  no route sends it those changes (``send_resolved: false`` on a channel turns this off).
"""

from __future__ import annotations

import fnmatch
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from functools import lru_cache

from checks.errors import ConfigError
from collector.config import patterns
from collector.notify.notice import Notice
from collector.notify.settings import Match, NotificationSettings

FOLLOW_UPS = ("acknowledged", "resolved")
ENDS = ("resolved",)  # after these the event's channels are forgotten
MAX_REMEMBERED = 100_000  # open events whose channels are remembered for follow-ups


def matches(match: Match | None, notice: Notice) -> bool:
    if match is None:
        return True
    if match.severity is not None and notice.severity.upper() not in match.severity:
        return False
    if match.change is not None and notice.change not in match.change:
        return False
    if match.check is not None and not any(_glob(p)(notice.check) for p in match.check):
        return False
    if match.group is not None and not set(match.group) & set(notice.groups):
        return False
    if match.target is not None and not target_matches(match.target, notice.target, notice.groups):
        return False
    return all(notice.labels.get(k) == v for k, v in match.labels.items())


def target_matches(pattern: str, target: str, groups: Sequence[str]) -> bool:
    """A host pattern (as in a task's ``hosts:``) over one target: a term matches its name or one of its groups."""
    names = (target, *groups)
    selected = False
    for term in patterns.order(patterns.split(pattern)):
        operator, body = (term[0], term[1:]) if term[0] in "&!" else ("", term)
        hit = body in ("all", "*") or any(_term(body)(name) for name in names)
        if operator == "&":
            selected = selected and hit
        elif operator == "!":
            selected = selected and not hit
        else:
            selected = selected or hit
    return selected


def target_pattern_problem(pattern: str) -> str | None:
    try:
        terms = patterns.split(pattern)
    except ConfigError as exc:
        return str(exc)
    if not terms:
        return "the host pattern is empty; expected a host or group name, a glob, or 'all'"
    for term in terms:
        body = term.lstrip("&!")
        if body.startswith("~"):
            try:
                re.compile(body[1:])
            except re.error as exc:
                return f"{body!r} is not a valid regular expression: {exc}"
    return None


@lru_cache(maxsize=1024)
def _term(body: str) -> Callable[[str], object]:
    if body.startswith("~"):
        return re.compile(body[1:]).match  # anchored at the start, as Ansible does
    return re.compile(fnmatch.translate(body)).match


@lru_cache(maxsize=1024)
def _glob(pattern: str) -> Callable[[str], object]:
    return re.compile(fnmatch.translate(pattern)).match


class Router:
    """Channel names for each notice. Thread-safe: ``route`` may be called from several threads."""

    def __init__(self, settings: NotificationSettings) -> None:
        self.settings = settings
        self._send_resolved = {c.name: c.send_resolved for c in settings.channels}
        self._told: OrderedDict[int, list[str]] = OrderedDict()
        self._lock = threading.Lock()

    def route(self, notice: Notice) -> list[str]:
        names: list[str] = []
        if notice.change == "escalated" and notice.escalation_level >= 1:
            level = notice.escalation_level
            if level <= len(self.settings.escalation):
                step = self.settings.escalation[level - 1]
                if matches(step.match, notice):
                    names.extend(step.channels)
        for route in self.settings.routes:
            if matches(route.match, notice):
                names.extend(route.channels)
                if not route.continue_:
                    break
        with self._lock:
            told = self._told.get(notice.event_id)
            if told is not None and notice.change in FOLLOW_UPS:
                names.extend(n for n in told if self._send_resolved.get(n, True))
            names = list(dict.fromkeys(names))
            if notice.change in ENDS:
                self._told.pop(notice.event_id, None)
            elif names:
                self._told[notice.event_id] = list(dict.fromkeys([*(told or ()), *names]))
                self._told.move_to_end(notice.event_id)
                while len(self._told) > MAX_REMEMBERED:
                    self._told.popitem(last=False)
        return names
