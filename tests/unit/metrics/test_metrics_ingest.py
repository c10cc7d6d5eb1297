"""IngestMetrics: what the ingest endpoint counts, in a fresh registry."""

import pytest
from prometheus_client import CollectorRegistry

from collector.metrics import IngestMetrics, render


def value(registry, name, **labels):
    return registry.get_sample_value(name, labels)


def test_every_outcome_is_published_from_the_start():
    registry = CollectorRegistry()
    IngestMetrics(registry)
    for outcome in ("stored", "duplicate", "rejected"):
        assert value(registry, "patrol_ingest_batches_total", outcome=outcome) == 0
    assert value(registry, "patrol_ingest_results_total") == 0
    assert value(registry, "patrol_ingest_duration_seconds_count") == 0
    assert value(registry, "patrol_ingest_batch_size_count") == 0


def test_observe_counts_batches_results_durations_and_sizes():
    registry = CollectorRegistry()
    ingest = IngestMetrics(registry)
    ingest.observe("stored", 12, 0.02)
    ingest.observe("stored", ["r"] * 3, 0.004)  # the results themselves will do
    ingest.observe("duplicate", 12, 0.001)
    ingest.observe("rejected", 0, 0.0005)
    assert value(registry, "patrol_ingest_batches_total", outcome="stored") == 2
    assert value(registry, "patrol_ingest_batches_total", outcome="duplicate") == 1
    assert value(registry, "patrol_ingest_batches_total", outcome="rejected") == 1
    assert value(registry, "patrol_ingest_results_total") == 15  # only what was stored
    assert value(registry, "patrol_ingest_duration_seconds_count") == 4  # every batch
    assert value(registry, "patrol_ingest_duration_seconds_sum") == pytest.approx(0.0255)
    assert value(registry, "patrol_ingest_duration_seconds_bucket", le="0.001") == 2
    assert value(registry, "patrol_ingest_batch_size_count") == 3  # accepted batches only
    assert value(registry, "patrol_ingest_batch_size_sum") == 27
    assert value(registry, "patrol_ingest_batch_size_bucket", le="5.0") == 1
    assert b'patrol_ingest_batches_total{outcome="stored"} 2.0' in render(registry)


def test_an_unknown_outcome_is_a_programming_error():
    ingest = IngestMetrics(CollectorRegistry())
    with pytest.raises(ValueError, match="unknown ingest outcome 'ok'"):
        ingest.observe("ok", 1, 0.1)


def test_two_collectors_in_one_process_do_not_share_counts():
    first, second = CollectorRegistry(), CollectorRegistry()
    IngestMetrics(first).observe("stored", 5, 0.01)
    IngestMetrics(second)
    assert value(first, "patrol_ingest_results_total") == 5
    assert value(second, "patrol_ingest_results_total") == 0
