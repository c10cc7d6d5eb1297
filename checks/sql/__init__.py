"""The shared SQL layer of the database checks: connection settings, queries as data, one executor.

- ``settings``: a target's ``postgres_*`` / ``mysql_*`` / ``oracle_*`` variables, validated.
- ``queries``: the SQL of each engine as data (``queries/<engine>.yaml``): text, typed result columns,
  and alternatives by server variant and minimum version (MySQL 8 and MariaDB differ).
- ``drivers``: the DB-API drivers (psycopg, PyMySQL, python-oracledb), imported lazily.
- ``executor``: one session per target and engine: "can connect" (``CannotConnect``) is kept apart
  from "can query" (``QueryFailed``), and every statement runs under a timeout.
- ``pool``: the run's sessions, one per target and engine, shared by that target's checks.
- ``check``: the base class of every database check (status mapping of those two failures).
"""
