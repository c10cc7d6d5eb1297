"""The agent against the real collector (`patrol serve`, SQLite): delivered through an outage, exactly once,
each result with its playbook and nominal firing time."""

import datetime as dt
import time

import pytest
import sqlalchemy as sa

from .agent_support import AgentProcess, run_counts, spooled_keys, wait_until
from .collector_support import PLAYBOOK, Collector

pytestmark = pytest.mark.integration


def query(collector, sql):
    engine = sa.create_engine(collector.db)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text(sql)).all()
    finally:
        engine.dispose()


def stored(collector) -> int:
    return query(collector, "SELECT count(*) FROM results WHERE target = 'web01'")[0][0]


def test_the_agent_delivers_to_patrol_serve_through_a_collector_crash(tmp_path):
    collector = Collector(tmp_path / "collector")
    collector.root.mkdir()
    collector.write_files({"agents": PLAYBOOK.format(name="agents", schedule="@every 1s", hosts="agents")})
    token = collector.create_token("agent", "web01")
    (tmp_path / "token").write_text(token + "\n")
    (tmp_path / "token").chmod(0o600)
    collector.start()
    agent = AgentProcess(["--collector", collector.url, "--name", "web01", "--token-file", str(tmp_path / "token"),
                          "--spool", str(tmp_path / "spool"), "--push-interval", "0.5", "--max-backoff", "1",
                          "--jitter", "0.2"], tmp_path / "agent.log")
    try:
        agent.wait_for("plan: 2 checks")
        wait_until(lambda: stored(collector) >= 4, timeout=20, what="first results stored")
        collector.kill()  # SIGKILL: the agent spools meanwhile
        time.sleep(2.5)
        collector.start()
        wait_until(lambda: "collector reachable again" in agent.log(), timeout=20, what="delivery resumed")
        time.sleep(1.0)
        assert agent.terminate() == 0
    finally:
        if agent.proc.poll() is None:
            agent.kill()
        collector.kill(15)

    spooled, _ = run_counts(agent.log())
    assert spooled_keys(tmp_path / "spool") == []
    rows = query(collector, "SELECT \"check\", item, scheduled_at, playbook FROM results WHERE target = 'web01'")
    assert len(rows) == spooled, f"{spooled} produced, {len(rows)} stored"
    assert len({(c, i, s) for c, i, s, _ in rows}) == len(rows), "a result was stored twice"
    for check, _, scheduled_at, playbook in rows:
        assert playbook == "agents" and check in ("memory", "uptime")
        when = scheduled_at if isinstance(scheduled_at, dt.datetime) else dt.datetime.fromisoformat(str(scheduled_at))
        assert when.microsecond == 0
