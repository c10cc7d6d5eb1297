"""The agent as a process: exit codes, a bounded stop, refusals logged clearly, the token never shown."""

import json
import subprocess
import time

import pytest

from .agent_support import AGENT, AgentProcess, StandInCollector, plan, spooled_keys, wait_until

pytestmark = pytest.mark.integration

TOKEN = "pat_" + "s" * 43


@pytest.fixture
def collector():
    collector = StandInCollector()
    collector.state.tokens[TOKEN] = "web01"
    collector.state.plans["web01"] = plan("web01", [("uptime", {}, "@every 1s"), ("load", {}, "@every 1s")])
    collector.start()
    yield collector
    collector.stop()


@pytest.fixture
def token(tmp_path):
    path = tmp_path / "token"
    path.write_text(TOKEN + "\n")
    path.chmod(0o600)
    return path


def args(collector, token, tmp_path, *extra):
    return ["--collector", collector.url, "--name", "web01", "--token-file", str(token),
            "--spool", str(tmp_path / "spool"), "--push-interval", "0.5", "--max-backoff", "1", "--jitter", "0.2",
            *extra]


def test_sigterm_stops_within_the_flush_bound_even_if_the_collector_hangs(collector, token, tmp_path):
    agent = AgentProcess(args(collector, token, tmp_path), tmp_path / "agent.log")
    wait_until(lambda: len(collector.state.results) >= 2, what="first results stored")
    collector.state.ack_delay_seconds = 30  # the collector takes pushes and never answers in time
    time.sleep(1.5)
    started = time.monotonic()
    assert agent.terminate(timeout=20) == 0
    took = time.monotonic() - started
    assert took < 9, f"took {took:.1f} s to stop"
    log = agent.log()
    assert "SIGTERM: stopping" in log and "stopped; status:" in log
    assert "did not answer within 5 s" in log
    assert spooled_keys(tmp_path / "spool"), "what could not be sent stays spooled"
    assert TOKEN not in log


def test_sigterm_with_the_collector_up_flushes_everything_and_exits_0(collector, token, tmp_path):
    agent = AgentProcess(args(collector, token, tmp_path, "--push-interval", "30"), tmp_path / "agent.log")
    agent.wait_for("plan: 2 checks")
    time.sleep(2.5)
    assert collector.state.results == []  # nothing pushed yet: the push interval is 30 s
    assert agent.terminate() == 0
    assert len(collector.state.results) >= 3  # flushed on the way out
    assert spooled_keys(tmp_path / "spool") == []


def test_plain_http_to_another_machine_exits_78_and_says_why(token, tmp_path):
    done = subprocess.run([str(AGENT), "--collector", "http://192.0.2.10:8000", "--name", "web01", "--token-file",
                           str(token), "--spool", str(tmp_path / "spool")], capture_output=True, text=True, timeout=30)
    assert done.returncode == 78
    assert "refusing plain http:// to 192.0.2.10" in done.stderr and "unencrypted" in done.stderr
    assert not (tmp_path / "spool").exists()


def test_a_second_agent_on_the_same_spool_is_refused(collector, token, tmp_path):
    first = AgentProcess(args(collector, token, tmp_path), tmp_path / "first.log")
    first.wait_for("plan: 2 checks")
    done = subprocess.run([str(AGENT), *args(collector, token, tmp_path)], capture_output=True, text=True,
                          timeout=30)
    assert done.returncode == 73 and "another patrol-agent is using the spool" in done.stderr
    assert first.terminate() == 0


def test_a_refused_token_is_logged_clearly_and_results_stay_spooled(collector, token, tmp_path):
    collector.state.tokens = {"pat_other": "web01"}  # our token was revoked
    (tmp_path / "spool").mkdir()
    (tmp_path / "spool" / "plan.json").write_text(
        '{"etag": null, "plan": ' + json.dumps(collector.state.plans["web01"]) + "}")
    agent = AgentProcess(args(collector, token, tmp_path), tmp_path / "agent.log")
    agent.wait_for("the collector refused the token (401")
    wait_until(lambda: "push: the collector refused the token" in agent.log(), what="push refused")
    assert agent.terminate() == 0
    assert spooled_keys(tmp_path / "spool")
    assert collector.state.results == []
    assert TOKEN not in agent.log()
