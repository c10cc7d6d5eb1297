"""Prometheus names for Patrol's figures: the unit mapping and the sanitising rules.

A metric ``<name>`` of unit ``<unit>`` reported by check ``<check>`` is published as
``patrol_<check>_<name><suffix>``, where the suffix names the Prometheus base unit:
``%`` -> ``_ratio`` (the value divided by 100), ``B`` -> ``_bytes``, ``s`` -> ``_seconds``,
``B/s`` -> ``_bytes_per_second``, ``/s`` -> ``_per_second``, ``C`` -> ``_celsius``, ``V`` -> ``_volts``,
``W`` -> ``_watts``, ``A`` -> ``_amperes``, ``rpm`` -> ``_rpm``, ``""`` -> no suffix.

Everything here is pure and cached by the caller; ``promtool check metrics`` must find nothing in
any name this module returns, whatever a check (or a site's own check package) calls itself.
"""

from __future__ import annotations

import re

PREFIX = "patrol_"

UNIT_SUFFIXES: dict[str, str] = {
    "": "",
    "%": "_ratio",
    "B": "_bytes",
    "s": "_seconds",
    "B/s": "_bytes_per_second",
    "/s": "_per_second",
    "C": "_celsius",
    "V": "_volts",
    "W": "_watts",
    "A": "_amperes",
    "rpm": "_rpm",  # fan speed: not an SI unit, named as node_exporter's hwmon collector names it
}

# Labels every per-result series carries; a check's own label of the same name is renamed.
RESULT_LABELS = ("target", "check", "item")

# Names Patrol publishes itself, with the sample names their types derive (counter _total,
# histogram _bucket/_sum/_count, and prometheus_client's _created). A check's figure never takes one.
OWN_FAMILIES = {
    "patrol_store_up": "gauge",
    "patrol_check_status": "gauge",
    "patrol_check_collected": "gauge",
    "patrol_check_last_run_timestamp_seconds": "gauge",
    "patrol_agent_last_seen_timestamp_seconds": "gauge",
    "patrol_agent_expected_interval_seconds": "gauge",
    "patrol_agent_results_received": "counter",
    "patrol_events_open": "gauge",
    "patrol_ingest_batches": "counter",
    "patrol_ingest_results": "counter",
    "patrol_ingest_duration_seconds": "histogram",
    "patrol_ingest_batch_size": "histogram",
}
_DERIVED = {"counter": ("_total", "_created"), "histogram": ("_bucket", "_sum", "_count", "_created")}
OWN_NAMES = frozenset(name + suffix for name, kind in OWN_FAMILIES.items() for suffix in ("", *_DERIVED.get(kind, ())))

# Suffixes Prometheus reserves for counters, histograms and summaries: a gauge must not end in one.
RESERVED_SUFFIXES = ("_total", "_count", "_sum", "_bucket")

# Words promtool's linter rejects inside a name (client_golang promlint): metric types, unit
# abbreviations and units that are not base units.
_TYPE_WORDS = {"counter", "gauge", "histogram", "summary"}
_ABBREVIATIONS = {"s", "ms", "us", "ns", "sec", "b", "kb", "mb", "gb", "tb", "pb", "m", "h", "d"}
_BASE_UNITS = {"amperes", "bytes", "celsius", "grams", "joules", "kelvin", "meters", "metres", "seconds", "volts"}
_OTHER_UNITS = {
    "minutes", "hours", "days", "weeks", "kelvins", "fahrenheit", "rankine", "inches", "yards", "miles",
    "bits", "calories", "pounds", "ounces",
    "kelvin",  # promtool 2.42 still calls kelvin a non-base unit
}  # fmt: skip
_UNIT_WORDS = _BASE_UNITS | _OTHER_UNITS
_UNIT_PREFIXES = (
    "pico", "nano", "micro", "milli", "centi", "deci", "deca", "hecto", "kilo", "kibi", "mega", "mibi", "mebi",
    "giga", "gibi", "tera", "tebi", "peta", "pebi",
)  # fmt: skip

# Label names a check may not use as they are: ours, the histogram/summary ones, and those
# Prometheus attaches itself at scrape time (it would rename them to exported_* anyway).
_TAKEN_LABELS = {*RESULT_LABELS, "le", "quantile", "job", "instance"}

_CAMEL_LOWER_UPPER = re.compile(r"([a-z0-9])([A-Z])")
_CAMEL_ACRONYM = re.compile(r"([A-Z]+)([A-Z][a-z])")
_NOT_SNAKE = re.compile(r"[^a-z0-9]+")


def snake(text: str) -> str:
    """``diskUsed.Free-space`` -> ``disk_used_free_space``: lower case ASCII words joined by one ``_``."""
    text = _CAMEL_LOWER_UPPER.sub(r"\1_\2", _CAMEL_ACRONYM.sub(r"\1_\2", text))
    return _NOT_SNAKE.sub("_", text.lower()).strip("_")


def _lint_word(word: str) -> bool:
    if word in _TYPE_WORDS or word in _ABBREVIATIONS or word in _OTHER_UNITS:
        return True
    for prefix in _UNIT_PREFIXES:
        if word.startswith(prefix) and word[len(prefix) :] in _UNIT_WORDS:
            return True
    return False


def _join_lint_words(words: list[str]) -> list[str]:
    """Join each word promtool would reject to its neighbour (``response_ms`` -> ``responsems``).

    Such words mean the producer put a unit or a type into a name; the unit belongs in ``unit``.
    Joining keeps the name readable and distinct without inventing words.
    """
    i = 0
    while i < len(words):
        if len(words) == 1:
            if _lint_word(words[0]):
                words[0] += "value"
            break
        if _lint_word(words[i]):
            if i == 0:
                words[0:2] = [words[0] + words[1]]
            else:
                words[i - 1 : i + 1] = [words[i - 1] + words[i]]
                i -= 1
            continue
        i += 1
    return words


def family_name(check: str, metric: str, unit: str) -> str:
    """The Prometheus family name of figure ``metric`` (of unit ``unit``) of check ``check``.

    Rules, in order: both parts are made snake_case ASCII (anything else becomes ``_``; an empty
    check name becomes ``unnamed``); words promtool rejects (``ms``, ``gauge``, ``minutes`` ...)
    are joined to their neighbour; the unit suffix is added unless the name already ends in it;
    a unitless name ending in ``_total``/``_count``/``_sum``/``_bucket``, or any name equal to one
    of Patrol's own, gets ``_value`` before its unit suffix (``patrol_processes_total`` ->
    ``patrol_processes_total_value``). An unknown unit is treated as none.
    """
    words = [w for w in (snake(check) or "unnamed").split("_") + snake(metric).split("_") if w]
    base = PREFIX + "_".join(_join_lint_words(words))
    suffix = UNIT_SUFFIXES.get(unit, "")
    if suffix and base.endswith(suffix):
        base = base[: -len(suffix)]
    name = base + suffix
    if (not suffix and name.endswith(RESERVED_SUFFIXES)) or name in OWN_NAMES:
        name = base + "_value" + suffix
    return name


def label_name(name: str) -> str:
    """A valid, snake_case label name for a check's own label; never one of ours."""
    label = snake(name) or "label"
    if label[0].isdigit():
        label = "label_" + label
    if label in _TAKEN_LABELS:
        label = "exported_" + label
    return label


def percent(unit: str) -> bool:
    """Whether values of ``unit`` are divided by 100 on the way out (``%`` -> ``_ratio``)."""
    return unit == "%"
