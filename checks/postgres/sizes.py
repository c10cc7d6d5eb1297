"""postgres_databases and postgres_tablespaces — sizes, and the file system under each tablespace.

The free space of the file system holding a tablespace is only knowable on the database host: when
the target is checked in process (``connection: local``) or the server is reached over loopback or
a Unix socket, the tablespace's location is statvfs'ed here. Otherwise the result says it is unknown
rather than guessing (run the check from an agent on the database host to get it).
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Iterator

from pydantic import ByteSize, Field, PositiveFloat

from checks.base import CheckContext, Outcome, metric
from checks.params import CheckParams
from checks.postgres import PostgresCheck
from checks.sql.check import percent
from checks.status import Status
from checks.thresholds import Levels, Range, UpperLimit
from checks.timeouts import CallTimedOut, call_with_timeout
from checks.units import format_bytes


class PostgresDatabasesParams(CheckParams):
    warning: ByteSize | None = Field(default=None, description="database size at which to warn (e.g. '500GiB')")
    critical: ByteSize | None = Field(default=None, description="database size at which the state is critical")


class PostgresDatabasesCheck(PostgresCheck):
    name = "postgres_databases"
    title = "PostgreSQL database sizes (pg_database_size), per database"
    Params = PostgresDatabasesParams
    metrics = {"size": "database size (bytes)"}
    example = "- postgres_databases: {warning: 500GiB}"

    def collect(self, ctx: CheckContext, session, params: PostgresDatabasesParams) -> Iterator[Outcome]:
        for row in session.query("databases"):
            yield Outcome(
                item=row["name"],
                summary=f"{format_bytes(row['size_bytes'])}",
                metrics=[metric("size", row["size_bytes"], "B")],
                levels={"size": Levels(_above(params.warning), _above(params.critical))},
            )


class PostgresTablespacesParams(CheckParams):
    warning: UpperLimit = Field(
        default=80, description="space used % of the file system holding the tablespace at which to warn"
    )
    critical: UpperLimit = Field(default=90, description="file system space used % at which critical")
    size_warning: ByteSize | None = Field(default=None, description="tablespace size at which to warn")
    size_critical: ByteSize | None = Field(default=None, description="tablespace size at which critical")
    statvfs_timeout: PositiveFloat = Field(default=5.0, description="seconds to wait for one file system")


class PostgresTablespacesCheck(PostgresCheck):
    name = "postgres_tablespaces"
    title = "PostgreSQL tablespace sizes, and the free space of the file system holding each (where knowable)"
    Params = PostgresTablespacesParams
    metrics = {
        "size": "tablespace size (bytes)",
        "used": "space used of the file system holding the tablespace (%), when the check runs on the DB host",
        "free": "space available on that file system (bytes), when known",
    }
    example = "- postgres_tablespaces: {warning: 80, critical: 90, size_warning: 1TiB}"

    def collect(self, ctx: CheckContext, session, params: PostgresTablespacesParams) -> Iterator[Outcome]:
        on_host = ctx.target.is_local or is_local_address(session.settings.host)
        for row in session.query("tablespaces"):
            figures = [metric("size", row["size_bytes"], "B")]
            levels = {"size": Levels(_above(params.size_warning), _above(params.size_critical))}
            summary = f"{format_bytes(row['size_bytes'])} at {row['location']}"
            status = None
            if not on_host:
                summary += "; file system free space unknown (the check does not run on the database host)"
            else:
                try:
                    st = call_with_timeout(
                        lambda p=row["location"]: os.statvfs(p),
                        min(params.statvfs_timeout, max(0.1, ctx.remaining())),
                        f"statvfs {row['location']}",
                    )
                except (OSError, CallTimedOut) as exc:
                    summary += f"; file system free space unknown ({getattr(exc, 'strerror', None) or exc})"
                    status = Status.UNKNOWN
                else:
                    free = st.f_bavail * st.f_frsize
                    usable = (st.f_blocks - st.f_bfree + st.f_bavail) * st.f_frsize  # as df computes it
                    used = percent(usable - free, usable)
                    figures += [metric("used", used, "%"), metric("free", free, "B")]
                    levels["used"] = Levels(params.warning, params.critical)
                    summary += f"; its file system {used:.1f}% used, {format_bytes(free)} free"
            yield Outcome(item=row["name"], summary=summary, metrics=figures, levels=levels, status=status)


def is_local_address(host: str) -> bool:
    if host.startswith("/") or host == "localhost":
        return True  # a Unix socket directory, or the local host by name
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _above(size: int | None) -> Range | None:
    return None if size is None else Range.parse(int(size))
