"""backup_files and backup_log on real files (mtimes set with os.utime), locally and through a real sshd."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

import pytest

from checks.status import Status

from .backup_support import by_item, run_check

pytestmark = pytest.mark.integration

HOUR = 3600.0


def make_file(path: Path, size: int, age: float) -> Path:
    path.write_bytes(b"x" * size)
    when = time.time() - age
    os.utime(path, (when, when))
    return path


@pytest.fixture
def backup_dir():
    """A world-readable directory (the SSH test user reads it too), removed afterwards."""
    path = Path(tempfile.mkdtemp(prefix="patrol-backups-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path)


def files_jobs(root: Path) -> list[dict]:
    for name in ("fresh", "stale", "shrunk", "empty", "tiny", "none"):
        (root / name).mkdir()
    make_file(root / "fresh" / "db-1.sql.gz", 1000, 50 * HOUR)
    make_file(root / "fresh" / "db-2.sql.gz", 1050, 2 * HOUR)
    make_file(root / "fresh" / "notes.txt", 10, 60)  # newer, but not matching the pattern
    make_file(root / "stale" / "db-1.sql.gz", 1000, 30 * HOUR)
    make_file(root / "shrunk" / "db-1.sql.gz", 1000, 26 * HOUR)
    make_file(root / "shrunk" / "db-2.sql.gz", 400, HOUR)  # 60 % smaller than the one before
    make_file(root / "tiny" / "db-1.sql.gz", 0, HOUR)
    make_file(root / "none" / "other.tar", 100, HOUR)
    job = {"pattern": "db-*.sql.gz", "max_age": "26h"}
    return [
        {"name": name, "directory": str(root / name), **job}
        for name in ("fresh", "stale", "shrunk", "empty", "tiny", "none")
    ] + [{"name": "missing", "directory": str(root / "does-not-exist"), **job}]


def check_files_results(results) -> None:
    got = by_item(results)
    fresh = got["fresh"]
    assert fresh.status is Status.OK, fresh.summary
    assert fresh.summary.startswith("newest db-2.sql.gz: 2.0 h old")
    assert fresh.metric("size").value == 1050 and fresh.metric("files").value == 2
    assert abs(fresh.metric("age").value - 2 * HOUR) < 60
    assert fresh.metric("size_change").value == 5.0
    assert got["stale"].status is Status.CRITICAL and "age" in got["stale"].summary
    shrunk = got["shrunk"]
    assert shrunk.status is Status.WARNING and shrunk.metric("size_change").value == -60.0, shrunk.summary
    assert got["tiny"].status is Status.CRITICAL and "size 0 B < 1 B" in got["tiny"].summary
    for item in ("empty", "none"):
        assert got[item].status is Status.CRITICAL and got[item].summary.startswith("no backup found matching")
    assert got["missing"].status is Status.CRITICAL and "does not exist" in got["missing"].summary


def test_backup_files_locally(backup_dir):
    check_files_results(run_check("backup_files", {"jobs": files_jobs(backup_dir)}))


def test_backup_files_over_ssh_agree_with_local(backup_dir, sshd, known_hosts):
    jobs = files_jobs(backup_dir)
    (backup_dir / "locked").mkdir(mode=0o700)  # the SSH test user may not read it
    jobs.append({"name": "locked", "directory": str(backup_dir / "locked")})
    results = run_check("backup_files", {"jobs": jobs}, sshd.target_vars(known_hosts, connection="ssh"))
    check_files_results(results)
    locked = by_item(results)["locked"]
    assert locked.status is Status.UNKNOWN and "Permission denied" in locked.summary, locked.summary
    local = by_item(run_check("backup_files", {"jobs": jobs}))
    for item, remote in by_item(results).items():
        if item != "locked":  # root reads it locally
            assert (remote.status, remote.metric("size")) == (local[item].status, local[item].metric("size")), item


# -- backup_log ------------------------------------------------------------------------------------

RUN = "=== backup started {t}\nrsync /srv -> /backup\n{middle}\n{end}\n"


def write_log(path: Path, runs: list[tuple[str, str, str]], age: float = 60) -> Path:
    path.write_text("".join(RUN.format(t=t, middle=m, end=e) for t, m, e in runs))
    when = time.time() - age
    os.utime(path, (when, when))
    return path


def stamp(hours_ago: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(time.time() - hours_ago * HOUR))


def test_backup_log_success_failure_and_stale(backup_dir):
    ok = ("{t}", "sent 1234 bytes", "{t} backup completed")
    logs = {
        "success": [("x", "sent 9 bytes", "ERROR: disk full"), ok],  # an earlier failure does not count
        "failure": [ok, ("x", "ERROR: connection refused", "backup completed")],
        "unfinished": [ok, ("x", "sending ...", "still running")],
        "stale": [ok],
    }
    jobs = []
    for name, runs in logs.items():
        hours = 40 if name == "stale" else 1
        runs = [(stamp(hours), m, e.format(t=stamp(hours))) for _, m, e in runs]
        write_log(backup_dir / f"{name}.log", runs, age=hours * HOUR)
        jobs.append(
            {
                "name": name,
                "path": str(backup_dir / f"{name}.log"),
                "start": "^=== backup started",
                "success": "backup completed",
                "failure": "ERROR",
                "max_age": "26h",
            }
        )
    # The same successful log judged by the timestamp in its lines rather than by its mtime.
    write_log(backup_dir / "stamped.log", [(stamp(30), "ok", f"{stamp(30)} backup completed")], age=60)
    jobs.append(
        {
            "name": "stamped",
            "path": str(backup_dir / "stamped.log"),
            "start": "^=== backup started",
            "success": "backup completed",
            "timestamp": r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)",
            "max_age": "26h",
            "warning": "12h",
        }
    )
    jobs.append({"name": "missing", "path": str(backup_dir / "nope.log"), "success": "done"})
    got = by_item(run_check("backup_log", {"jobs": jobs}))
    assert got["success"].status is Status.OK and "backup completed" in got["success"].summary
    assert abs(got["success"].metric("age").value - HOUR) < 60
    assert got["failure"].status is Status.CRITICAL
    assert got["failure"].summary == "last run failed: ERROR: connection refused"
    assert got["unfinished"].status is Status.CRITICAL and "no success marker" in got["unfinished"].summary
    assert got["stale"].status is Status.CRITICAL and "age" in got["stale"].summary
    stamped = got["stamped"]
    assert stamped.status is Status.CRITICAL and abs(stamped.metric("age").value - 30 * HOUR) < 60, stamped.summary
    assert got["missing"].status is Status.CRITICAL and "does not exist" in got["missing"].summary


def test_backup_log_reads_only_the_tail_of_a_big_log(backup_dir):
    old = "".join(f"=== backup started\nline {i}\nbackup completed\n" for i in range(200_000))  # ~7 MB
    path = backup_dir / "big.log"
    path.write_text(old + "=== backup started\nERROR: tape offline\n")
    job = {
        "name": "big",
        "path": str(path),
        "start": "^=== backup started",
        "success": "backup completed",
        "failure": "ERROR",
        "tail_bytes": "4KiB",
    }
    started = time.monotonic()
    (result,) = run_check("backup_log", {"jobs": [job]})
    assert result.status is Status.CRITICAL and result.summary == "last run failed: ERROR: tape offline"
    assert time.monotonic() - started < 5
    # A tail with no start marker at all cannot say which run it is reading.
    path.write_text("x" * 10_000 + "\nbackup completed\n")
    (result,) = run_check("backup_log", {"jobs": [job]})
    assert result.status is Status.UNKNOWN and "raise tail_bytes" in result.summary
