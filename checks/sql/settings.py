"""Connection settings of a database target, from its inventory variables (``<engine>_<field>``).

The vocabulary (ARCHITECTURE.md): ``postgres_host`` (default: ``ansible_host``, then the target's
name), ``postgres_port``, ``postgres_user``, ``postgres_password`` (a secret reference resolved through
``Target.secret`` so the scrubber knows it before any message is written), ``postgres_database``;
the same for ``mysql_*``; ``oracle_service_name`` instead of a database. Optional:
``<engine>_connect_timeout`` and ``<engine>_statement_timeout`` (seconds).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from checks.secrets import Scrubber
from checks.sql.errors import SqlConfigError
from checks.target import Target

ENGINES = ("postgres", "mysql", "oracle")
DEFAULT_PORTS = {"postgres": 5432, "mysql": 3306, "oracle": 1521}
DEFAULT_USERS = {"postgres": "postgres", "mysql": "root", "oracle": None}
DEFAULT_DATABASES = {"postgres": "postgres", "mysql": None, "oracle": None}
DEFAULT_CONNECT_TIMEOUT = 5.0
DEFAULT_STATEMENT_TIMEOUT = 10.0


@dataclass(frozen=True)
class DbSettings:
    engine: str
    host: str
    port: int
    user: str | None
    password: str | None = field(default=None, repr=False)
    database: str | None = None  # postgres/mysql database; the Oracle service name
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    statement_timeout: float = DEFAULT_STATEMENT_TIMEOUT

    @property
    def endpoint(self) -> str:
        where = f"{self.host}:{self.port}"
        return f"{where}/{self.database}" if self.database else where


def has_settings(target: Target, engine: str) -> bool:
    """True when the inventory describes ``engine`` on this target (any ``<engine>_*`` variable)."""
    prefix = engine + "_"
    return any(key.startswith(prefix) for key in target.vars)


def db_settings(target: Target, engine: str, scrubber: Scrubber | None = None) -> DbSettings:
    if engine not in ENGINES:
        raise SqlConfigError(f"unknown database engine {engine!r} (expected one of {', '.join(ENGINES)})")
    v = target.vars
    host = v.get(f"{engine}_host") or target.address
    database_key = f"{engine}_service_name" if engine == "oracle" else f"{engine}_database"
    settings = DbSettings(
        engine=engine,
        host=str(host),
        port=_number(v, f"{engine}_port", DEFAULT_PORTS[engine], int),
        user=_text(v, f"{engine}_user") or DEFAULT_USERS[engine],
        password=target.secret(f"{engine}_password", scrubber) if v.get(f"{engine}_password") is not None else None,
        database=_text(v, database_key) or DEFAULT_DATABASES[engine],
        connect_timeout=_number(v, f"{engine}_connect_timeout", DEFAULT_CONNECT_TIMEOUT, float),
        statement_timeout=_number(v, f"{engine}_statement_timeout", DEFAULT_STATEMENT_TIMEOUT, float),
    )
    if engine == "oracle" and not settings.database:
        raise SqlConfigError(f"{target.name}: oracle_service_name is required (the service to connect to)")
    if engine == "oracle" and not settings.user:
        raise SqlConfigError(f"{target.name}: oracle_user is required (a monitoring account)")
    return settings


def _text(v, key: str) -> str | None:
    value = v.get(key)
    if value is None:
        return None
    if isinstance(value, (dict, list)):
        raise SqlConfigError(f"{key}: expected a string, got {type(value).__name__}")
    return str(value)


def _number(v, key: str, default, kind):
    value = v.get(key)
    if value is None:
        return default
    try:
        number = kind(value)
    except (TypeError, ValueError):
        raise SqlConfigError(f"{key}: expected a number, got {value!r}") from None
    if isinstance(value, bool) or number <= 0 or (key.endswith("_port") and number > 65535):
        raise SqlConfigError(f"{key}: out of range ({value!r})")
    return number
