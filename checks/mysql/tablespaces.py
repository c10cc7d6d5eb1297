"""mysql_tablespaces — InnoDB tablespace files and schema sizes.

MySQL 8 lists tablespaces in information_schema.INNODB_TABLESPACES, MariaDB in INNODB_SYS_TABLESPACES
(the query data picks by server flavour). Each tablespace is an item ``tablespace NAME`` with its file
size; each schema an item ``schema NAME`` with data + index size and the free space inside its files.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator

from pydantic import ByteSize, Field

from checks.base import CheckContext, Outcome, metric
from checks.mysql import MysqlCheck
from checks.params import CheckParams
from checks.thresholds import Levels, Range
from checks.units import format_bytes


class MysqlTablespacesParams(CheckParams):
    warning: ByteSize | None = Field(default=None, description="schema size at which to warn (e.g. '200GiB')")
    critical: ByteSize | None = Field(default=None, description="schema size at which the state is critical")
    file_warning: ByteSize | None = Field(default=None, description="tablespace file size at which to warn")
    file_critical: ByteSize | None = Field(default=None, description="tablespace file size, critical")
    tablespaces: bool = Field(default=True, description="report InnoDB tablespaces (not only schemas)")
    exclude: list[str] = Field(default_factory=list, description="tablespace or schema name patterns to skip")


class MysqlTablespacesCheck(MysqlCheck):
    name = "mysql_tablespaces"
    title = "MySQL/MariaDB InnoDB tablespace file sizes and schema sizes"
    Params = MysqlTablespacesParams
    metrics = {
        "size": "schema data + index size (bytes)",
        "free": "free space inside the schema's tables (DATA_FREE, bytes)",
        "tables": "tables in the schema",
        "file_size": "tablespace file size (bytes)",
        "allocated": "space the tablespace file takes on disk (bytes)",
    }
    example = "- mysql_tablespaces: {warning: 200GiB, exclude: ['innodb_undo*']}"

    def collect(self, ctx: CheckContext, session, params: MysqlTablespacesParams) -> Iterator[Outcome]:
        skip = lambda name: any(fnmatch.fnmatchcase(name, p) for p in params.exclude)  # noqa: E731
        for row in session.query("schemas"):
            if skip(row["name"]):
                continue
            yield Outcome(
                item=f"schema {row['name']}",
                summary=f"{format_bytes(row['size_bytes'])} in {row['tables']} table(s), "
                f"{format_bytes(row['free_bytes'])} free inside",
                metrics=[
                    metric("size", row["size_bytes"], "B"),
                    metric("free", row["free_bytes"], "B"),
                    metric("tables", row["tables"]),
                ],
                levels={"size": Levels(_above(params.warning), _above(params.critical))},
            )
        if not params.tablespaces:
            return
        for row in session.query("innodb_tablespaces"):
            if skip(row["name"]):
                continue
            yield Outcome(
                item=f"tablespace {row['name']}",
                summary=f"file {format_bytes(row['file_size'])}, {format_bytes(row['allocated_size'])} on disk",
                metrics=[metric("file_size", row["file_size"], "B"), metric("allocated", row["allocated_size"], "B")],
                levels={"file_size": Levels(_above(params.file_warning), _above(params.file_critical))},
            )


def _above(size: int | None) -> Range | None:
    return None if size is None else Range.parse(int(size))
