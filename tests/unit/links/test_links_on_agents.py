"""The link checks travel in agent plans (parameters as JSON) and run on the agent's own host."""

from __future__ import annotations

import socket

import pytest

from agent.jobs import CheckRunner, CheckScheduler
from agent.plan import parse_plan
from checks.registry import default_registry

PARAMS = {
    "ping": {"hosts": ["db01", "10.0.0.1"], "count": 20, "warning": 20, "critical": "@60:100", "rtt_warning": 0.1},
    "tcp_connect": {"endpoints": ["db01:5432", 22], "connect_timeout": 3, "warning": 0.5},
    "http": {"url": "https://{host}/health", "expected_status": [200, "3xx"], "contains": "UP", "cert_critical": 5},
    "nagios": {"plugin": "check_mysql", "args": ["-H", "{host}", "-p", {"secret": "mysql_password"}], "timeout": 20},
}


@pytest.mark.parametrize("name", sorted(PARAMS))
def test_parameters_survive_the_plan_round_trip(name):
    # The collector puts model_dump(mode="json") in the plan; the agent validates it again.
    check = default_registry().get(name)
    params = check.validate(PARAMS[name])
    assert check.validate(params.model_dump(mode="json")) == params


def test_the_agent_runs_a_link_check_on_its_own_host():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        entries = [{"id": "e0", "playbook": "links", "task": "t", "check": "tcp_connect",
                    "params": {"endpoints": [f"127.0.0.1:{port}"]}, "schedule": "@every 1m"}]  # fmt: skip
        plan = parse_plan({"schema": "patrol.plan/1", "agent": "web01", "checks": entries}, "web01")[0]
        runner = CheckRunner("web01")
        scheduler = CheckScheduler(runner, lambda results: None)
        scheduler.apply(plan)
        [result] = runner.run(scheduler._jobs["e0"])
    assert result.target == "web01" and result.status.value == "OK" and result.item == f"127.0.0.1:{port}"
