"""The on-disk spool: every result is written here before any attempt to send it.

Layout of the spool directory (docs/agent.md has the full story)::

    lock                                   flock held by the running agent
    state.json                             counters that survive restarts (dropped, corrupt, rejected)
    plan.json                              the last plan from the collector (agent/plan.py)
    segments/000000000042-5f0c9a.jsonl     one future batch each; the newest is open for appends
    rejected/000000000017-a1b2c3.jsonl     batches the collector refused, with a .reason file

A *segment* is a file of result records, one per line, each line ``<crc32 hex> <json>\\n``, appended
and fsynced as checks finish. A segment is **sealed** when it is full (``batch_max_results``
records or ``segment_max_bytes``), when it is time to push and nothing older waits, and whenever
the agent starts (the segment a previous process had open is never appended to again). A sealed
segment never changes (except to cut damaged lines out of it, once), so it is one batch whose id
is derived from its file name, ``<agent>-<sequence>-<random>``: the same id on every retry and
after any restart. A segment is deleted only after the collector acknowledged its batch (200,
``duplicate`` true or false); a SIGKILL at any point leaves either the file (sent again, and the
collector acknowledges a known batch id without storing it twice) or nothing to send.

When the spool grows past ``max_bytes``, or its filesystem is full (``ENOSPC``, ``EDQUOT``), the oldest
segment is dropped, and its records are counted as dropped: new results push out the oldest, never the
other way round. Segments are at most a sixteenth of the room the spool has (its size plus the free
space of its filesystem), so a drop on a small or nearly full disk frees a small part of it. Dropping
stops once it freed what the new records need: a disk that stays full is filled by someone else. A line
that does not check out (a torn write after a power loss, a flipped bit) is skipped and counted; the
rest of the segment is sent.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import re
import secrets
import threading
import zlib
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger("patrol.agent.spool")

BATCH_SCHEMA = "patrol.batch/1"
MiB = 1024 * 1024
SEGMENT_MAX_BYTES = 1 * MiB  # uncompressed; the collector accepts up to 10 MiB by default
MAX_REJECTED_FILES = 50  # refused batches kept for inspection, oldest removed first
_SEGMENT = re.compile(r"^(\d{12})-([0-9a-f]{6})\.jsonl$")
_AGENT_ID = re.compile(r"[^A-Za-z0-9._:-]")
COUNTERS = ("dropped_results", "corrupt_records", "rejected_results", "rejected_batches")
DISK_FULL = frozenset({errno.ENOSPC, errno.EDQUOT})
ROOM_PER_SEGMENT = 16  # a segment is at most this fraction of the room the spool has on its disk
DISK_FULL_SLACK = 8192  # beyond the records' bytes: a new segment's first block and the state file's


class SpoolWriteError(OSError):
    """Records could not be spooled (and nothing older was left to drop for them). ``written`` of the records
    given were spooled before the failure; the rest were not."""

    def __init__(self, cause: OSError, written: int) -> None:
        super().__init__(cause.errno, cause.strerror or str(cause))
        self.written = written


def encode_line(record: dict[str, Any]) -> bytes:
    payload = json.dumps(record, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return b"%08x %s\n" % (zlib.crc32(payload), payload)


def decode_line(line: bytes) -> bytes | None:
    """The JSON payload of a spool line, or None if the line is damaged."""
    decoded = decode_record(line)
    return None if decoded is None else decoded[0]


def decode_record(line: bytes) -> tuple[bytes, Any] | None:
    """(JSON payload, parsed record) of a spool line, or None if the line is damaged."""
    if len(line) < 11 or not line.endswith(b"\n") or line[8:9] != b" ":
        return None
    payload = line[9:-1]
    try:
        if int(line[:8], 16) != zlib.crc32(payload):
            return None
        return payload, json.loads(payload)
    except ValueError:
        return None


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` so that a crash leaves either the old or the new content."""
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError:
        _unlink(tmp)  # a full disk: do not leave the half-written copy taking space
        raise
    os.replace(tmp, path)
    fsync_dir(path.parent)


@dataclass
class Segment:
    name: str  # file name in segments/
    seq: int
    size: int
    count: int | None = None  # records (lines), when known

    @property
    def stem(self) -> str:
        return self.name.removesuffix(".jsonl")


