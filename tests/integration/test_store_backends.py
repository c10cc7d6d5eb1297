"""The collector's store on both backends: SQLite (a file) and a private PostgreSQL 15.

Exactly-once ingest (also under concurrency), all-or-nothing batches, API tokens kept as hashes only,
latest_results newest-wins, scheduled runs gathering agents' results, agents' last contact, and the
migrations agreeing with the models.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from checks.result import Metric, Result, ThresholdSpec
from checks.status import Status
from collector.store import IngestOutcome, RunNotFound, Store, StoreError, migrate
from collector.store.engine import create_engine
from collector.store.migrate import alembic_config
from collector.store.models import Base, UTCDateTime

from .pg import empty_database

T0 = dt.datetime(2026, 11, 23, 8, 0, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.integration),
]


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database: a new SQLite file, or the session's PostgreSQL database with its schema emptied."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/patrol.db"
    return empty_database(request.getfixturevalue("postgres_url"))


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    with Store.open(store_url) as store:
        yield store


def result(
    target: str = "web01",
    item: str = "/",
    used: float = 42.0,
    status: Status = Status.OK,
    started_at: dt.datetime = T0,
    check: str = "disk",
    playbook: str | None = "continuous",
    scheduled_at: dt.datetime | None = T0,
) -> Result:
    return Result(
        target=target,
        check=check,
        item=item,
        status=status,
        summary=f"{item} {used}% used",
        metrics=[
            Metric(name="used", value=used, unit="%"),
            Metric(name="free", value=4_187_593_113.6, unit="B", labels={"fs": "xfs"}),
            Metric(name="total", value=107_374_182_400.0, unit="B"),
            Metric(name="inodes_free", value=97.1, unit="%"),
        ],
        thresholds=[ThresholdSpec(metric="used", warning="80", critical="90")],
        started_at=started_at,
        duration_seconds=0.004,
        playbook=playbook,
        scheduled_at=scheduled_at,
    )


def batch(target: str, count: int, started_at: dt.datetime = T0) -> list[Result]:
    return [result(target, f"/srv/{n}", started_at=started_at) for n in range(count)]


def count(store: Store, table: str) -> int:
    with store.engine.connect() as conn:
        return conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()


# -- schema ------------------------------------------------------------------------------------------


def test_migrated_schema_matches_the_models(store):
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    with store.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
        assert context.get_current_revision() == head


def test_upgrading_a_0001_database_keeps_its_metrics_and_downgrading_restores_them(store_url):
    engine = create_engine(store_url)
    typed = {"started_at": UTCDateTime(), "created_at": UTCDateTime(), "thresholds": sa.JSON(), "labels": sa.JSON()}

    def table(name: str, *columns: str) -> sa.TableClause:
        return sa.table(name, *(sa.column(c, typed.get(c)) for c in columns))

    runs = table("patrol_runs", "id", "playbook", "playbook_path", "description", "source", "started_at",
                 "target_count", "check_count")
    results = table("results", "id", "run_id", "target", "check", "item", "status", "summary", "thresholds",
                    "started_at", "duration_seconds", "collected", "created_at")
    metrics = table("result_metrics", "result_id", "name", "value", "unit", "labels")
    with engine.begin() as conn:
        migrate.upgrade(conn, "0001")
        conn.execute(sa.insert(runs), [{"id": 1, "playbook": "daily", "playbook_path": "d.yaml", "description": "",
                                        "source": "run", "started_at": T0, "target_count": 1, "check_count": 1}])
        conn.execute(sa.insert(results), [
            {"id": n, "run_id": 1, "target": "web01", "check": "disk", "item": "/", "status": status,
             "summary": f"/ {used}% used", "thresholds": [], "started_at": T0 + n * HOUR, "duration_seconds": 0.1,
             "collected": True, "created_at": T0}
            for n, status, used in ((1, "OK", 41.0), (2, "WARNING", 85.0))
        ])
        conn.execute(sa.insert(metrics), [
            {"result_id": n, "name": name, "value": value, "unit": unit, "labels": labels}
            for n in (1, 2)
            for name, value, unit, labels in (("used", 40.0 + n, "%", {}), ("free", 1e9 * n, "B", {"fs": "xfs"}))
        ])
        if conn.dialect.name == "postgresql":  # explicit ids: move the sequences past them, as real inserts would
            conn.exec_driver_sql("SELECT setval(pg_get_serial_sequence('results', 'id'), 2)")
            conn.exec_driver_sql("SELECT setval(pg_get_serial_sequence('patrol_runs', 'id'), 1)")

    with Store.open(store_url) as store:
        first, second = store.run_results(1)
        assert [m.value for m in first.metrics] == [41.0, 1e9] and second.metrics[1].labels == {"fs": "xfs"}
        [latest] = store.latest_results()
        assert latest.status is Status.WARNING and latest.metrics == second.metrics
        store.ingest_batch("b1", "web01", [result(item="/", started_at=T0 + 5 * HOUR)])  # ids go on
        assert store.latest_results()[0].started_at == T0 + 5 * HOUR

    with engine.begin() as conn:
        command.downgrade(alembic_config(conn), "0001")
    with engine.connect() as conn:
        rows = conn.execute(sa.select(metrics).order_by(metrics.c.result_id, metrics.c.name.desc())).all()
    engine.dispose()
    assert [(r.result_id, r.name, r.value) for r in rows][:4] == [
        (1, "used", 41.0), (1, "free", 1e9), (2, "used", 42.0), (2, "free", 2e9)
    ]
    assert len(rows) == 8  # and the four of the ingested result
    with Store.open(store_url) as store:
        assert [len(r.metrics) for r in store.run_results(1)] == [2, 2]


def test_opening_a_migrated_database_again_is_harmless(store_url):
    with Store.open(store_url) as store:
        store.ingest_batch("b1", "web01", [result()])
    with Store.open(store_url) as store:
        assert len(store.latest_results()) == 1


# -- exactly once ------------------------------------------------------------------------------------


def test_a_batch_is_stored_once(store):
    results = batch("web01", 3)
    assert store.ingest_batch("web01-000000000001-a", "web01", results) == IngestOutcome(stored=3, duplicate=False)
    assert store.ingest_batch("web01-000000000001-a", "web01", results) == IngestOutcome(stored=0, duplicate=True)
    assert count(store, "results") == 3
    assert count(store, "ingest_batches") == 1
    [agent] = store.agents()
    assert agent.results_received == 3  # the duplicate counted nothing

    with store.engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT run_id, batch_id FROM results")).all()
        received = conn.execute(sa.text("SELECT agent, result_count FROM ingest_batches")).one()
    assert {tuple(row) for row in rows} == {(None, "web01-000000000001-a")}
    assert tuple(received) == ("web01", 3)


def test_the_same_batch_from_two_collectors_at_once_is_stored_once(store, store_url):
    """Two stores (as two collector replicas) ingest the same batches at the same moment, many times."""
    other = Store.open(store_url)
    stores = [store, other]
    rounds = 8
    outcomes: list[list[IngestOutcome]] = [[] for _ in range(rounds)]
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def push(me: int) -> None:
        try:
            for n in range(rounds):
                results = batch("web01", 300, started_at=T0 + n * HOUR)
                barrier.wait(timeout=30)
                outcomes[n].append(stores[me].ingest_batch(f"web01-{n:012d}-race", "web01", results))
        except BaseException as exc:  # noqa: BLE001 - reported by the test thread
            errors.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=push, args=(me,)) for me in (0, 1)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    finally:
        other.close()
    assert not errors, errors
    for pair in outcomes:
        assert sorted(pair, key=lambda o: o.duplicate) == [
            IngestOutcome(stored=300, duplicate=False),
            IngestOutcome(stored=0, duplicate=True),
        ]
    assert count(store, "results") == rounds * 300
    assert count(store, "ingest_batches") == rounds
    assert store.agents()[0].results_received == rounds * 300


def test_concurrent_batches_over_the_same_items_all_store_and_the_newest_wins(store, store_url):
    """Different batches touching the same latest_results rows in different orders: no deadlock, no loss."""
    stores = [store, Store.open(store_url), Store.open(store_url)]
    errors: list[BaseException] = []
    items = [f"/srv/{n}" for n in range(60)]

    def push(me: int) -> None:
        try:
            for n in range(6):
                order = items if (me + n) % 2 else items[::-1]
                started = T0 + (n * 3 + me) * HOUR
                results = [result("web01", item, used=float(me), started_at=started) for item in order]
                stores[me].ingest_batch(f"web01-{me}-{n}", "web01", results)
        except BaseException as exc:  # noqa: BLE001 - reported by the test thread
            errors.append(exc)

    threads = [threading.Thread(target=push, args=(me,)) for me in range(3)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    finally:
        for other in stores[1:]:
            other.close()
    assert not errors, errors
    assert count(store, "results") == 3 * 6 * 60
    latest = store.latest_results()
    assert len(latest) == 60
    newest = T0 + (5 * 3 + 2) * HOUR  # round 5 of the third pusher
    assert {(r.started_at, r.metric("used").value) for r in latest} == {(newest, 2.0)}


def test_a_batch_with_a_bad_row_stores_nothing_and_can_be_retried(store):
    good = batch("web01", 3)
    broken = Result.model_construct(**{**result(item="/bad").__dict__, "summary": None})  # NOT NULL column
    with pytest.raises(StoreError, match="cannot write"):
        store.ingest_batch("web01-000000000007-x", "web01", [*good, broken])
    for table in ("results", "ingest_batches", "latest_results", "agents"):
        assert count(store, table) == 0, table

    assert store.ingest_batch("web01-000000000007-x", "web01", good) == IngestOutcome(stored=3, duplicate=False)


def test_ingest_refuses_bad_arguments(store):
    with pytest.raises(ValueError, match="batch id"):
        store.ingest_batch("", "web01", [result()])
    with pytest.raises(ValueError, match="batch id"):
        store.ingest_batch("x" * 101, "web01", [result()])
    with pytest.raises(ValueError, match="agent"):
        store.ingest_batch("b1", "", [result()])
    with pytest.raises(TypeError):
        store.ingest_batch("b1", "web01", [result(), {"target": "web01"}])  # type: ignore[list-item]
    naive = result().model_copy(update={"scheduled_at": dt.datetime(2026, 11, 23, 8, 0)})
    with pytest.raises(ValueError, match="time zone"):
        store.ingest_batch("b1", "web01", [naive])
    assert count(store, "ingest_batches") == 0
    assert store.ingest_batch("x" * 100, "web01", [result()]).stored == 1


# -- latest results ----------------------------------------------------------------------------------


def test_latest_results_keep_the_newest_result_of_each_item(store):
    store.ingest_batch("b1", "web01", [result(item="/", used=50.0, started_at=T0 + HOUR), result(item="/var")])
    store.ingest_batch("b2", "web01", [result(item="/", used=10.0, started_at=T0)])  # late: older, ignored
    latest = {r.item: r for r in store.latest_results()}
    assert latest["/"].metric("used").value == 50.0 and latest["/"].started_at == T0 + HOUR

    # Equal start time: the result stored later replaces the earlier one.
    store.ingest_batch("b3", "web01", [result(item="/", used=95.0, status=Status.CRITICAL, started_at=T0 + HOUR)])
    # Several results of one item in one batch: the newest stays, wherever it is in the batch.
    store.ingest_batch(
        "b4",
        "web01",
        [
            result(item="/var", used=70.0, started_at=T0 + 3 * HOUR),
            result(item="/var", used=60.0, started_at=T0 + 2 * HOUR),
            result(item="/var", used=65.0, started_at=T0 + HOUR),
        ],
    )
    latest = store.latest_results()
    assert [(r.target, r.check, r.item) for r in latest] == [("web01", "disk", "/"), ("web01", "disk", "/var")]
    root, var = latest
    assert (root.status, root.metric("used").value) == (Status.CRITICAL, 95.0)
    assert (var.metric("used").value, var.started_at) == (70.0, T0 + 3 * HOUR)
    assert var.metrics == result(used=70.0).metrics and var.summary == "/var 70.0% used"
    assert var.duration_seconds == 0.004 and var.collected is True

    with store.engine.connect() as conn:  # result_id points at the history row it copies
        rows = conn.execute(
            sa.text(
                'SELECT l.item, r.started_at = l.started_at AND r.summary = l.summary FROM latest_results l '
                "JOIN results r ON r.id = l.result_id ORDER BY l.item"
            )
        ).all()
    assert [(item, bool(same)) for item, same in rows] == [("/", True), ("/var", True)]


def test_latest_results_are_one_row_per_item(store):
    for n in range(3):
        store.ingest_batch(f"b{n}", "web01", batch("web01", 20, started_at=T0 + n * HOUR))
    store.ingest_batch("c", "web02", batch("web02", 5))
    assert count(store, "results") == 65
    assert count(store, "latest_results") == 25
    assert len(store.latest_results()) == 25


# -- scheduled runs gather agents' results ----------------------------------------------------------


def test_attach_results_links_one_firing_of_one_playbook(store):
    fired = T0 + HOUR
    wanted = [result("web01", "/", scheduled_at=fired), result("web02", "/", scheduled_at=fired)]
    store.ingest_batch("b1", "web01", [wanted[0], result("web01", "/old", scheduled_at=T0)])  # other firing
    store.ingest_batch("b2", "web02", [wanted[1], result("web02", "/x", playbook="other", scheduled_at=fired)])
    store.ingest_batch("b3", "web03", [result("web03", "/", scheduled_at=fired)])  # not a target of the run
    run_id = store.start_run("continuous", "c.yaml", "", "schedule", started_at=fired)

    attached = store.attach_results(run_id, "continuous", fired.astimezone(dt.timezone(-5 * HOUR)), ["web02", "web01"])

    assert attached == wanted
    assert store.run_results(run_id) == wanted
    other_run = store.start_run("continuous", "c.yaml", "", "schedule", started_at=fired)
    assert store.attach_results(other_run, "continuous", fired, ["web01", "web02", "web03"]) == [
        result("web03", "/", scheduled_at=fired)  # the others belong to the first run already
    ]
    assert store.attach_results(run_id, "continuous", fired, []) == []


def test_attach_results_refuses_unknown_runs_and_naive_times(store):
    with pytest.raises(RunNotFound):
        store.attach_results(42, "continuous", T0, ["web01"])
    run_id = store.start_run("continuous", "c.yaml", "", "schedule")
    with pytest.raises(ValueError, match="naive"):
        store.attach_results(run_id, "continuous", dt.datetime(2026, 11, 23, 8, 0), ["web01"])


def test_attach_results_with_many_targets(store):
    targets = [f"host{n:04d}" for n in range(1200)]  # more than one IN (...) list
    for n in range(0, len(targets), 400):
        store.ingest_batch(f"b{n}", "poller", [result(t, "/") for t in targets[n : n + 400]])
    run_id = store.start_run("continuous", "c.yaml", "", "schedule")
    attached = store.attach_results(run_id, "continuous", T0, targets)
    assert [r.target for r in attached] == targets
    assert len(store.run_results(run_id)) == 1200


def test_results_round_trip_through_a_run_on_both_backends(store):
    run_id = store.start_run("daily-patrol", "p.yaml", "", "run")
    stored = [
        result("web01", "/", 91.2, Status.CRITICAL),
        Result(
            target="web01",
            check="uptime",
            status=Status.UNKNOWN,
            summary="cannot check: ssh timed out",
            started_at=T0.astimezone(dt.timezone(dt.timedelta(hours=8))),
            duration_seconds=30.0,
            collected=False,
        ),
    ]
    assert store.add_results(run_id, stored) == 2
    assert store.run_results(run_id) == stored


# -- agents ------------------------------------------------------------------------------------------


def test_agents_last_contact_and_counts(store):
    store.touch_agent("web02", 60.0)
    [web02] = store.agents()
    assert (web02.last_seen, web02.results_received, web02.expected_interval_seconds) == (None, 0, 60.0)

    before = dt.datetime.now(dt.UTC)
    store.ingest_batch("b1", "web01", batch("web01", 4))
    store.ingest_batch("b2", "web02", batch("web02", 2))
    store.ingest_batch("b3", "web02", batch("web02", 3, started_at=T0 + HOUR))
    after = dt.datetime.now(dt.UTC)
    store.touch_agent("web02", 300.0)  # a new plan: a new interval, no contact recorded

    web01, web02_now = store.agents()
    assert web01.name == "web01" and web01.results_received == 4 and web01.expected_interval_seconds is None
    assert before <= web01.first_seen <= web01.last_seen <= after
    assert web02_now.results_received == 5 and web02_now.expected_interval_seconds == 300.0
    assert web02_now.first_seen == web02.first_seen
    assert before <= web02_now.last_seen <= after and web02_now.last_seen.tzinfo == dt.UTC


# -- API tokens --------------------------------------------------------------------------------------


def test_tokens_are_created_authenticated_and_revoked(store):
    agent_id, agent_token = store.create_token("agent", "web01")
    _, other_token = store.create_token("agent", "web01")
    metrics_id, metrics_token = store.create_token("metrics", "prometheus")

    assert agent_token.startswith("pat_") and len(agent_token) == 4 + 43 and agent_token != other_token
    record = store.authenticate(agent_token)
    assert record is not None and (record.id, record.kind, record.name, record.active) == (
        agent_id, "agent", "web01", True
    )
    assert store.authenticate(metrics_token).kind == "metrics"
    for bad in ("", "pat_" + "A" * 43, agent_token + "x", agent_token[:-1]):
        assert store.authenticate(bad) is None

    assert store.revoke_tokens(kind="agent", name="web01") == 2
    assert store.authenticate(agent_token) is None and store.authenticate(other_token) is None
    assert store.revoke_tokens(kind="agent", name="web01") == 0  # already revoked
    assert store.authenticate(metrics_token) is not None
    assert store.revoke_tokens(token_id=metrics_id) == 1
    assert store.authenticate(metrics_token) is None

    listed = store.list_tokens()
    assert [(t.id, t.kind, t.name, t.active) for t in listed] == [
        (agent_id, "agent", "web01", False),
        (agent_id + 1, "agent", "web01", False),
        (metrics_id, "metrics", "prometheus", False),
    ]
    assert all(t.revoked_at >= t.created_at for t in listed)
    assert not any("hash" in field for field in vars(listed[0]))


def test_token_arguments_are_checked(store):
    with pytest.raises(ValueError, match="kind"):
        store.create_token("admin", "root")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="name"):
        store.create_token("agent", "")
    with pytest.raises(ValueError, match="needs"):
        store.revoke_tokens()
    assert store.list_tokens() == []


def test_only_the_hash_of_a_token_reaches_the_database(store):
    tokens = [store.create_token("agent", "web01")[1], store.create_token("metrics", "prometheus")[1]]
    store.revoke_tokens(kind="metrics")

    text = _every_value(store)
    for token in tokens:
        assert hashlib.sha256(token.encode()).hexdigest() in text
        assert token not in text and token.removeprefix("pat_") not in text
    files = _database_files(store)
    assert files, "no database files found to search"
    for path in files:
        data = path.read_bytes()
        for token in tokens:
            assert token.removeprefix("pat_").encode() not in data, path


def _every_value(store: Store) -> str:
    """Every value of every row of every table, as text."""
    lines = []
    with store.engine.connect() as conn:
        inspector = sa.inspect(conn)
        for name in inspector.get_table_names():
            table = sa.table(name, *(sa.column(column["name"]) for column in inspector.get_columns(name)))
            lines += [repr(tuple(row)) for row in conn.execute(sa.select(table))]
    return "\n".join(lines)


def _database_files(store: Store) -> list[Path]:
    """Every file the database keeps: the SQLite file and its WAL, or PostgreSQL's whole data directory."""
    if store.engine.dialect.name == "sqlite":
        database = Path(store.engine.url.database)
        return [p for p in (database, Path(f"{database}-wal")) if p.exists()]
    with store.engine.connect() as conn:
        conn.exec_driver_sql("CHECKPOINT")  # table pages to their files, besides the WAL
        directory = conn.exec_driver_sql("SHOW data_directory").scalar_one()
    return [Path(root, name) for root, _, names in os.walk(directory) for name in names]


