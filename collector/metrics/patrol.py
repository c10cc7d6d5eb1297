"""``PatrolCollector``: the store's latest state as Prometheus families, read at scrape time.

A prometheus_client custom collector (anything with ``collect()``). The store is injected as a
*source* with two methods, so this module never imports the store and a test can hand it plain
``Result`` objects. A source that fails is reported as ``patrol_store_up 0``; the scrape itself
never fails.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Protocol

from checks.result import Result
from checks.status import Status
from collector.metrics.exposition import PatrolFamily, escape_label_value
from collector.metrics.names import OWN_FAMILIES, UNIT_SUFFIXES, family_name, label_name, percent

log = logging.getLogger(__name__)


class AgentRecord(Protocol):
    """What the collector reads of an agent (``collector.store``'s ``AgentRecord`` has these fields)."""

    name: str
    last_seen: dt.datetime | None
    expected_interval_seconds: float | None
    results_received: int


class MetricsSource(Protocol):
    """What ``PatrolCollector`` reads: the store, or anything with the same two methods."""

    def latest_results(self) -> Iterable[Result]:
        """The newest result per (target, check, item)."""
        ...

    def agents(self) -> Iterable[AgentRecord]: ...

    def open_event_counts(self) -> Mapping[tuple[str, str], int]:
        """Open events by (severity, state). Optional: a source without it publishes no event family."""
        ...


Descriptions = Callable[[str], Mapping[str, str] | None]

HELP = {
    "patrol_store_up": "1 when the collector could read the store at this scrape, else 0",
    "patrol_check_status": "Status of the newest result per target, check and item as a Nagios code: "
    "0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN",
    "patrol_check_collected": "1 when the newest result's figures were collected, 0 when collection failed "
    "(timeout, error, unreachable target)",
    "patrol_check_last_run_timestamp_seconds": "When the check of the newest result started (Unix time)",
    "patrol_agent_last_seen_timestamp_seconds": "When the agent last pushed results (Unix time); "
    "absent until it first reports",
    "patrol_agent_expected_interval_seconds": "How often the agent is expected to report (its plan's shortest "
    "interval); absent when its plan has no schedule",
    "patrol_agent_results_received": "Results received from the agent",
    "patrol_events_open": "Open events by severity and state (firing or acknowledged)",
}
EVENT_SEVERITIES = ("WARNING", "CRITICAL", "UNKNOWN", "NODATA")
EVENT_STATES = ("firing", "acknowledged")

# By Status member and by its text (a record built without validation may carry the plain string).
_STATUS_CODES = {**{s.value: float(s.code) for s in Status}, **{s: float(s.code) for s in Status}}
_UNIT_WORDS = {"": "", "%": " (%, exported as a 0-1 ratio)", "B": " (bytes)", "s": " (seconds)",
               "B/s": " (bytes per second)", "/s": " (per second)", "C": " (degrees Celsius)", "V": " (volts)",
               "W": " (watts)", "A": " (amperes)", "rpm": " (revolutions per minute)"}  # fmt: skip
_NAME_CACHE_LIMIT = 10_000  # distinct (check, metric, unit) names; garbage in the store cannot grow it further


def registry_descriptions(check: str) -> Mapping[str, str] | None:
    """The ``metrics`` descriptions of ``check`` from the check registry, or None if it cannot be loaded."""
    from checks.registry import default_registry

    try:
        return dict(default_registry().get(check).metrics)
    except Exception:  # noqa: BLE001 - unknown or broken check: fall back to a generic HELP
        return None


def _timestamp(moment: dt.datetime) -> float:
    if moment.tzinfo is None:  # a store may hand back naive UTC datetimes
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.timestamp()


class PatrolCollector:
    """Publishes, per newest result, its status and figures, and per agent its last contact.

    ``source`` provides ``latest_results()`` and ``agents()``; ``descriptions(check)`` gives the HELP
    texts of a check's figures (default: the check registry's ``metrics`` of that check).
    """

    def __init__(self, source: MetricsSource, *, descriptions: Descriptions | None = None) -> None:
        self._source = source
        self._descriptions = descriptions or registry_descriptions
        self._help_cache: dict[str, Mapping[str, str] | None] = {}
        # check -> metric -> unit -> (family name, divide by 100, HELP)
        self._names: dict[str, dict[str, dict[str, tuple[str, bool, str]]]] = {}
        self._cached = 0
        self._label_cache: dict[str, str] = {}

    # -- the prometheus_client collector protocol ---------------------------------------------

    def describe(self) -> list[PatrolFamily]:
        """The fixed families (the registry checks them for clashes; it never reads the store here)."""
        return [PatrolFamily(name, HELP[name], OWN_FAMILIES[name]) for name in HELP]

    def collect(self) -> Iterator[PatrolFamily]:
        up = 1.0
        results: list[Result] | None = None
        agents: list[AgentRecord] | None = None
        try:
            results = list(self._source.latest_results())
        except Exception as exc:  # noqa: BLE001 - any store failure is reported as patrol_store_up 0
            log.warning("metrics: cannot read the latest results: %s", exc, exc_info=log.isEnabledFor(logging.DEBUG))
            up = 0.0
        try:
            agents = list(self._source.agents())
        except Exception as exc:  # noqa: BLE001
            log.warning("metrics: cannot read the agents: %s", exc, exc_info=log.isEnabledFor(logging.DEBUG))
            up = 0.0
        store_up = PatrolFamily("patrol_store_up", HELP["patrol_store_up"])
        store_up.add("", up)
        yield store_up
        if results is not None:
            yield from self.result_families(results)
        if agents is not None:
            yield from self.agent_families(agents)
        counts = getattr(self._source, "open_event_counts", None)
        if counts is not None:
            try:
                yield self.event_family(counts())
            except Exception as exc:  # noqa: BLE001 - the other families still go out
                log.warning("metrics: cannot read the open events: %s", exc)

    def event_family(self, counts: Mapping[tuple[str, str], int]) -> PatrolFamily:
        """Every severity and state, zeros included: a dashboard's series never vanish."""
        family = PatrolFamily("patrol_events_open", HELP["patrol_events_open"])
        for severity in EVENT_SEVERITIES:
            for state in EVENT_STATES:
                family.add(f'severity="{severity}",state="{state}"', float(counts.get((severity, state), 0)))
        return family

    # -- families ---------------------------------------------------------------------------------

    def result_families(self, results: Iterable[Result]) -> list[PatrolFamily]:
        """Status, collected and last run per result, and one gauge family per published figure name.

        The hot loop of a scrape (100,000 series): one label text per result, shared by all its
        series; names looked up in nested dicts rather than by a tuple key (no allocation per figure).
        """
        status = PatrolFamily("patrol_check_status", HELP["patrol_check_status"])
        collected = PatrolFamily("patrol_check_collected", HELP["patrol_check_collected"])
        last_run = PatrolFamily(
            "patrol_check_last_run_timestamp_seconds", HELP["patrol_check_last_run_timestamp_seconds"]
        )
        add_status, add_collected, add_last_run = (
            status.series.setdefault,
            collected.series.setdefault,
            last_run.series.setdefault,
        )
        figures: dict[str, PatrolFamily] = {}
        names = self._names
        codes = _STATUS_CODES
        esc = escape_label_value
        skipped = 0
        first_error: Exception | None = None
        for result in results:
            try:
                check = result.check
                text = f'target="{esc(result.target)}",check="{esc(check)}",item="{esc(result.item)}"'
                add_status(text, codes.get(result.status, 3.0))
                add_collected(text, 1.0 if result.collected else 0.0)
                add_last_run(text, _timestamp(result.started_at))
                if not result.metrics:
                    continue
                by_metric = names.get(check)
                if by_metric is None:
                    by_metric = names[check] = {}
                for metric in result.metrics:
                    by_unit = by_metric.get(metric.name)
                    named = by_unit.get(metric.unit) if by_unit is not None else None
                    if named is None:
                        named = self._name(check, metric.name, metric.unit)
                    name, ratio, help_text = named
                    family = figures.get(name)
                    if family is None:
                        family = figures[name] = PatrolFamily(name, help_text)
                    value = metric.value / 100 if ratio else metric.value
                    if metric.labels:
                        family.series.setdefault(text + self._labels(metric.labels), value)
                    else:
                        family.series.setdefault(text, value)
            except Exception as exc:  # noqa: BLE001 - one malformed record must not hide the others
                skipped += 1
                first_error = first_error or exc
        if skipped:
            log.warning("metrics: skipped %d result(s) that could not be exposed, first: %r", skipped, first_error)
        return [status, collected, last_run, *(figures[name] for name in sorted(figures))]

    def agent_families(self, agents: Iterable[AgentRecord]) -> list[PatrolFamily]:
        last_seen = PatrolFamily(
            "patrol_agent_last_seen_timestamp_seconds", HELP["patrol_agent_last_seen_timestamp_seconds"]
        )
        interval = PatrolFamily(
            "patrol_agent_expected_interval_seconds", HELP["patrol_agent_expected_interval_seconds"]
        )
        received = PatrolFamily("patrol_agent_results_received", HELP["patrol_agent_results_received"], typ="counter")
        for agent in agents:
            try:
                text = f'agent="{escape_label_value(agent.name)}"'
                if agent.last_seen is not None:
                    last_seen.add(text, _timestamp(agent.last_seen))
                if agent.expected_interval_seconds is not None:
                    interval.add(text, float(agent.expected_interval_seconds))
                if agent.results_received is not None:
                    received.add(text, float(agent.results_received))
            except Exception as exc:  # noqa: BLE001
                log.warning("metrics: skipped agent record %r: %r", agent, exc)
        return [last_seen, interval, received]

    # -- names, cached ------------------------------------------------------------------------

    def _name(self, check: str, metric: str, unit: str) -> tuple[str, bool, str]:
        if self._cached >= _NAME_CACHE_LIMIT:
            self._names.clear()
            self._cached = 0
        known = unit if unit in UNIT_SUFFIXES else ""
        named = (family_name(check, metric, known), percent(known), self._help(check, metric, known))
        self._names.setdefault(check, {}).setdefault(metric, {})[unit] = named
        self._cached += 1
        return named

    def _help(self, check: str, metric: str, unit: str) -> str:
        if check not in self._help_cache:
            if len(self._help_cache) >= _NAME_CACHE_LIMIT:
                self._help_cache.clear()
            self._help_cache[check] = self._descriptions(check)
        described = (self._help_cache[check] or {}).get(metric)
        if described:
            return described + (" (exported as a 0-1 ratio)" if percent(unit) else "")
        return f"{metric} reported by the {check} check{_UNIT_WORDS.get(unit, '')}"

    def _labels(self, labels: Mapping[str, str]) -> str:
        """A figure's own labels as label text to append (``,device="sda"``), names made valid."""
        cache = self._label_cache
        out: dict[str, str] = {}
        for name in sorted(labels):
            clean = cache.get(name)
            if clean is None:
                if len(cache) >= _NAME_CACHE_LIMIT:
                    cache.clear()
                clean = cache[name] = label_name(name)
            out.setdefault(clean, str(labels[name]))  # two names that clean alike: the first wins
        return "".join(f',{name}="{escape_label_value(value)}"' for name, value in out.items())
