"""How the runner reaches database targets: sessions per engine described, no SSH probe first."""

from __future__ import annotations

from checks.target import Target
from collector import reach
from collector.reach import blocked, connections_for


def test_a_database_target_gets_its_engines_sessions_only():
    t = Target("db", {"postgres_port": 5432, "mysql_user": "m", "ansible_host": "127.0.0.1"})
    with reach.RunConnections() as run:
        kinds = connections_for(t, run)
        assert {"postgres", "mysql"} <= set(kinds) and "oracle" not in kinds
        assert "postgres" not in connections_for(Target("web", {}), run)


def test_a_database_endpoint_is_not_probed_over_ssh():
    # Port 22 of 127.0.0.1 need not answer: the database checks report reachability themselves.
    assert blocked(Target("db", {"ansible_host": "127.0.0.1", "postgres_port": 1})) is None
