"""Several `patrol serve` replicas on one private PostgreSQL, for the load benchmarks and their test.

    with ReplicaSet(replicas=2, workers=1) as fleet:      # PostgreSQL, a database, N replicas started
        tokens = fleet.agent_tokens(["host0001", ...])   # one agent token each, straight into the store
        fleet.urls                                       # http://127.0.0.1:PORT of each replica
        fleet.kill(0)                                    # kill -9 one replica (its worker processes too)
        fleet.count("SELECT count(*) FROM results")      # PostgreSQL queried directly
    # everything stopped here: replicas killed by PID, PostgreSQL stopped, directories removed

Each replica is a real `patrol serve` (tests/integration/collector_support.py's ``Collector``) with its
own port and directory, the same inventory and playbooks, and the same store URL. The first replica
starts alone (it migrates the empty database); the others then start together.

No inventory of the simulated agents is written: a push is checked against its token only (the batch's
``agent`` and every result's ``target`` must be the token's name, collector/api/batch.py
``check_ownership``), never against the inventory. Only the plan route reads the inventory, and the load
benchmarks do not fetch plans.

Teardown runs on normal exit, on an exception, on Ctrl-C and on SIGTERM (turned into ``SystemExit`` in
the main thread while the set is open).
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import sys
import tempfile
import threading
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
for path in (str(ROOT), str(ROOT / "tests")):
    if path not in sys.path:
        sys.path.insert(0, path)

from integration.collector_support import Collector  # noqa: E402
from integration.pg import PostgresServer, start_postgres  # noqa: E402

DATABASE = "patrol"


class ReplicaSet:
    def __init__(self, replicas: int = 2, workers: int = 1, settings: dict | None = None,
                 parent: str | None = None) -> None:
        if replicas < 1:
            raise ValueError("at least one replica")
        self.count_replicas = replicas
        self.workers = workers
        self.settings = dict(settings or {})
        self.parent = parent
        self.directory: Path | None = None
        self.postgres: PostgresServer | None = None
        self.database_url = ""
        self.collectors: list[Collector] = []
        self._previous_sigterm = None

    # -- life -------------------------------------------------------------------------------------

    def __enter__(self) -> ReplicaSet:
        if threading.current_thread() is threading.main_thread():
            self._previous_sigterm = signal.signal(signal.SIGTERM, _sigterm_to_exit)
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def start(self) -> None:
        self.directory = Path(tempfile.mkdtemp(prefix="patrol-replicas-", dir=self.parent))
        self.postgres = start_postgres(self.parent)  # its own directory: it must be readable by postgres
        self.database_url = self.postgres.create_database(DATABASE)
        for n in range(self.count_replicas):
            root = self.directory / f"replica{n}"
            root.mkdir()
            collector = Collector(root, settings={"workers": self.workers, **self.settings},
                                  database=self.database_url)
            collector.write_files()
            self.collectors.append(collector)
        self.collectors[0].start()  # migrates the empty database
        if len(self.collectors) > 1:
            with ThreadPoolExecutor(len(self.collectors) - 1) as pool:
                list(pool.map(Collector.start, self.collectors[1:]))

    def stop(self) -> None:
        """Kill every replica (and its workers) by PID, stop PostgreSQL, remove the files. Idempotent."""
        for n in range(len(self.collectors)):
            with contextlib.suppress(Exception):
                self.kill(n)
        self.collectors = []
        if self.postgres is not None:
            postgres, self.postgres = self.postgres, None
            with contextlib.suppress(Exception):
                postgres.stop()
        if self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)
            self.directory = None
        if self._previous_sigterm is not None:
            signal.signal(signal.SIGTERM, self._previous_sigterm)
            self._previous_sigterm = None

    # -- what the benchmarks use ------------------------------------------------------------------

    @property
    def urls(self) -> list[str]:
        return [c.url for c in self.collectors]

    def alive(self, n: int) -> bool:
        process = self.collectors[n].process
        return process is not None and process.poll() is None

    def kill(self, n: int, sig: int = signal.SIGKILL) -> None:
        """Signal replica ``n`` and its worker processes (uvicorn's workers would outlive a killed parent)."""
        process = self.collectors[n].process
        if process is None or process.poll() is not None:
            return
        try:
            children = psutil.Process(process.pid).children(recursive=True)
        except psutil.Error:
            children = []
        process.send_signal(sig)
        for child in children:
            with contextlib.suppress(psutil.Error):
                child.send_signal(sig)
        process.wait(timeout=30)
        psutil.wait_procs(children, timeout=10)

    def agent_tokens(self, names: Iterable[str], threads: int = 8) -> dict[str, str]:
        """One agent token per name, created with the store's own ``create_token`` (what `patrol token
        create --agent` does, without starting a process per token)."""
        from collector.store import Store

        names = list(names)
        with Store.open(self.database_url) as store, ThreadPoolExecutor(threads) as pool:
            tokens = list(pool.map(lambda name: store.create_token("agent", name)[1], names))
        return dict(zip(names, tokens, strict=True))

    def count(self, sql: str, *params: object) -> int:
        return int(self.query(sql, *params)[0][0])

    def query(self, sql: str, *params: object) -> list[tuple]:
        """Rows of ``sql`` run on the store's database with psycopg, not through the collector."""
        import psycopg

        assert self.postgres is not None
        with psycopg.connect(self.postgres.dsn(DATABASE)) as conn:
            return conn.execute(sql, params or None).fetchall()

    def postgres_process(self) -> psutil.Process:
        assert self.postgres is not None
        pid = int((self.postgres.data_dir / "postmaster.pid").read_text().split()[0])
        return psutil.Process(pid)

    def replica_process(self, n: int) -> psutil.Process | None:
        process = self.collectors[n].process
        if process is None or process.poll() is not None:
            return None
        try:
            return psutil.Process(process.pid)
        except psutil.Error:
            return None

    def log(self, n: int, tail: int = 3000) -> str:
        return self.collectors[n].log()[-tail:]


def _sigterm_to_exit(_signum: int, _frame: object) -> None:
    raise SystemExit(143)


class CpuMeter:
    """CPU seconds of a process tree over time: the process, its live descendants, and the children it
    has reaped (psutil's ``children_user``/``children_system``), so PostgreSQL backends that came and
    went are counted too."""

    def __init__(self, process: psutil.Process | None, tree: bool = True) -> None:
        self.process = process
        self.tree = tree
        self.last = 0.0

    def total(self) -> float:
        """Cumulative CPU seconds of the tree (stays at its last value once the process is gone)."""
        process = self.process
        if process is None:
            return self.last
        try:
            with process.oneshot():
                own = process.cpu_times()
                children = process.children(recursive=True) if self.tree else []
            root = own.user + own.system + (own.children_user + own.children_system if self.tree else 0.0)
        except psutil.Error:
            self.process = None
            return self.last
        now: dict[int, float] = {}
        for child in children:
            try:
                times = child.cpu_times()
                now[child.pid] = times.user + times.system
            except psutil.Error:
                pass
        # max: a child that exited but is not reaped yet is briefly in neither figure
        self.last = max(self.last, root + sum(now.values()))
        return self.last


class PgActivity:
    """The store's PostgreSQL sessions by state and wait event, sampled from ``pg_stat_activity`` in a
    thread: how many sessions were, on average, running, waiting on a lock, or idle in a transaction
    while their replica had not yet sent the next statement."""

    def __init__(self, fleet: ReplicaSet, every: float = 0.25) -> None:
        self.fleet, self.every = fleet, every
        self.samples = 0
        self.states: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> PgActivity:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(10)

    def _run(self) -> None:
        import psycopg

        assert self.fleet.postgres is not None
        with contextlib.suppress(psycopg.Error), psycopg.connect(self.fleet.postgres.dsn(DATABASE),
                                                                 autocommit=True) as conn:
            while not self._stop.wait(self.every):
                rows = conn.execute(
                    "SELECT state, wait_event_type, wait_event FROM pg_stat_activity "
                    "WHERE datname = %s AND pid <> pg_backend_pid() AND backend_type = 'client backend'",
                    (DATABASE,)).fetchall()
                self.samples += 1
                for state, wait_type, wait in rows:
                    if state == "idle":
                        continue
                    if state == "active" and wait_type in (None, "Client"):
                        key = "active, running"
                    elif state == "active":
                        key = f"active, waiting on {wait_type}:{wait}"
                    else:
                        key = f"{state}{' (replica busy)' if wait == 'ClientRead' else ''}"
                    self.states[key] = self.states.get(key, 0) + 1

    def summary(self, top: int = 5) -> str:
        if not self.samples:
            return "no samples"
        ordered = sorted(self.states.items(), key=lambda kv: -kv[1])[:top]
        return "; ".join(f"{name} {count / self.samples:.1f}" for name, count in ordered)
