"""The store: patrol runs, results and their metrics in SQLite (default) or PostgreSQL.

store = Store.open(default_url())
run_id = store.start_run("daily-patrol", "playbooks/daily.yaml", "Morning patrol", "run")
store.add_results(run_id, results)
store.finish_run(run_id, finished_at, Status.worst(r.status for r in results), 12, 96)

The collector service adds: agents' batches stored exactly once (``ingest_batch``), the newest result of
every item (``latest_results``), agents (``touch_agent``, ``agents``), API tokens (``create_token``,
``authenticate``, ``revoke_tokens``, ``list_tokens``) and scheduled runs gathering what agents pushed
(``attach_results``).
"""

from collector.store.engine import DEFAULT_URL, StoreError, default_url, mask_url
from collector.store.store import (
    AgentRecord,
    IngestOutcome,
    RunNotFound,
    RunRecord,
    Store,
    TokenKind,
    TokenRecord,
)

__all__ = [
    "DEFAULT_URL",
    "AgentRecord",
    "IngestOutcome",
    "RunNotFound",
    "RunRecord",
    "Store",
    "StoreError",
    "TokenKind",
    "TokenRecord",
    "default_url",
    "mask_url",
]
