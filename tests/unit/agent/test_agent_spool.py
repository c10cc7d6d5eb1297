"""The spool: durable before sending, deleted only when acknowledged, stable batch ids, bounded size."""

import errno
import json
import os
import re
from types import SimpleNamespace

import pytest

from agent import spool as spool_module
from agent.spool import Spool, SpoolWriteError, decode_line, encode_line


def record(n: int, pad: int = 0) -> dict:
    return {"target": "web01", "check": "uptime", "item": "", "n": n, "pad": "x" * pad}


def ns(batch) -> list[int]:
    return [json.loads(r)["n"] for r in batch.records]


def segment_files(spool: Spool) -> list[str]:
    return sorted(p.name for p in spool.segments_dir.iterdir())


def test_written_read_back_as_a_batch_and_deleted_only_when_acknowledged(tmp_path):
    spool = Spool(tmp_path, "web01")
    assert spool.append([record(1), record(2), record(3)]) == 3
    assert spool.next_batch() is None  # the open segment is not a batch until sealed
    assert spool.seal()
    batch = spool.next_batch()
    assert re.fullmatch(r"web01-\d{12}-[0-9a-f]{6}", batch.batch_id)
    assert ns(batch) == [1, 2, 3]
    body = json.loads(batch.body("web01"))
    assert body == {"schema": "patrol.batch/1", "batch_id": batch.batch_id, "agent": "web01",
                    "results": [record(1), record(2), record(3)]}
    spool.release(batch)  # a failed send: still there, still first
    assert spool.next_batch().batch_id == batch.batch_id
    spool.ack(batch)
    assert spool.next_batch() is None
    assert segment_files(spool) == []
    assert spool.pending() == (0, 0, 0)
    assert spool.delivered_results == 3


def test_a_restart_resumes_pending_batches_with_the_same_ids(tmp_path):
    first = Spool(tmp_path, "web01")
    first.append([record(1), record(2)])
    first.seal()
    sealed_id = first.next_batch().batch_id  # sent, no answer: the process dies
    first.append([record(3)])  # still open when the process dies (no close, no seal)

    second = Spool(tmp_path, "web01")
    assert second.pending()[:2] == (2, 3)
    batch = second.next_batch()
    assert batch.batch_id == sealed_id and ns(batch) == [1, 2]
    second.ack(batch)
    batch = second.next_batch()  # the segment the dead process had open is a batch now
    assert ns(batch) == [3]
    open_id = batch.batch_id
    # ... and it is never appended to again: new results go to a new segment, with a new id
    second.append([record(4)])
    second.seal()
    second.ack(batch)
    batch = second.next_batch()
    assert ns(batch) == [4] and batch.batch_id not in (sealed_id, open_id)


def test_ids_are_never_reused_even_after_everything_was_acknowledged(tmp_path):
    ids = set()
    for _ in range(3):
        spool = Spool(tmp_path, "web01")
        spool.append([record(1)])
        spool.seal()
        batch = spool.next_batch()
        ids.add(batch.batch_id)
        spool.ack(batch)
        spool.close()
    assert len(ids) == 3
    assert len({i.split("-")[1] for i in ids}) == 3  # distinct sequence numbers, not only random parts


def test_segments_hold_at_most_batch_max_results(tmp_path):
    spool = Spool(tmp_path, "web01", batch_max_results=10)
    spool.append(record(n) for n in range(25))
    spool.seal()
    sizes = []
    while (batch := spool.next_batch()) is not None:
        sizes.append(batch.count)
        spool.ack(batch)
    assert sizes == [10, 10, 5]


def test_agent_names_outside_the_batch_id_alphabet_are_made_safe(tmp_path):
    spool = Spool(tmp_path, "web 01/ü")
    spool.append([record(1)])
    spool.seal()
    assert re.fullmatch(r"[A-Za-z0-9._:-]{1,100}", spool.next_batch().batch_id)


