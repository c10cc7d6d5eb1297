"""The agent as a real process against a real HTTP collector: nothing lost, nothing stored twice.

Results produced are counted by the agent itself (its final status line: ``N spooled``) and compared
with what the collector stored; every stored result is keyed by (target, check, item, scheduled_at),
so a duplicate shows.
"""

import datetime as dt
import time

import pytest

from .agent_support import (
    AgentProcess,
    StandInCollector,
    plan,
    run_counts,
    spooled_keys,
    wait_until,
)

pytestmark = pytest.mark.integration

TOKEN = "pat_" + "t" * 43
CHECKS = [("uptime", {}, "@every 1s"), ("load", {}, "@every 1s"), ("memory", {}, "@every 2s"),
          ("no_such_check", {}, "@every 2s")]


@pytest.fixture
def collector():
    collector = StandInCollector()
    collector.state.tokens[TOKEN] = "web01"
    collector.state.plans["web01"] = plan("web01", CHECKS)
    collector.start()
    yield collector
    collector.stop()


@pytest.fixture
def start_agent(tmp_path, collector):
    token = tmp_path / "token"
    token.write_text(TOKEN + "\n")
    token.chmod(0o600)
    spool = tmp_path / "spool"
    agents = []

    def start(*extra):
        args = ["--collector", collector.url, "--name", "web01", "--token-file", str(token), "--spool", str(spool),
                "--push-interval", "0.5", "--max-backoff", "1", "--plan-interval", "2", "--jitter", "0.3", *extra]
        agent = AgentProcess(args, tmp_path / f"agent{len(agents)}.log")
        agents.append(agent)
        return agent

    start.spool = spool
    yield start
    for agent in agents:
        if agent.proc.poll() is None:
            agent.kill()


def stamp(at: float) -> str:
    return dt.datetime.fromtimestamp(at, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_a_collector_outage_is_spooled_and_delivered_exactly_once(collector, start_agent):
    state = collector.state
    agent = start_agent()
    wait_until(lambda: len(state.results) >= 4, what="first results stored")

    collector.stop()
    down_from = time.time()
    time.sleep(3.5)
    down_to = time.time()
    agent.wait_for("push: cannot reach")
    state.lose_next_acks = 1  # the first batch after the outage is stored but its answer is lost
    collector.start()
    wait_until(lambda: state.duplicates_answered >= 1, what="the batch whose answer was lost sent again")
    wait_until(lambda: "collector reachable again" in agent.log(), what="recovery logged")
    time.sleep(1.0)
    assert agent.terminate() == 0

    spooled, delivered = run_counts(agent.log())
    keys = state.stored_keys()
    assert state.duplicates() == {}
    assert len(keys) == spooled, f"{spooled} produced, {len(keys)} stored"
    assert spooled_keys(start_agent.spool) == []
    # the collector was down for 3.5 s: the results of those firings arrived anyway
    during = [k for k in keys if k[1] == "uptime" and stamp(down_from + 0.5) <= k[3] <= stamp(down_to - 0.5)]
    assert len(during) >= 2, (stamp(down_from), stamp(down_to), sorted(k[3] for k in keys if k[1] == "uptime"))
    # every result names its playbook and its nominal firing time: a multiple of the interval since the epoch
    every = {check: float(schedule.split()[1].rstrip("s")) for check, _, schedule in CHECKS}
    for result in state.results:
        scheduled = dt.datetime.fromisoformat(result["scheduled_at"].replace("Z", "+00:00"))
        assert result["playbook"] == "monitor"
        assert scheduled.timestamp() % every[result["check"]] == 0, result
    unknown = [r for r in state.results if r["check"] == "no_such_check"]
    assert unknown and all(r["status"] == "UNKNOWN" and "not known to this agent" in r["summary"] for r in unknown)


def test_sigkill_loses_nothing_spooled_and_nothing_is_stored_twice(collector, start_agent):
    state = collector.state
    first = start_agent()
    wait_until(lambda: len(state.results) >= 4, what="first results stored")
    collector.stop()
    time.sleep(2.0)  # results pile up in the spool
    state.ack_delay_seconds = 3.0  # the collector stores the next batch, then is slow to say so
    stored_batches = len(state.batches)
    collector.start()
    wait_until(lambda: len(state.batches) > stored_batches, what="a batch stored, its answer not yet sent")
    assert first.kill() == -9  # killed between the collector's commit and its answer

    before = set(state.stored_keys())
    pending = spooled_keys(start_agent.spool)
    assert pending, "the killed agent left nothing in its spool"
    assert before & set(pending), "the batch stored without an answer is still in the spool"

    collector.stop()
    state.ack_delay_seconds = 0.0
    second = start_agent()  # starts while the collector is down: runs the cached plan
    second.wait_for("running the cached plan")
    time.sleep(1.5)
    collector.start()
    wait_until(lambda: set(pending) <= set(state.stored_keys()), what="everything spooled delivered")
    time.sleep(0.5)
    assert second.terminate() == 0

    spooled_second_run, _ = run_counts(second.log())
    keys = state.stored_keys()
    assert state.duplicates() == {}
    assert state.duplicates_answered >= 1  # the resent batch was recognised, not stored again
    assert len(keys) == len(before | set(pending)) + spooled_second_run
    assert spooled_keys(start_agent.spool) == []


def test_a_batch_the_collector_refuses_is_set_aside_and_the_rest_flows(collector, start_agent, tmp_path):
    state = collector.state
    state.fail_next = [422]
    agent = start_agent()
    agent.wait_for("refused by the collector: 422")
    wait_until(lambda: len(state.results) >= 3, what="results after the refused batch")
    assert agent.terminate() == 0
    spooled, _ = run_counts(agent.log())
    rejected = sum(1 for path in (start_agent.spool / "rejected").glob("*.jsonl")
                   for _ in path.read_bytes().splitlines())
    assert rejected >= 1
    assert len(state.results) + rejected == spooled
    assert "422 injected failure 422" in next((start_agent.spool / "rejected").glob("*.reason")).read_text()
