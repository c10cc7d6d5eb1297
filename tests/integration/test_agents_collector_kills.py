"""Real agents pushing to a real collector that is SIGKILLed again and again: every result the agents
produced ends up in the store exactly once (counted from the agents' own tallies)."""
import time

import pytest
import sqlalchemy as sa

from .agent_support import AgentProcess, run_counts, spooled_keys, wait_until
from .collector_support import PLAYBOOK, Collector

pytestmark = pytest.mark.integration

AGENTS = ("web01", "web02")


def stored_by_agent(collector) -> dict[str, list[tuple]]:
    engine = sa.create_engine(collector.db)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text('SELECT target, "check", item, scheduled_at FROM results')).all()
    finally:
        engine.dispose()
    out: dict[str, list[tuple]] = {agent: [] for agent in AGENTS}
    for target, check, item, scheduled_at in rows:
        out.setdefault(target, []).append((check, item, str(scheduled_at)))
    return out


def test_agents_deliver_everything_once_through_repeated_collector_kills(tmp_path):
    collector = Collector(tmp_path / "collector")
    collector.root.mkdir()
    collector.write_files({"agents": PLAYBOOK.format(name="agents", schedule="@every 1s", hosts="agents")})
    agents = {}
    for name in AGENTS:
        token = tmp_path / f"{name}.token"
        token.write_text(collector.create_token("agent", name) + "\n")
        token.chmod(0o600)
    collector.start()
    try:
        for name in AGENTS:
            agents[name] = AgentProcess(
                ["--collector", collector.url, "--name", name, "--token-file", str(tmp_path / f"{name}.token"),
                 "--spool", str(tmp_path / f"spool-{name}"), "--push-interval", "0.3", "--max-backoff", "1",
                 "--jitter", "0.2"],
                tmp_path / f"{name}.log",
            )
        for name in AGENTS:
            agents[name].wait_for("plan: 2 checks")
        for _ in range(4):  # let results flow, then kill the collector mid-stream, and again
            time.sleep(1.5)
            collector.kill()
            time.sleep(1.0)
            collector.start()
        wait_until(lambda: all(len(v) >= 8 for v in stored_by_agent(collector).values()), timeout=30,
                   what="deliveries after the last restart")
        time.sleep(1.0)
        for name in AGENTS:
            assert agents[name].terminate() == 0, agents[name].log()[-2000:]
    finally:
        for agent in agents.values():
            if agent.proc.poll() is None:
                agent.kill()
        collector.kill(15)

    stored = stored_by_agent(collector)
    for name in AGENTS:
        produced, _ = run_counts(agents[name].log())
        left = spooled_keys(tmp_path / f"spool-{name}")
        assert len(stored[name]) + len(left) == produced, (name, produced, len(stored[name]), len(left))
        assert len(set(stored[name])) == len(stored[name]), f"{name}: a result was stored twice"
        assert left == [], f"{name}: {len(left)} results were still spooled after SIGTERM"
