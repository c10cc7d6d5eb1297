"""The text exposition: ``render(registry)`` and a metric family that renders itself quickly.

prometheus_client formats every sample generically (a dict of labels, sorted and escaped, per
sample): about 6 µs a series, too slow for the 100,000 series a large site has. Patrol's
families (``PatrolFamily``) keep their series as ready-escaped label text shared by every
series of a result, so ``render`` writes them with one f-string each; any other family in the
registry (the ingest counters and histograms) goes through prometheus_client's own
``generate_latest``. A ``PatrolFamily`` is still a normal ``Metric``: its ``samples`` are built on
first access, so ``generate_latest``, ``get_sample_value`` and OpenMetrics output work on it too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4, generate_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector
from prometheus_client.samples import Sample

# The Prometheus text format, version 0.0.4: what generate_latest writes and what every
# Prometheus server reads.
CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4

LabelPairs = tuple[tuple[str, str], ...]

_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
_ESCAPED = re.compile(r"\\(.)")
_UNESCAPE = {"n": "\n", "\\": "\\", '"': '"'}


def escape_label_value(value: str) -> str:
    if "\\" in value or '"' in value or "\n" in value:
        return value.replace("\\", r"\\").replace("\n", r"\n").replace('"', r"\"")
    return value


def label_text(pairs: LabelPairs) -> str:
    """``(("target", "db01"), ...)`` -> ``target="db01",...`` (escaped; names must be valid already)."""
    return ",".join(f'{name}="{escape_label_value(value)}"' for name, value in pairs)


def parse_label_text(text: str) -> dict[str, str]:
    """The inverse of ``label_text``."""
    return {
        name: _ESCAPED.sub(lambda m: _UNESCAPE.get(m.group(1), m.group(0)), value)
        for name, value in _LABEL.findall(text)
    }


def format_value(value: float) -> str:
    text = repr(float(value))
    if text[-1] in "fn":  # inf, -inf, nan
        return {"inf": "+Inf", "-inf": "-Inf"}.get(text, "NaN")
    return text


def _escape_help(text: str) -> str:
    return text.replace("\\", r"\\").replace("\n", r"\n")


class PatrolFamily(Metric):
    """A gauge or counter family whose series are kept as {escaped label text: value}.

    A second series with the same labels is ignored (the first one wins), so an exposition never
    carries duplicate series, whatever the store returns. Keeping one string and one float per
    series, and no tuple or dict, matters: 100,000 small containers would wake the cyclic garbage
    collector dozens of times per scrape, and each of its full passes walks every object alive.
    """

    def __init__(self, name: str, documentation: str, typ: str = "gauge") -> None:
        self.series: dict[str, float] = {}
        super().__init__(name, documentation, typ)
        self.sample_name = name + "_total" if typ == "counter" else name

    def add(self, text: str, value: float) -> None:
        """Add a series by its label text (``label_text``), unless one with the same labels exists."""
        self.series.setdefault(text, value)

    def __len__(self) -> int:
        return len(self.series)

    # prometheus_client reads and writes ``samples``: build them on demand from the series.
    @property  # type: ignore[override]
    def samples(self) -> list[Sample]:
        name = self.sample_name
        return [Sample(name, parse_label_text(text), float(v), None, None, None) for text, v in self.series.items()]

    @samples.setter
    def samples(self, value: list[Sample]) -> None:
        self.series = {}
        for sample in value:
            self.add_sample(sample.name, sample.labels, sample.value)

    def add_sample(self, name: str, labels: dict[str, str], value: float, *args: object, **kwargs: object) -> None:
        self.add(label_text(tuple(labels.items())), value)

    def text(self) -> str:
        """This family in the text format, HELP and TYPE lines first."""
        name = self.sample_name
        head = f"# HELP {name} {_escape_help(self.documentation)}\n# TYPE {name} {self.type}\n"
        fmt = format_value
        lines = [
            f"{name}{{{text}}} {fmt(value)}\n" if text else f"{name} {fmt(value)}\n"
            for text, value in self.series.items()
        ]
        return head + "".join(lines)


class _Families:
    def __init__(self, families: Sequence[Metric]) -> None:
        self._families = families

    def collect(self) -> Iterable[Metric]:
        return self._families


def render(registry: Collector) -> bytes:
    """The registry's exposition in the Prometheus text format (``CONTENT_TYPE``).

    Byte for byte what ``generate_latest`` writes for the other families; Patrol's families are
    written directly, with the same HELP, TYPE, names, labels and values (labels unsorted).
    """
    parts: list[bytes] = []
    pending: list[Metric] = []
    for family in registry.collect():
        if isinstance(family, PatrolFamily):
            if pending:
                parts.append(generate_latest(_Families(pending)))
                pending = []
            # A lone surrogate in a label value cannot be UTF-8: replace it rather than fail the scrape.
            parts.append(family.text().encode("utf-8", "replace"))
        else:
            pending.append(family)
    if pending:
        parts.append(generate_latest(_Families(pending)))
    return b"".join(parts)