def test_when_full_the_oldest_are_dropped_counted_and_reported(tmp_path, caplog):
    spool = Spool(tmp_path, "web01", max_bytes=64 * 1024, segment_max_bytes=8 * 1024)
    for n in range(200):  # about 100 KiB of records into a 64 KiB spool
        spool.append([record(n, pad=400)])
    counters = spool.counters()
    assert counters["dropped_results"] > 0
    batches, results, size = spool.pending()
    assert size <= 64 * 1024
    assert results + counters["dropped_results"] == 200
    assert "spool full" in caplog.text and "dropped the oldest" in caplog.text
    # the newest are kept, the oldest went first
    spool.seal()
    kept = []
    while (batch := spool.next_batch()) is not None:
        kept += ns(batch)
        spool.ack(batch)
    assert kept == list(range(200 - len(kept), 200))
    # the count survives a restart
    spool.close()
    assert Spool(tmp_path, "web01").counters()["dropped_results"] == counters["dropped_results"]
    assert json.loads((tmp_path / "state.json").read_text())["dropped_results"] == counters["dropped_results"]


def test_the_batch_being_sent_is_not_dropped(tmp_path):
    spool = Spool(tmp_path, "web01", max_bytes=64 * 1024, segment_max_bytes=8 * 1024)
    spool.append([record(0, pad=400)])
    spool.seal()
    sending = spool.next_batch()
    for n in range(1, 300):
        spool.append([record(n, pad=400)])
    assert (spool.segments_dir / sending.segment.name).exists()
    spool.ack(sending)
    assert spool.delivered_results == 1


def test_damaged_records_are_skipped_counted_once_and_the_rest_is_sent(tmp_path, caplog):
    spool = Spool(tmp_path, "web01")
    spool.append([record(1), record(2), record(3), record(4)])
    spool.close()
    [name] = segment_files(spool)
    path = spool.segments_dir / name
    lines = path.read_bytes().splitlines(keepends=True)
    flipped = lines[1].replace(b'"n":2', b'"n":7')  # a flipped bit: the checksum no longer matches
    path.write_bytes(lines[0] + flipped + lines[2] + lines[3][:20])  # and a torn last line (power loss)

    spool = Spool(tmp_path, "web01")
    batch = spool.next_batch()
    assert ns(batch) == [1, 3]
    assert spool.counters()["corrupt_records"] == 2
    assert "2 damaged record(s) skipped" in caplog.text
    spool.release(batch)
    again = Spool(tmp_path, "web01").next_batch()  # cut out once: counted once, same batch
    assert again.batch_id == batch.batch_id and ns(again) == [1, 3]
    assert Spool(tmp_path, "web01").counters()["corrupt_records"] == 2


def test_a_segment_that_is_all_garbage_is_counted_and_skipped(tmp_path):
    spool = Spool(tmp_path, "web01")
    spool.append([record(1)])
    spool.seal()
    spool.append([record(2)])
    spool.close()
    oldest = spool.segments_dir / segment_files(spool)[0]
    oldest.write_bytes(b"\x00\x00\x00garbage\n\x00")
    spool = Spool(tmp_path, "web01")
    batch = spool.next_batch()
    assert ns(batch) == [2]
    assert spool.counters()["corrupt_records"] == 2
    assert not oldest.exists()


def test_a_rejected_batch_is_moved_aside_with_the_reason(tmp_path):
    spool = Spool(tmp_path, "web01")
    spool.append([record(1), record(2)])
    spool.seal()
    batch = spool.next_batch()
    spool.reject(batch, "HTTP 422 results.0.status: bad")
    assert spool.next_batch() is None
    stem = batch.segment.stem
    assert (spool.rejected_dir / f"{stem}.jsonl").exists()
    assert "422" in (spool.rejected_dir / f"{stem}.reason").read_text()
    assert spool.counters()["rejected_results"] == 2 and spool.counters()["rejected_batches"] == 1


def test_a_failed_write_leaves_no_half_line(tmp_path, monkeypatch):
    spool = Spool(tmp_path, "web01")
    spool.append([record(1)])
    real_write = os.write

    def short_then_fail(fd, data):
        real_write(fd, bytes(data[:10]))
        raise OSError(errno.EIO, "Input/output error")  # not a full disk: nothing is dropped for it

    monkeypatch.setattr(spool_module.os, "write", short_then_fail)
    with pytest.raises(SpoolWriteError) as failed:
        spool.append([record(2)])
    assert failed.value.written == 0 and failed.value.errno == errno.EIO
    monkeypatch.setattr(spool_module.os, "write", real_write)
    spool.append([record(3)])
    spool.seal()
    batch = spool.next_batch()
    assert ns(batch) == [1, 3]
    assert spool.counters()["corrupt_records"] == 0


