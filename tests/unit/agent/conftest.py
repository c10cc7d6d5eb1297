"""An agent built on a scratch spool, with a scripted collector client."""

from __future__ import annotations

import pytest

from agent.config import AgentConfig


@pytest.fixture
def config(tmp_path):
    token = tmp_path / "token"
    token.write_text("pat_" + "B" * 43 + "\n")
    return AgentConfig(collector="http://127.0.0.1:9", name="web01", token_file=token, spool=tmp_path / "spool",
                       push_interval=1, max_backoff=4, jitter=0.5)


@pytest.fixture
def make_agent(config):
    from agent.service import Agent

    made = []

    def build(client=None, **kwargs):
        from agent_fakes import FakeClient

        agent = Agent(config, client=client or FakeClient(), **kwargs)
        made.append(agent)
        return agent

    yield build
    for agent in made:
        agent.close()
