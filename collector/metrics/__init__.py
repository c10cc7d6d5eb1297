"""``/metrics``: the collector's Prometheus exposition (docs/metrics.md).

    registry, ingest = build_registry(store)      # store: latest_results() and agents()
    body = render(registry)                        # bytes, served with CONTENT_TYPE
    ingest.observe("stored", len(results), seconds)

A fresh ``CollectorRegistry`` per collector process (never prometheus_client's global one, no
multiprocess mode): ``PatrolCollector`` reads the store at scrape time, ``IngestMetrics`` counts
what the ingest endpoint handles.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from collector.metrics.exposition import CONTENT_TYPE, PatrolFamily, render
from collector.metrics.ingest import OUTCOMES, IngestMetrics
from collector.metrics.names import UNIT_SUFFIXES, family_name, label_name
from collector.metrics.patrol import (
    AgentRecord,
    Descriptions,
    MetricsSource,
    PatrolCollector,
    registry_descriptions,
)

__all__ = [
    "CONTENT_TYPE",
    "OUTCOMES",
    "UNIT_SUFFIXES",
    "AgentRecord",
    "Descriptions",
    "IngestMetrics",
    "MetricsSource",
    "PatrolCollector",
    "PatrolFamily",
    "build_registry",
    "family_name",
    "label_name",
    "registry_descriptions",
    "render",
]


def build_registry(
    source: MetricsSource, *, descriptions: Descriptions | None = None
) -> tuple[CollectorRegistry, IngestMetrics]:
    """A fresh registry holding a ``PatrolCollector`` over ``source`` and the ingest metrics."""
    registry = CollectorRegistry()
    registry.register(PatrolCollector(source, descriptions=descriptions))
    return registry, IngestMetrics(registry)
