"""Opening databases: migrations agree with the models, SQLite is set up right, errors are clear."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from collector.store import Store, StoreError, default_url, mask_url
from collector.store.migrate import alembic_config
from collector.store.models import Base

HEAD = ScriptDirectory.from_config(alembic_config()).get_current_head()


def test_migrated_schema_matches_the_models(tmp_path):
    with Store.open(f"sqlite:///{tmp_path}/p.db") as store, store.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
        assert context.get_current_revision() == HEAD == "0008"


def test_opening_twice_is_harmless(tmp_path):
    url = f"sqlite:///{tmp_path}/p.db"
    with Store.open(url) as store:
        run_id = store.start_run("daily", "d.yaml", "", "run")
    with Store.open(url) as store:
        assert store.get_run(run_id).playbook == "daily"


def test_sqlite_file_in_a_new_directory_with_wal_and_foreign_keys(tmp_path):
    path = tmp_path / "var" / "lib" / "patrol.db"
    with Store.open(f"sqlite:///{path}") as store, store.engine.connect() as conn:
        assert path.is_file()
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() > 0


def test_default_url(monkeypatch):
    monkeypatch.delenv("PATROL_DB", raising=False)
    assert default_url() == "sqlite:///var/patrol.db"
    monkeypatch.setenv("PATROL_DB", "postgresql+psycopg://patrol:pw@db/patrol")
    assert default_url() == "postgresql+psycopg://patrol:pw@db/patrol"
    monkeypatch.setenv("PATROL_DB", "/srv/patrol/patrol.db")
    assert default_url() == "sqlite:////srv/patrol/patrol.db"


def test_mask_url_hides_passwords():
    assert mask_url("postgresql://patrol:s3cret@db:5432/patrol") == "postgresql://patrol:***@db:5432/patrol"
    assert "s3cret" not in mask_url("not a url://patrol:s3cret@db")


@pytest.mark.parametrize(
    "url",
    [
        "nonsense://patrol:s3cret@db/patrol",  # no such dialect
        "postgresql+nosuchdriver://patrol:s3cret@db/patrol",
        "sqlite:////proc/no/such/dir/patrol.db",  # cannot create the directory
        "not-a-url-at-all:s3cret@",
    ],
)
def test_bad_urls_raise_store_error_without_the_password(url):
    with pytest.raises(StoreError) as error:
        Store.open(url)
    assert "s3cret" not in str(error.value)
    assert "cannot" in str(error.value) or "invalid" in str(error.value)


def test_unreachable_database(tmp_path):
    directory = tmp_path / "a-directory"
    directory.mkdir()
    with pytest.raises(StoreError, match="a-directory"):
        Store.open(f"sqlite:///{directory}")  # a directory is not a database file


def test_history_indexes_exist(tmp_path):
    # Metrics are a JSON list on their result since 0002: an item's metric history is read through the
    # item's history index, a scheduled firing's results through (playbook, scheduled_at).
    with Store.open(f"sqlite:///{tmp_path}/p.db") as store:
        inspector = sa.inspect(store.engine)
        indexes = {ix["name"] for ix in inspector.get_indexes("results")}
        assert {"ix_results_target_check_item_started_at", "ix_results_playbook_scheduled_at"} <= indexes
        assert "result_metrics" not in inspector.get_table_names()


def test_open_without_a_url_uses_patrol_db(tmp_path, monkeypatch):
    monkeypatch.setenv("PATROL_DB", str(tmp_path / "env" / "patrol.db"))
    with Store.open() as store:
        store.start_run("daily", "d.yaml", "", "run")
    assert (tmp_path / "env" / "patrol.db").is_file()
