"""The load test's own code (bench/load_agents.py), small: 300 simulated agents, each with its own token,
push for 20 s to two real `patrol serve` replicas on one real PostgreSQL; then PostgreSQL is counted
directly. Only counts are asserted (nothing about latency: the machine is shared)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.load_agents import run_load  # noqa: E402
from bench.replicas import ReplicaSet  # noqa: E402

pytestmark = pytest.mark.integration


def test_300_agents_on_two_replicas_every_result_stored_exactly_once():
    with ReplicaSet(replicas=2) as fleet:
        tally = run_load(fleet, agents=300, seconds=20, interval=10, drain=30, progress=False)
        logs = "\n".join(f"--- replica {n} ---\n{fleet.log(n)}" for n in range(2))

    assert len(tally.sent) >= 300, "every agent pushed at least once"  # 300 agents x 2 firings in 20 s
    assert not tally.errors, f"{dict(tally.errors)}\n{logs}"
    assert not tally.rejected and not tally.unacked
    assert tally.duplicates == 0  # nothing was retried, so nothing is answered as already held
    assert all(tally.latencies), "both replicas took pushes"
    # Counted in PostgreSQL: every batch id's rows are exactly what was sent, and nothing else is there.
    assert tally.stored == tally.sent
    assert tally.stored_rows == tally.results_sent == tally.results_acked
    assert tally.claimed == len(tally.sent)


def test_a_replica_killed_mid_run_loses_nothing_acknowledged():
    """kill -9 of one replica: its agents fail over to the other with the same batch ids; every batch
    ends up stored exactly once, a batch the dead replica had committed is answered as a duplicate."""
    with ReplicaSet(replicas=2) as fleet:
        tally = run_load(fleet, agents=100, seconds=12, interval=4, kill_at=5, drain=30, progress=False)

    assert tally.killed
    assert {kind for kind, replica in tally.errors} and {replica for kind, replica in tally.errors} == {0}
    assert not tally.rejected and not tally.unacked
    assert not tally.lost and not tally.stored_twice and not tally.unknown
    assert tally.stored == tally.sent  # every batch id: exactly the results sent, once
    assert tally.stored_rows == tally.results_sent
