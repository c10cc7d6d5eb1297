"""Queries as data: ``queries/<engine>.yaml`` holds each query's SQL and its typed result columns.

    connections:                      # the query's name, used by the checks
      columns: {used: int, max_connections: int}
      variants:                       # the first that fits the server is run
        - {flavor: mysql, min_version: 80022, sql: "SHOW REPLICA STATUS", rename: {Replica_IO_Running: io_running}}
        - {sql: "SHOW SLAVE STATUS", rename: {Slave_IO_Running: io_running}}

A variant may name a ``flavor`` (the server's kind: ``mysql``/``mariadb``; ``cdb``/``noncdb`` for
Oracle; ``postgres``) and a ``min_version`` (an integer such as PostgreSQL's ``server_version_num``,
or 100501 for 10.5.1). ``rename`` maps a returned column to a declared one. Result column names are
matched case-insensitively (Oracle answers in upper case). Types: int, float, str, bool, datetime.
"""

from __future__ import annotations

import datetime as dt
import decimal
import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from checks.sql.errors import SqlConfigError

QUERY_DIR = Path(__file__).parent / "queries"
TYPES = ("int", "float", "str", "bool", "datetime")


@dataclass(frozen=True)
class Variant:
    sql: str
    flavor: str | None = None
    min_version: int = 0
    rename: dict[str, str] = field(default_factory=dict)

    def fits(self, flavor: str, version: int) -> bool:
        return (self.flavor is None or self.flavor == flavor) and version >= self.min_version


@dataclass(frozen=True)
class Query:
    name: str
    columns: dict[str, str]
    variants: tuple[Variant, ...]

    def variant_for(self, flavor: str, version: int) -> Variant | None:
        return next((v for v in self.variants if v.fits(flavor, version)), None)


@functools.cache
def load_queries(engine: str) -> dict[str, Query]:
    path = QUERY_DIR / f"{engine}.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    queries = {}
    for name, spec in data.items():
        columns = dict(spec["columns"])
        bad = {c: t for c, t in columns.items() if t not in TYPES}
        if bad:
            raise SqlConfigError(f"{path}: {name}: unknown column types {bad} (expected one of {TYPES})")
        raw = spec.get("variants") or [{"sql": spec["sql"]}]
        variants = tuple(
            Variant(
                sql=v["sql"].strip(),
                flavor=v.get("flavor"),
                min_version=int(v.get("min_version", 0)),
                rename={k.lower(): n for k, n in (v.get("rename") or {}).items()},
            )
            for v in raw
        )
        queries[name] = Query(name, columns, variants)
    return queries


def convert(value: Any, kind: str) -> Any:
    """A driver's value as the declared type (None stays None: a NULL is information)."""
    if value is None:
        return None
    if kind == "int":
        return int(value)
    if kind == "float":
        return float(value)
    if kind == "bool":
        if isinstance(value, str):
            return value.strip().upper() in ("YES", "Y", "TRUE", "T", "ON", "1")
        return bool(value)
    if kind == "datetime":
        if isinstance(value, dt.datetime):
            return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        raise TypeError(f"expected a timestamp, got {type(value).__name__}")
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, decimal.Decimal):
        return str(value)
    return str(value)


def shape(query: Query, variant: Variant, names: list[str], rows: list[tuple]) -> list[dict[str, Any]]:
    """Rows as dicts of the declared columns, converted to their types."""
    if not rows:
        return []  # some statements (SHOW SLAVE STATUS on a primary) answer no rows and no columns
    index: dict[str, int] = {}
    for i, name in enumerate(names):
        declared = variant.rename.get(name.lower(), name.lower())
        index.setdefault(declared, i)
    missing = [c for c in query.columns if c not in index]
    if missing:
        raise ValueError(f"the result has no column(s) {', '.join(missing)} (got {', '.join(names)})")
    out = []
    for row in rows:
        record = {}
        for column, kind in query.columns.items():
            try:
                record[column] = convert(row[index[column]], kind)
            except (TypeError, ValueError, decimal.InvalidOperation) as exc:
                raise ValueError(f"column {column}: {exc}") from None
        out.append(record)
    return out
