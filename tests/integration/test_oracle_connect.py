"""The only Oracle paths that run for real here: python-oracledb (thin mode) connecting to a closed port
and to a port that accepts TCP but never answers. No Oracle server can run on this machine; the checks'
logic is tested on recorded result sets (tests/unit/sql/test_oracle_recorded.py)."""

from __future__ import annotations

import socket
import time

import pytest

from checks.base import CheckContext
from checks.registry import default_registry
from checks.status import Status
from checks.target import Target

from .pg import free_port

pytestmark = pytest.mark.integration


def oracle_target(port: int) -> Target:
    return Target(
        "orcl",
        {
            "oracle_host": "127.0.0.1",
            "oracle_port": port,
            "oracle_service_name": "ORCL",
            "oracle_user": "patrol",
            "oracle_password": {"env": "PATROL_TEST_ORA_PW"},
            "oracle_connect_timeout": 2,
        },
    )


def run(tgt):
    check = default_registry().get("oracle_tablespaces")
    start = time.monotonic()
    [r] = check.execute(CheckContext(target=tgt), check.validate({"timeout": 60}))
    return r, time.monotonic() - start


def test_closed_port(monkeypatch):
    monkeypatch.setenv("PATROL_TEST_ORA_PW", "Ora-Secret-77")
    r, took = run(oracle_target(free_port()))
    assert r.status is Status.CRITICAL and "cannot connect" in r.summary and "DPY-" in r.summary
    assert "Ora-Secret-77" not in r.summary and took < 3


def test_a_listener_that_never_answers_costs_the_connect_timeout(monkeypatch):
    """oracledb's tcp_connect_timeout bounds only the TCP connect: the executor's backstop bounds the rest."""
    monkeypatch.setenv("PATROL_TEST_ORA_PW", "Ora-Secret-77")
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        r, took = run(oracle_target(silent.getsockname()[1]))
    assert r.status is Status.CRITICAL and "no answer" in r.summary and "within 2 s" in r.summary
    assert 2 <= took < 5, took