@dataclass
class Batch:
    """A sealed segment read back for sending."""

    batch_id: str
    segment: Segment
    records: list[bytes] = field(repr=False)  # JSON payloads of the valid lines
    targets: frozenset = frozenset()  # the records' targets: this agent's name, unless it was renamed

    @property
    def count(self) -> int:
        return len(self.records)

    def body(self, agent: str) -> bytes:
        head = json.dumps({"schema": BATCH_SCHEMA, "batch_id": self.batch_id, "agent": agent},
                          separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        return head[:-1] + b',"results":[' + b",".join(self.records) + b"]}"


class Spool:
    def __init__(
        self,
        directory: Path | str,
        agent: str,
        max_bytes: int = 100 * MiB,
        batch_max_results: int = 1000,
        segment_max_bytes: int | None = None,
    ) -> None:
        self.dir = Path(directory)
        self.agent = agent
        self.agent_id = _AGENT_ID.sub("_", agent)[:60] or "agent"
        self.max_bytes = max_bytes
        self.batch_max_results = batch_max_results
        # Small enough that dropping one segment frees a useful but small part of the cap.
        self.segment_max_bytes = segment_max_bytes or max(4096, min(SEGMENT_MAX_BYTES, max_bytes // 8))
        self._segment_limit = self.segment_max_bytes  # of the open segment: smaller on a small or full disk
        self.segments_dir = self.dir / "segments"
        self.rejected_dir = self.dir / "rejected"
        self.state_path = self.dir / "state.json"
        self._lock = threading.RLock()
        self._sealed: deque[Segment] = deque()  # oldest first
        self._current: Segment | None = None
        self._fd: int | None = None
        self._inflight: str | None = None
        self._bytes = 0
        # Counters of this process (not persisted): for the status line.
        self.spooled_results = 0
        self.delivered_results = 0
        for path in (self.dir, self.segments_dir, self.rejected_dir):
            path.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.state = self._load_state()
        self._scan()
        with self._lock:
            self._enforce_cap()  # the cap may have been lowered since the last run

    # -- startup ---------------------------------------------------------------------------------

    def _load_state(self) -> dict[str, int]:
        state = dict.fromkeys(COUNTERS, 0) | {"next_segment": 0}
        try:
            data = json.loads(self.state_path.read_bytes())
            for key in state:
                if isinstance(data.get(key), int) and data[key] >= 0:
                    state[key] = data[key]
        except FileNotFoundError:
            pass
        except (OSError, ValueError, AttributeError) as exc:
            log.warning("spool state %s is unreadable (%s); counters start again from zero", self.state_path, exc)
        return state

    def _save_state(self) -> None:
        write_atomic(self.state_path, json.dumps(self.state, sort_keys=True).encode() + b"\n")

    def _save_state_or_log(self) -> None:
        """Save the counters; on a full disk they stay in memory and go with the next state saved."""
        try:
            self._save_state()
        except OSError as exc:
            log.warning("cannot save the spool state %s: %s", self.state_path, exc)

    def _scan(self) -> None:
        found = []
        for entry in os.scandir(self.segments_dir):
            if entry.name.startswith(".") and entry.name.endswith(".tmp"):
                os.unlink(entry.path)  # an atomic write that never finished
                continue
            match = _SEGMENT.match(entry.name)
            if not match or not entry.is_file():
                log.warning("ignoring %s in the spool: not a segment file", entry.path)
                continue
            size = entry.stat().st_size
            if size == 0:
                os.unlink(entry.path)  # created, never written: nothing was spooled in it
                continue
            found.append(Segment(entry.name, int(match.group(1)), size, _count_lines(Path(entry.path))))
        found.sort(key=lambda s: s.seq)
        self._sealed.extend(found)
        self._bytes = sum(s.size for s in found)
        if found:
            self.state["next_segment"] = max(self.state["next_segment"], found[-1].seq + 1)

    # -- writing ---------------------------------------------------------------------------------

    def append(self, records: Iterable[dict[str, Any]]) -> int:
        """Write records durably (fsync) before returning; returns how many were written.

        On a full disk the oldest segments are dropped (counted) until the records fit. Raises
        ``SpoolWriteError`` (saying how many were written) when they cannot be written even so."""
        lines = [encode_line(r) for r in records]
        if not lines:
            return 0
        with self._lock:
            written = freed = 0
            while written < len(lines):
                try:
                    self._make_current(len(lines[written]))
                    take = self._fitting(lines, written)
                    self._write(lines[written:written + take])
                    written += take
                except OSError as exc:
                    # Drop only while dropping can help: once the drops freed what the records need (and the
                    # blocks of a new segment and of the state file), a disk still full is someone else's.
                    needed = sum(map(len, lines[written:])) + DISK_FULL_SLACK
                    if exc.errno in DISK_FULL and freed < needed:
                        dropped = self._drop_for_space(exc)
                        if dropped:
                            freed += dropped
                            continue
                    self.spooled_results += written
                    raise SpoolWriteError(exc, written) from exc
            self.spooled_results += len(lines)
            self._enforce_cap()
        return len(lines)

    def _make_current(self, line_bytes: int) -> None:
        """An open segment that takes a line of ``line_bytes`` (an empty one takes any line)."""
        current = self._current
        if current is not None and current.count and self._overflows(current.count, current.size, line_bytes):
            self._seal_current()
        if self._current is None:
            self._open_segment()

    def _fitting(self, lines: list[bytes], start: int) -> int:
        """How many of ``lines[start:]`` go into the open segment (at least one)."""
        assert self._current is not None
        count, size, take = self._current.count or 0, self._current.size, 0
        for line in lines[start:]:
            if take and self._overflows(count, size, len(line)):
                break
            take, count, size = take + 1, count + 1, size + len(line)
        return take

    def _overflows(self, count: int, size: int, line_bytes: int) -> bool:
        """Whether a segment of ``count`` records and ``size`` bytes is too full for one more line."""
        return count >= self.batch_max_results or size + line_bytes > self._segment_limit

    def _open_segment(self) -> None:
        seq = self.state["next_segment"]
        self.state["next_segment"] = seq + 1
        self._save_state()  # a sequence number is never handed out twice
        name = f"{seq:012d}-{secrets.token_hex(3)}.jsonl"
        self._fd = os.open(self.segments_dir / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o600)
        fsync_dir(self.segments_dir)
        self._current = Segment(name, seq, 0, 0)
        self._segment_limit = self._limit_for_room()

    def _limit_for_room(self) -> int:
        """The open segment's size limit: ``segment_max_bytes``, or less when the spool's disk has little room
        (its own bytes plus the free space), so that dropping the oldest segment frees a small part of it."""
        try:
            st = os.statvfs(self.segments_dir)
        except OSError:
            return self.segment_max_bytes
        room = self._bytes + st.f_bavail * st.f_frsize
        return max(4096, min(self.segment_max_bytes, room // ROOM_PER_SEGMENT))

    def _write(self, chunk: list[bytes]) -> None:
        if not chunk:
            return
        assert self._fd is not None and self._current is not None
        data = b"".join(chunk)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(self._fd, view):]
            os.fsync(self._fd)
        except OSError:
            # A short write (disk full) must not leave half a line that would swallow the next one.
            try:
                os.ftruncate(self._fd, self._current.size)
            except OSError:
                pass
            raise
        self._current.size += len(data)
        self._current.count = (self._current.count or 0) + len(chunk)
        self._bytes += len(data)

    def _seal_current(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        if self._current is not None:
            if self._current.count:
                self._sealed.append(self._current)
            else:
                _unlink(self.segments_dir / self._current.name)
            self._current = None

    def seal(self) -> bool:
        """Seal the open segment if it holds anything; True if it did."""
        with self._lock:
            if self._current is None or not self._current.count:
                return False
            self._seal_current()
            return True

    def _enforce_cap(self) -> None:
        dropped = 0
        while self._bytes > self.max_bytes:
            victim = self._oldest_droppable()
            if victim is None:
                break
            count = self._drop(victim)
            dropped += count
            log.warning(
                "spool full (more than %d bytes): dropped the oldest %d result(s) (segment %s) that the collector "
                "has not received", self.max_bytes, count, victim.name)
        if dropped:
            self._count_dropped(dropped)

    def _drop_for_space(self, exc: OSError) -> int:
        """The disk is full: drop the oldest segment not being sent; the bytes freed (0: nothing to drop)."""
        victim = self._oldest_droppable()
        if victim is None and self._current is not None and self._current.count:
            self._seal_current()  # only the open segment holds anything: it goes, new results follow
            victim = self._oldest_droppable()
        if victim is None:
            return 0  # the caller says what was lost (agent.service logs it, counted)
        count = self._drop(victim)
        log.warning(
            "spool disk full (%s; %d bytes spooled in %s): dropped the oldest %d result(s) (segment %s) that the "
            "collector has not received", exc.strerror or exc, self._bytes + victim.size, self.dir, count,
            victim.name)
        self._count_dropped(count)
        return victim.size

    def _oldest_droppable(self) -> Segment | None:
        return next((s for s in self._sealed if s.name != self._inflight), None)

    def _drop(self, victim: Segment) -> int:
        """Delete a sealed segment the collector has not received; its number of records."""
        self._sealed.remove(victim)
        path = self.segments_dir / victim.name
        count = victim.count if victim.count is not None else _count_lines(path)
        _unlink(path)
        self._bytes -= victim.size
        return count

    def _count_dropped(self, count: int) -> None:
        self.state["dropped_results"] += count
        log.warning("%d result(s) dropped from the full spool since it was created", self.state["dropped_results"])
        self._save_state_or_log()

    # -- reading and acknowledging ---------------------------------------------------------------

    def has_sealed(self) -> bool:
        with self._lock:
            return bool(self._sealed)

    def next_batch(self) -> Batch | None:
        """The oldest sealed segment as a batch (damaged lines cut out and counted), or None."""
        while True:
            with self._lock:
                if not self._sealed:
                    return None
                segment = self._sealed[0]
                self._inflight = segment.name
            path = self.segments_dir / segment.name
            try:
                data = path.read_bytes()
            except FileNotFoundError:
                self._forget(segment)
                continue
            except OSError as exc:
                log.error("cannot read spool segment %s (%s): setting it aside", path, exc)
                self._set_aside(segment, f"unreadable: {exc}")
                continue
            records, damaged, targets = [], 0, set()
            for line in _lines(data):
                decoded = decode_record(line)
                if decoded is None:
                    damaged += 1
                else:
                    records.append(decoded[0])
                    targets.add(decoded[1].get("target") if isinstance(decoded[1], dict) else None)
            del data
            if damaged:
                self._cut_damaged(segment, records, damaged)
            if not records:
                self._forget(segment, unlink=True)
                continue
            segment.count = len(records)
            return Batch(f"{self.agent_id}-{segment.stem}", segment, records, frozenset(targets))

    def _cut_damaged(self, segment: Segment, records: list[bytes], damaged: int) -> None:
        log.warning("spool segment %s: %d damaged record(s) skipped (torn write or corruption)", segment.name, damaged)
        path = self.segments_dir / segment.name
        data = b"".join(b"%08x %s\n" % (zlib.crc32(p), p) for p in records)
        with self._lock:
            self.state["corrupt_records"] += damaged
            if records:
                try:
                    write_atomic(path, data)  # the batch stays the same from now on, and is counted once
                except OSError as exc:  # a full disk: send the good records all the same
                    log.warning("cannot rewrite spool segment %s without its damaged records: %s", segment.name, exc)
                    return
            self._bytes += len(data) - segment.size
            segment.size = len(data)
            self._save_state_or_log()

    def _forget(self, segment: Segment, unlink: bool = False) -> None:
        with self._lock:
            if unlink:
                _unlink(self.segments_dir / segment.name)
                fsync_dir(self.segments_dir)
            if segment in self._sealed:
                self._sealed.remove(segment)
                self._bytes -= segment.size
            if self._inflight == segment.name:
                self._inflight = None

    def ack(self, batch: Batch) -> None:
        """The collector holds the batch: delete it from the spool."""
        self._forget(batch.segment, unlink=True)
        with self._lock:
            self.delivered_results += batch.count

    def release(self, batch: Batch) -> None:
        """The batch could not be sent now; it stays first in line."""
        with self._lock:
            if self._inflight == batch.segment.name:
                self._inflight = None

    def reject(self, batch: Batch, reason: str) -> None:
        """The collector refused the batch itself: move it to rejected/ with the reason, never retry it."""
        with self._lock:
            self.state["rejected_results"] += batch.count
            self.state["rejected_batches"] += 1
        self._set_aside(batch.segment, reason)

    def _set_aside(self, segment: Segment, reason: str) -> None:
        with self._lock:
            try:
                (self.rejected_dir / f"{segment.stem}.reason").write_text(reason.rstrip() + "\n", encoding="utf-8")
            except OSError as exc:  # a full disk: the batch is set aside all the same, its reason only logged
                _unlink(self.rejected_dir / f"{segment.stem}.reason")
                log.error("cannot write %s.reason (%s); the reason was: %s", segment.stem, exc, reason.rstrip())
            try:
                os.replace(self.segments_dir / segment.name, self.rejected_dir / segment.name)
            except FileNotFoundError:
                pass
            fsync_dir(self.rejected_dir)
            fsync_dir(self.segments_dir)
            self._forget(segment)
            self._save_state_or_log()
            self._prune_rejected()

    def _prune_rejected(self) -> None:
        kept = sorted(p for p in self.rejected_dir.glob("*.jsonl"))
        for old in kept[:-MAX_REJECTED_FILES]:
            _unlink(old)
            _unlink(old.with_suffix(".reason"))

    # -- status ----------------------------------------------------------------------------------

    def pending(self) -> tuple[int, int, int]:
        """(batches, results, bytes) waiting in the spool, the open segment included."""
        with self._lock:
            segments = list(self._sealed) + ([self._current] if self._current and self._current.count else [])
            return len(segments), sum(s.count or 0 for s in segments), self._bytes

    def counters(self) -> dict[str, int]:
        with self._lock:
            return {key: self.state[key] for key in COUNTERS}

    def close(self) -> None:
        with self._lock:
            self._seal_current()
            self._save_state()


def _lines(data: bytes) -> Iterator[bytes]:
    start = 0
    while start < len(data):
        end = data.find(b"\n", start)
        if end < 0:
            yield data[start:]  # a torn last line: no newline
            return
        yield data[start:end + 1]
        start = end + 1


def _count_lines(path: Path) -> int:
    count, last = 0, b"\n"
    with open(path, "rb") as fh:
        while block := fh.read(256 * 1024):
            count += block.count(b"\n")
            last = block[-1:]
    return count + (last != b"\n")


def _unlink(path: Path) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
