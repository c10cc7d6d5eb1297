"""The store: patrol runs, results and their metrics in SQLite (default) or PostgreSQL.

store = Store.open(default_url())
run_id = store.start_run("daily-patrol", "playbooks/daily.yaml", "Morning patrol", "run")
store.add_results(run_id, results)
store.finish_run(run_id, finished_at, Status.worst(r.status for r in results), 12, 96)
"""

from collector.store.engine import DEFAULT_URL, StoreError, default_url, mask_url
from collector.store.store import RunNotFound, RunRecord, Store

__all__ = ["DEFAULT_URL", "RunNotFound", "RunRecord", "Store", "StoreError", "default_url", "mask_url"]