class FakeDisk:
    """A filesystem of ``size`` bytes under ``root``, for os.write and os.statvfs: a write beyond it writes what
    fits and then fails with ENOSPC, as a full disk does (a short write, then the error)."""

    def __init__(self, root, size: int) -> None:
        self.root, self.size = root, size
        self.real_write = os.write

    def used(self) -> int:
        return sum(p.stat().st_size for p in self.root.rglob("*") if p.is_file())

    def write(self, fd, data) -> int:
        room = self.size - self.used()
        if len(data) > room:
            if room > 0:
                self.real_write(fd, bytes(data[:room]))
            raise OSError(errno.ENOSPC, "No space left on device")
        return self.real_write(fd, data)

    def statvfs(self, path):
        return SimpleNamespace(f_bavail=max(0, self.size - self.used()), f_frsize=1)

    def install(self, monkeypatch) -> None:
        monkeypatch.setattr(spool_module.os, "write", self.write)
        monkeypatch.setattr(spool_module.os, "statvfs", self.statvfs)


def test_a_full_disk_drops_the_oldest_for_the_newest_counted_and_without_a_damaged_line(tmp_path, monkeypatch,
                                                                                       caplog):
    FakeDisk(tmp_path, 64 * 1024).install(monkeypatch)
    spool = Spool(tmp_path, "web01")  # the default cap, 100 MB: the disk is the limit, not the cap
    for n in range(300):  # about 130 KiB of records onto a 64 KiB disk
        assert spool.append([record(n, pad=400)]) == 1
    dropped = spool.counters()["dropped_results"]
    assert dropped > 0
    assert spool.pending()[1] + dropped == 300
    assert spool.spooled_results == 300
    assert "spool disk full (No space left on device" in caplog.text and "dropped the oldest" in caplog.text
    assert not [p for p in spool.segments_dir.iterdir() if p.name.startswith(".")]  # no half-written temp file
    spool.seal()
    kept = []
    while (batch := spool.next_batch()) is not None:
        kept += ns(batch)
        spool.ack(batch)
    assert kept == list(range(300 - len(kept), 300))  # the newest, in order; the oldest went
    assert spool.counters()["corrupt_records"] == 0
    assert json.loads((tmp_path / "state.json").read_text())["dropped_results"] == dropped


def test_on_a_small_disk_segments_are_small_so_that_a_drop_frees_little(tmp_path, monkeypatch):
    FakeDisk(tmp_path, 128 * 1024).install(monkeypatch)
    spool = Spool(tmp_path, "web01")
    spool.append([record(n, pad=400) for n in range(40)])
    sizes = [p.stat().st_size for p in spool.segments_dir.iterdir()]
    assert len(sizes) > 1 and max(sizes) <= 128 * 1024 // 16


def test_a_disk_filled_by_someone_else_costs_the_spool_at_most_what_the_new_records_need(tmp_path, monkeypatch):
    spool = Spool(tmp_path, "web01", segment_max_bytes=8 * 1024)
    for n in range(100):
        spool.append([record(n, pad=400)])

    def full(fd, data):  # another program took the disk: whatever ours frees, it takes
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(spool_module.os, "write", full)
    with pytest.raises(SpoolWriteError) as failed:
        spool.append([record(100, pad=400)])
    assert failed.value.written == 0 and failed.value.errno == errno.ENOSPC
    dropped = spool.counters()["dropped_results"]
    assert 0 < dropped <= 2 * (8 * 1024 // 450 + 1)  # what one record and the slack need: two segments at most
    assert spool.pending()[1] == 100 - dropped


def test_line_format_round_trip():
    line = encode_line({"a": "ü"})
    assert decode_line(line) == '{"a":"ü"}'.encode()
    assert decode_line(line[:-1]) is None  # no newline: torn
    assert decode_line(b"zzzzzzzz {}\n") is None
