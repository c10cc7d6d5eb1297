"""Opening a database: the default URL, engines with SQLite's pragmas, and errors that name the URL.

Passwords never appear in a message: every URL shown goes through ``mask_url``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pydantic_core
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine, make_url

from collector.errors import StoreError

DEFAULT_URL = "sqlite:///var/patrol.db"  # relative to the current directory
ENV_VAR = "PATROL_DB"
SQLITE_BUSY_TIMEOUT_MS = 30000  # another process's writer (patrol run beside patrol serve): wait, don't fail

# Drivers that are extras of the patrol package, for the "install this" hint.
_DRIVER_EXTRAS = {"postgresql": "postgres", "mysql": "mysql", "oracle": "oracle"}


def default_url() -> str:
    """``$PATROL_DB`` if set (a URL, or a plain path to a SQLite file), else ``sqlite:///var/patrol.db``."""
    value = os.environ.get(ENV_VAR, "").strip()
    if not value:
        return DEFAULT_URL
    if "://" not in value:
        return "sqlite:///" + value
    return value


def mask_url(url: str) -> str:
    """The URL with any password replaced by ``***``, even when the URL does not parse."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - an unparsable URL is masked by hand below
        if "://" in url:
            return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", url)
        return re.sub(r":[^@]*@", ":***@", url)


def create_engine(url: str) -> Engine:
    """An engine for ``url``; for SQLite files, the parent directory is created and pragmas are set."""
    shown = mask_url(url)
    try:
        parsed = make_url(url)
    except Exception as exc:  # noqa: BLE001 - sqlalchemy raises ArgumentError and ValueError here
        raise StoreError(f"invalid database URL {shown!r}: expected e.g. sqlite:///var/patrol.db") from exc
    is_sqlite = parsed.get_backend_name() == "sqlite"
    if (
        is_sqlite
        and parsed.database
        and parsed.database != ":memory:"
        and not parsed.database.startswith("file:")
    ):
        try:
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the directory for {shown}: {exc}") from exc
    try:
        engine = sa.create_engine(parsed, json_serializer=_json_dumps, json_deserializer=_json_loads)
    except ModuleNotFoundError as exc:
        raise StoreError(f"cannot open {shown}: {_driver_hint(parsed.get_backend_name(), exc)}") from exc
    except sa.exc.NoSuchModuleError as exc:
        raise StoreError(
            f"cannot open {shown}: unsupported database {parsed.drivername!r} "
            "(expected sqlite:///PATH or postgresql+psycopg://USER@HOST/DB)"
        ) from exc
    except Exception as exc:  # noqa: BLE001 - NoSuchModuleError, ArgumentError: all mean a bad URL
        raise StoreError(f"cannot open {shown}: {_scrub(str(exc), parsed.password)}") from exc
    if is_sqlite:
        sa.event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def check_connection(engine: Engine) -> None:
    """Connect once so that an unreachable database fails here, with a clear message."""
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except ModuleNotFoundError as exc:
        raise StoreError(f"cannot open {describe(engine)}: {_driver_hint(engine.dialect.name, exc)}") from exc
    except sa.exc.SQLAlchemyError as exc:
        raise StoreError(f"cannot open {describe(engine)}: {error_text(engine, exc)}") from exc


def describe(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


def error_text(engine: Engine, exc: BaseException) -> str:
    """The database's own message, first line only, without the URL's password."""
    cause: Any = getattr(exc, "orig", None) or exc
    text = str(cause).strip().splitlines()[0] if str(cause).strip() else exc.__class__.__name__
    return _scrub(text, engine.url.password)


def _scrub(text: str, password: Any) -> str:
    return text.replace(str(password), "***") if password else text


def _driver_hint(backend: str, exc: ModuleNotFoundError) -> str:
    extra = _DRIVER_EXTRAS.get(backend)
    hint = f" (install it with: pip install 'patrol[{extra}]')" if extra else ""
    return f"the database driver {exc.name or ''} is not installed{hint}".replace("  ", " ")


def _json_dumps(value: Any) -> str:
    """JSON columns' serializer: pydantic-core's, which is faster than ``json.dumps`` and also takes pydantic
    models as they are (ingest hands it a result's ``Metric`` objects without building dicts first)."""
    return pydantic_core.to_json(value).decode()


def _json_loads(text: str | bytes) -> Any:
    return pydantic_core.from_json(text)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets report readers and the writer work at once; SQLite leaves foreign keys off unless asked.
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    finally:
        cursor.close()


@contextmanager
def write_transaction(engine: Engine, lock: Any, immediate: bool = False) -> Iterator[Connection]:
    """A connection in one transaction, committed at the end and rolled back on any error.

    ``lock`` queues this process's writers (SQLite); ``immediate`` takes SQLite's write lock at the
    start (``BEGIN IMMEDIATE``) for transactions that read before they write. Database errors become
    ``StoreError`` with the URL masked.
    """
    try:
        with lock, engine.connect() as conn:
            if immediate and engine.dialect.name == "sqlite":
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.rollback()
                raise
            conn.commit()
    except sa.exc.SQLAlchemyError as exc:
        raise StoreError(f"cannot write to {describe(engine)}: {error_text(engine, exc)}") from exc


@contextmanager
def read_connection(engine: Engine) -> Iterator[Connection]:
    """A connection for reads; database errors become ``StoreError`` with the URL masked."""
    try:
        with engine.connect() as conn:
            yield conn
    except sa.exc.SQLAlchemyError as exc:
        raise StoreError(f"cannot read from {describe(engine)}: {error_text(engine, exc)}") from exc
