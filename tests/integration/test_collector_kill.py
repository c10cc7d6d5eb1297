"""Exactly once under SIGKILL: a collector killed again and again while a client pushes with retries
(as agents do) ends up with every acknowledged batch stored once and every produced result delivered."""
import threading
import time

import pytest
import requests
import sqlalchemy as sa

from .collector_support import Collector, batch, result

pytestmark = pytest.mark.integration

BATCHES = 400
PER_BATCH = 20


def test_sigkill_loses_and_duplicates_nothing(tmp_path):
    c = Collector(tmp_path)
    c.write_files()
    c.create_token("agent", "web01")
    c.start()
    acked: list[str] = []
    done = threading.Event()

    def pusher():
        for n in range(BATCHES):
            body = batch("web01", [result("web01", item=str(i)) for i in range(PER_BATCH)], batch_id=f"b{n:04d}")
            delay = 0.05
            while True:  # retry the same batch id until the collector acknowledges it
                try:
                    r = c.push(body)
                    if r.status_code == 200:
                        acked.append(body["batch_id"])
                        break
                    assert r.status_code >= 500, r.text  # only a dying server may refuse a good batch
                except requests.RequestException:
                    pass
                time.sleep(delay)
                delay = min(delay * 2, 0.5)
        done.set()

    thread = threading.Thread(target=pusher)
    thread.start()
    kills = 0
    try:
        while not done.wait(0.3):
            c.kill()  # SIGKILL, mid-request or not
            kills += 1
            c.start()
        thread.join(60)
    finally:
        c.kill(15)
    assert kills >= 3 and len(acked) == BATCHES
    engine = sa.create_engine(c.db)
    with engine.connect() as conn:
        total = conn.execute(sa.text("SELECT count(*) FROM results")).scalar_one()
        per_batch = conn.execute(sa.text("SELECT batch_id, count(*) FROM results GROUP BY batch_id")).all()
        recorded = conn.execute(sa.text("SELECT count(*) FROM ingest_batches")).scalar_one()
    engine.dispose()
    assert total == BATCHES * PER_BATCH
    assert recorded == BATCHES and all(n == PER_BATCH for _, n in per_batch)
