"""Helpers of the fault tests (test_faults.py): what the store holds, what an agent reports about itself,
a tiny filesystem for a spool, a receiver that can hang and recover, and the figures table printed at the end."""

from __future__ import annotations

import json
import os
import re
import subprocess
import threading
import zlib
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from .notify_support import HANG, Request

# -- the store ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredResult:
    target: str
    check: str
    item: str
    scheduled_at: str
    started_at: str
    batch_id: str | None

    @property
    def key(self) -> tuple[str, str, str, str, str]:
        return (self.target, self.check, self.item, self.scheduled_at, self.started_at)


class StoreReader:
    """Reads a collector's store directly (SQLite file or PostgreSQL) for the end-to-end counts."""

    def __init__(self, url: str) -> None:
        self.engine = sa.create_engine(url, pool_pre_ping=True)

    def agent_results(self) -> list[StoredResult]:
        """Every stored result that came in an agent batch (results the collector made itself have no batch)."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.text(
                'SELECT target, "check", item, scheduled_at, started_at, batch_id FROM results '
                "WHERE batch_id IS NOT NULL"
            )).all()
        return [StoredResult(t, c, i, _iso(s), _iso(st), b) for t, c, i, s, st, b in rows]

    def batches(self) -> dict[str, tuple[float, int]]:
        """batch_id -> (received_at as Unix time, result_count claimed)."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT batch_id, received_at, result_count FROM ingest_batches")).all()
        return {b: (unix_time(r), n) for b, r, n in rows}

    def close(self) -> None:
        self.engine.dispose()


def _iso(value) -> str:
    """A time as the store or a spooled record gives it (datetime, or ISO text with Z), as one UTC spelling."""
    import datetime as dt

    if value is None:
        return ""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).isoformat(timespec="microseconds")


def unix_time(value) -> float:
    import datetime as dt

    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.timestamp()


# -- an agent's own figures ------------------------------------------------------------------------------

_STATUS = re.compile(
    r"stopped; status: .*?this run: (?P<spooled>\d+) spooled, (?P<delivered>\d+) delivered"
    r"(?:, (?P<lost>\d+) lost \(spool not writable\))?; since the spool was created: (?P<dropped>\d+) dropped "
    r"\(spool full\), (?P<corrupt>\d+) corrupt, (?P<rejected>\d+) rejected"
)


def final_status(log_text: str) -> dict[str, int]:
    """The counters of the agent's last 'stopped; status: ...' line."""
    found = list(_STATUS.finditer(log_text))
    assert found, f"no final status line in the agent's log:\n{log_text[-3000:]}"
    return {key: int(value or 0) for key, value in found[-1].groupdict().items()}


def spool_segments(spool: Path) -> list[Path]:
    return sorted((spool / "segments").glob("*.jsonl"))


def read_segment(path: Path) -> tuple[list[dict], int]:
    """(records, damaged lines) of a spool segment, checked independently of the agent's code: every line is
    ``<crc32 of the JSON, 8 hex digits> <JSON>\\n``. A segment deleted meanwhile reads as empty."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return [], 0
    records, damaged = [], 0
    for line in data.splitlines(keepends=True):
        ok = len(line) > 10 and line.endswith(b"\n") and line[8:9] == b" "
        if ok:
            payload = line[9:-1]
            try:
                ok = int(line[:8], 16) == zlib.crc32(payload)
                if ok:
                    records.append(json.loads(payload))
            except ValueError:
                ok = False
        damaged += not ok
    return records, damaged


def key(record: dict) -> tuple[str, str, str, str, str]:
    """A spooled result's identity, as ``StoredResult.key``: one task's check at one firing (several tasks may run
    the same check on the same schedule: their results differ in ``started_at``)."""
    return (record["target"], record["check"], record["item"], _iso(record.get("scheduled_at")),
            _iso(record["started_at"]))


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (from /proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# -- a tiny filesystem ------------------------------------------------------------------------------------


class Tmpfs:
    """``mount -t tmpfs -o size=SIZE`` on ``path`` (as root); ``unmount`` in the test's teardown."""

    def __init__(self, path: Path, size: str) -> None:
        self.path = path
        path.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(path)],
                              capture_output=True, text=True, timeout=30)
        assert done.returncode == 0, f"cannot mount a tmpfs on {path} (the test needs root): {done.stderr}"
        self.mounted = True

    def usage(self) -> tuple[int, int]:
        """(bytes used, bytes in all)."""
        st = os.statvfs(self.path)
        return (st.f_blocks - st.f_bfree) * st.f_frsize, st.f_blocks * st.f_frsize

    def unmount(self) -> None:
        if self.mounted:
            subprocess.run(["umount", str(self.path)], check=True, capture_output=True, timeout=30)
            self.mounted = False


# -- a receiver that hangs until told to answer --------------------------------------------------------------


class HangSwitch:
    """A ``Receiver`` respond function: while ``hanging``, requests are recorded and never answered (status 0
    in the record); after ``recover()``, they are answered 200."""

    def __init__(self) -> None:
        self.hanging = threading.Event()
        self.hanging.set()

    def __call__(self, request: Request) -> tuple[int, object]:
        if self.hanging.is_set():
            return 0, HANG
        return 200, {"ok": True}

    def recover(self) -> None:
        self.hanging.clear()


# -- waiting and the figures ------------------------------------------------------------------------------


def print_figures(title: str, figures: dict[str, object]) -> None:
    """The measured figures as a markdown table on the test's output (pytest -s shows it)."""
    width = max(len(k) for k in figures)
    print(f"\n### {title}\n\n| figure | value |\n|---|---|")
    for name, value in figures.items():
        shown = f"{value:.2f}" if isinstance(value, float) else str(value)
        print(f"| {name.ljust(width)} | {shown} |")
