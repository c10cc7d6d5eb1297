"""``IngestMetrics``: what the collector's ingest endpoint counts about the batches it handles."""

from __future__ import annotations

from collections.abc import Sized

from prometheus_client import CollectorRegistry, Counter, Histogram

OUTCOMES = ("stored", "duplicate", "rejected")

DURATION_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# A batch holds 1 to 10,000 results (docs/api.md).
BATCH_SIZE_BUCKETS = (1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000)


class IngestMetrics:
    """Counters and histograms of result batches, registered in ``registry``.

    - ``patrol_ingest_batches_total{outcome}``: every batch, by outcome (stored, duplicate, rejected);
    - ``patrol_ingest_results_total``: results stored (a duplicate or rejected batch stores none);
    - ``patrol_ingest_duration_seconds``: time to handle a batch, every outcome;
    - ``patrol_ingest_batch_size``: results per accepted batch (stored or duplicate); a rejected
      batch has no trustworthy size.
    """

    def __init__(self, registry: CollectorRegistry) -> None:
        self.batches = Counter(
            "patrol_ingest_batches", "Result batches received, by outcome (stored, duplicate, rejected)",
            ["outcome"], registry=registry,
        )  # fmt: skip
        for outcome in OUTCOMES:  # every outcome is published from the start, at 0
            self.batches.labels(outcome)
        self.results = Counter("patrol_ingest_results", "Results stored from pushed batches", registry=registry)
        self.duration = Histogram(
            "patrol_ingest_duration_seconds", "Time to handle one pushed batch, from request to answer",
            buckets=DURATION_BUCKETS, registry=registry,
        )  # fmt: skip
        self.batch_size = Histogram(
            "patrol_ingest_batch_size", "Results per accepted batch (stored or duplicate)",
            buckets=BATCH_SIZE_BUCKETS, registry=registry,
        )  # fmt: skip

    def observe(self, outcome: str, results: int | Sized, seconds: float) -> None:
        """Count one batch: its outcome, its results (a count or the results themselves), its handling time."""
        if outcome not in OUTCOMES:
            raise ValueError(f"unknown ingest outcome {outcome!r}; expected one of {', '.join(OUTCOMES)}")
        count = results if isinstance(results, int) else len(results)
        self.batches.labels(outcome).inc()
        self.duration.observe(max(0.0, seconds))
        if outcome == "rejected":
            return
        self.batch_size.observe(count)
        if outcome == "stored":
            self.results.inc(count)
