"""Migration 0002 keeps what 0001 stored: metric rows move into their results, and back on downgrade."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from alembic import command

from checks.result import Metric
from checks.status import Status
from collector.store import Store, migrate
from collector.store.engine import create_engine
from collector.store.migrate import alembic_config
from collector.store.models import UTCDateTime

T0 = dt.datetime(2026, 11, 23, 8, 0, tzinfo=dt.UTC)


def _sqlite_time(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _store_0001_data(url: str) -> None:
    """A database at revision 0001 with a run, three results (two of one item) and their metric rows."""
    engine = create_engine(url)
    with engine.begin() as conn:
        migrate.upgrade(conn, "0001")
        conn.execute(
            sa.text(
                "INSERT INTO patrol_runs (id, playbook, playbook_path, description, source, started_at, "
                "target_count, check_count) VALUES (1, 'daily', 'd.yaml', '', 'run', :t, 1, 2)"
            ),
            {"t": _sqlite_time(T0)},
        )
        results = [
            (1, "web01", "disk", "/", "OK", "/ 41% used", T0),
            (2, "web01", "disk", "/", "WARNING", "/ 85% used", T0 + dt.timedelta(days=1)),
            (3, "web01", "uptime", "", "OK", "up 3 days", T0),
        ]
        for result_id, target, check, item, status, summary, started_at in results:
            conn.execute(
                sa.text(
                    'INSERT INTO results (id, run_id, target, "check", item, status, summary, thresholds, started_at, '
                    "duration_seconds, collected, created_at) VALUES (:id, 1, :target, :check, :item, :status, "
                    ":summary, '[]', :started_at, 0.5, 1, :started_at)"
                ),
                {"id": result_id, "target": target, "check": check, "item": item, "status": status,
                 "summary": summary, "started_at": _sqlite_time(started_at)},
            )
        metrics = [
            (1, 1, "used", 41.0, "%", "{}"),
            (2, 1, "free", 9.5e9, "B", '{"fs": "xfs"}'),
            (3, 2, "used", 85.0, "%", "{}"),
            (4, 2, "free", 2.5e9, "B", '{"fs": "xfs"}'),
        ]
        conn.execute(
            sa.text(
                "INSERT INTO result_metrics (id, result_id, name, value, unit, labels) "
                "VALUES (:id, :result_id, :name, :value, :unit, :labels)"
            ),
            [dict(zip(("id", "result_id", "name", "value", "unit", "labels"), row, strict=True)) for row in metrics],
        )
    engine.dispose()


def test_upgrade_moves_metric_rows_into_their_results_and_fills_latest_results(tmp_path):
    url = f"sqlite:///{tmp_path}/old.db"
    _store_0001_data(url)

    with Store.open(url) as store:
        back = store.run_results(1)
        latest = store.latest_results()

    assert [(r.check, r.status, [m.name for m in r.metrics]) for r in back] == [
        ("disk", Status.OK, ["used", "free"]),
        ("disk", Status.WARNING, ["used", "free"]),
        ("uptime", Status.OK, []),
    ]
    assert back[1].metrics[1] == Metric(name="free", value=2.5e9, unit="B", labels={"fs": "xfs"})
    assert [(r.check, r.item, r.status, r.started_at) for r in latest] == [
        ("disk", "/", Status.WARNING, T0 + dt.timedelta(days=1)),  # the newest of the two
        ("uptime", "", Status.OK, T0),
    ]
    assert latest[0].metrics == back[1].metrics


def test_downgrade_restores_the_metric_rows(tmp_path):
    url = f"sqlite:///{tmp_path}/old.db"
    _store_0001_data(url)
    Store.open(url).close()

    engine = create_engine(url)
    with engine.begin() as conn:
        command.downgrade(alembic_config(conn), "0001")
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT result_id, name, value, unit, labels FROM result_metrics ORDER BY id")
        ).all()
        assert "latest_results" not in sa.inspect(conn).get_table_names()
    engine.dispose()
    assert [(r.result_id, r.name, r.value, r.unit) for r in rows] == [
        (1, "used", 41.0, "%"), (1, "free", 9.5e9, "B"), (2, "used", 85.0, "%"), (2, "free", 2.5e9, "B")
    ]
    assert '"fs"' in rows[1].labels

    with Store.open(url) as store:  # and up again
        assert [len(r.metrics) for r in store.run_results(1)] == [2, 2, 0]


def test_sqlite_datetime_text_is_the_one_sqlalchemy_writes():
    """UTCDateTime's SQLite shortcut writes exactly what SQLAlchemy's DateTime would (text order = time order)."""
    dialect = sa.create_engine("sqlite://").dialect
    fast = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
    reference = sa.DateTime().dialect_impl(dialect).bind_processor(dialect)
    plus8 = dt.timezone(dt.timedelta(hours=8))
    values = [
        T0,
        T0.replace(microsecond=123456),
        T0.astimezone(plus8),  # the same instant as T0: the same text
        dt.datetime(2026, 1, 1, 7, 59, 59, 999999, tzinfo=plus8),
        T0,
        dt.datetime(1999, 12, 31, 23, 0, tzinfo=dt.timezone(dt.timedelta(hours=-5))),
        T0 + dt.timedelta(seconds=1),
    ]
    for value in values:
        assert fast(value) == reference(value.astimezone(dt.UTC).replace(tzinfo=None)), value
    assert fast(T0.astimezone(plus8)) == fast(T0)
    assert fast(None) is None
    with pytest.raises(ValueError, match="naive"):
        fast(dt.datetime(2026, 1, 1))
