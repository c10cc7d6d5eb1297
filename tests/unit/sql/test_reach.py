"""How the runner reaches database targets: sessions per engine described, no SSH probe first."""

from __future__ import annotations

from checks.registry import default_registry
from checks.target import Target
from collector import reach
from collector.reach import connections_for, reaches_itself


def test_a_database_target_gets_its_engines_sessions_only():
    t = Target("db", {"postgres_port": 5432, "mysql_user": "m", "ansible_host": "127.0.0.1"})
    with reach.RunConnections() as run:
        kinds = connections_for(t, run)
        assert {"postgres", "mysql"} <= set(kinds) and "oracle" not in kinds
        assert "postgres" not in connections_for(Target("web", {}), run)


def test_database_checks_are_not_held_back_by_the_ssh_probe():
    # Port 22 of a database endpoint need not answer: the database checks report reachability themselves.
    db = Target("db", {"ansible_host": "127.0.0.1", "postgres_port": 1})
    for name in ("postgres_connections", "mysql_connections", "oracle_tablespaces"):
        assert reaches_itself(db, default_registry().get(name))
    assert not reaches_itself(db, default_registry().get("disk"))