@pytest.mark.integration
def test_collectors_opening_a_new_postgresql_database_together_migrate_it_once(postgres_url):
    """Replicas share PostgreSQL (SQLite is one collector's embedded store): they may all start at once."""
    store_url = empty_database(postgres_url)
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def open_store() -> None:
        try:
            barrier.wait(timeout=30)
            Store.open(store_url).close()
        except BaseException as exc:  # noqa: BLE001 - reported by the test thread
            errors.append(exc)

    threads = [threading.Thread(target=open_store) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    with Store.open(store_url) as store:
        assert store.ingest_batch("b1", "web01", [result()]).stored == 1


@pytest.mark.integration
def test_daily_status_counts_take_each_items_last_result_of_the_day(store):
    """The trend chart's figures, the same on both databases: per UTC day, items by their last status."""
    day1, day2 = T0.replace(hour=6), T0.replace(hour=6) + dt.timedelta(days=1)
    store.add_results(None, [
        result("web01", "/", status=Status.CRITICAL, started_at=day1),
        result("web01", "/", status=Status.OK, started_at=day1 + dt.timedelta(hours=3)),  # the day's last: OK
        result("web01", "/var", status=Status.WARNING, started_at=day1),
        result("web02", "/", status=Status.UNKNOWN, started_at=day1),
        result("web01", "/", status=Status.CRITICAL, started_at=day2),
        result("web01", "/var", status=Status.WARNING, started_at=day2),
    ])
    since, until = day1 - dt.timedelta(hours=6), day2 + dt.timedelta(hours=12)
    assert store.daily_status_counts(since, until) == {
        day1.date(): {Status.OK: 1, Status.WARNING: 1, Status.UNKNOWN: 1},
        day2.date(): {Status.CRITICAL: 1, Status.WARNING: 1},
    }
    assert store.daily_status_counts(since, until, {"web02"}) == {day1.date(): {Status.UNKNOWN: 1}}
    assert store.daily_status_counts(day2, until) == {day2.date(): {Status.CRITICAL: 1, Status.WARNING: 1}}


@pytest.mark.integration
def test_daily_used_fits_and_history_agree_on_both_databases(store):
    """Capacity's least-squares sums, computed by SQLite and PostgreSQL alike, from each day's last figure."""
    from collector.report.capacity import fit_forecast, forecast

    day = dt.timedelta(days=1)
    results = [result("web01", "/var", used=50.0 + 2 * n, started_at=T0 + n * day) for n in range(4)]
    results.append(result("web01", "/var", used=10.0, started_at=T0 + 3 * day - dt.timedelta(hours=2)))  # not last
    results.append(result("web02", "/", used=70.0, started_at=T0))
    store.add_results(None, results)
    since, until = T0 - day, T0 + 5 * day
    fits = store.daily_used_fits({"disk"}, since, until)
    history = store.daily_used_history({"disk"}, since, until, targets={"web01"})
    assert list(history) == [("web01", "disk", "/var")]
    assert [v for _, v in history[("web01", "disk", "/var")]] == [50.0, 52.0, 54.0, 56.0]
    fit = fits[("web01", "disk", "/var")]
    assert (fit.n, fit.last, fit.last_at) == (4, 56.0, T0 + 3 * day)
    growth, days = fit_forecast(fit)
    assert growth == pytest.approx(2.0) and days == pytest.approx(22.0)
    assert (growth, days) == pytest.approx(forecast(history[("web01", "disk", "/var")]))
    assert fits[("web02", "disk", "/")].n == 1 and fit_forecast(fits[("web02", "disk", "/")]) == (None, None)


def _daily_rows(store_url: str) -> list[tuple]:
    engine = create_engine(store_url)
    with engine.connect() as conn:
        rows = conn.execute(sa.text(
            'SELECT target, "check", item, day, status, used_percent, result_id FROM daily_results '
            'ORDER BY target, "check", item, day'
        )).all()
    engine.dispose()
    return [(t, c, i, str(day), s, u, r) for t, c, i, day, s, u, r in rows]


@pytest.mark.integration
def test_daily_rollup_keeps_each_days_last_result_and_the_migration_rebuilds_it(store_url):
    """daily_results, kept at ingest: a day's later result replaces its row, an older one arriving late does
    not; only a used metric in % is a used %. Migration 0006 fills the same rows from the stored history."""
    swap = Result(target="web01", check="swap", item="", status=Status.OK, summary="swap", started_at=T0,
                  duration_seconds=0.1, metrics=[Metric(name="used", value=2e9, unit="B")])
    with Store.open(store_url) as store:
        store.add_results(None, [result(used=40.0, started_at=T0), result(used=41.0, started_at=T0 + 2 * HOUR), swap])
        store.ingest_batch("b1", "web01", [result(used=99.0, status=Status.CRITICAL, started_at=T0 + HOUR)])  # late
        store.ingest_batch("b2", "web01", [result(used=45.0, started_at=T0 + 24 * HOUR)])
    kept = _daily_rows(store_url)
    assert kept == [
        ("web01", "disk", "/", "2026-11-23", "OK", 41.0, 2),
        ("web01", "disk", "/", "2026-11-24", "OK", 45.0, 5),
        ("web01", "swap", "", "2026-11-23", "OK", None, 3),
    ]
    engine = create_engine(store_url)
    with engine.begin() as conn:
        command.downgrade(alembic_config(conn), "0005")
    with engine.begin() as conn:
        migrate.upgrade(conn)
    engine.dispose()
    assert _daily_rows(store_url) == kept


@pytest.mark.integration
def test_daily_points_stop_at_the_end_of_the_period_inside_a_day(store):
    """A period ending mid-day (a local day's end, say) takes that day's last result before the end, not the
    rollup's later one; a day whose last result came before the start of the period is left out."""
    store.add_results(None, [
        result(used=50.0, started_at=T0 - 6 * HOUR),  # 02:00 on day 1, before the period
        result(used=60.0, status=Status.WARNING, started_at=T0 + 24 * HOUR),  # 08:00 on day 2
        result(used=70.0, status=Status.CRITICAL, started_at=T0 + 30 * HOUR),  # 14:00 on day 2, after it
    ])
    since, until = T0 - 4 * HOUR, T0 + 28 * HOUR  # 04:00 on day 1 to 12:00 on day 2
    assert store.daily_status_counts(since, until) == {(T0 + 24 * HOUR).date(): {Status.WARNING: 1}}
    history = store.daily_used_history({"disk"}, since, until)
    assert [v for _, v in history[("web01", "disk", "/")]] == [60.0]
    fit = store.daily_used_fits({"disk"}, since, until)[("web01", "disk", "/")]
    assert (fit.n, fit.last, fit.last_at) == (1, 60.0, T0 + 24 * HOUR)
    assert store.daily_status_counts(T0 - 7 * HOUR, until)[T0.date()] == {Status.OK: 1}


def test_results_in_period_are_each_items_newest_result_inside_the_period(store):
    """Whole UTC days come from the rollup and the rest of the period from the results themselves: either
    way each item's newest result that started inside [start, end), whole, and none from outside."""
    midnight = dt.datetime.combine(T0.date(), dt.time(), dt.UTC)
    store.add_results(None, [
        result(item="/", used=50.0, started_at=T0),  # 08:00 day 1
        result(item="/", used=61.0, status=Status.WARNING, started_at=T0 + 10 * HOUR),  # 18:00 day 1
        result(item="/var", used=30.0, started_at=T0 + 20 * HOUR),  # 04:00 day 2
        result(item="/var", used=95.0, status=Status.CRITICAL, started_at=T0 + 30 * HOUR),  # 14:00 day 2
        result(target="db01", item="/", used=20.0, started_at=T0 - 9 * HOUR),  # 23:00 day 0
    ])
    store.add_results(None, [result(item="/", used=40.0, started_at=T0 + 2 * HOUR)])  # late, older

    def picked(start: dt.datetime, end: dt.datetime) -> list[tuple[str, str, float, Status]]:
        return [
            (r.target, r.item, next(m.value for m in r.metrics if m.name == "used"), r.status)
            for r in store.results_in_period(start, end)
        ]

    day1 = (midnight, midnight + 24 * HOUR)
    assert picked(*day1) == [("web01", "/", 61.0, Status.WARNING)]
    full = store.results_in_period(*day1)[0]
    assert (len(full.metrics), full.thresholds[0].critical, full.started_at) == (4, "90", T0 + 10 * HOUR)
    # A local day (UTC+8): 16:00 of day 0 to 16:00 of day 1, partly rollup, partly raw results.
    assert picked(midnight - 8 * HOUR, midnight + 16 * HOUR) == [
        ("db01", "/", 20.0, Status.OK), ("web01", "/", 40.0, Status.OK),
    ]
    # Two days ending mid-day: /var's 14:00 result is after the end, its 04:00 one is inside.
    assert picked(midnight, midnight + 36 * HOUR) == [
        ("web01", "/", 61.0, Status.WARNING), ("web01", "/var", 30.0, Status.OK),
    ]
    assert picked(midnight + 48 * HOUR, midnight + 72 * HOUR) == []
