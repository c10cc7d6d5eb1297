"""Oracle checks (python-oracledb, thin mode: no Oracle client install), over the shared SQL layer.

Verified against recorded result sets only (tests/fixtures/oracle/): no Oracle server can run where
Patrol is developed. The recordings were constructed from Oracle's documented views, not captured
from a live database.
"""

from typing import ClassVar

from checks.sql.check import SqlCheck


class OracleCheck(SqlCheck):
    engine: ClassVar[str] = "oracle"
    connection_kind: ClassVar[str | None] = "oracle"


def container_item(name: str, container: str | None) -> str:
    """'USERS' on a non-CDB; 'PDB1/USERS' in a CDB (the container is part of the item)."""
    return f"{container}/{name}" if container else name
