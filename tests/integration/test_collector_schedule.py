"""Scheduled patrols inside a real `patrol serve`: local checks run in process, agents' results are
attached to the run by playbook and scheduled time, and what an agent did not report is a failed
collection in the run and its report."""
import datetime as dt
import time

import pytest

from collector.store.store import Store

from .collector_support import PLAYBOOK, Collector, batch, result

pytestmark = pytest.mark.integration

EVERY = 3  # seconds


def test_scheduled_run_gathers_agents_and_marks_the_silent_ones(tmp_path):
    c = Collector(tmp_path, settings={"grace_seconds": 2, "report_dir": str(tmp_path / "reports")})
    c.write_files({"fleet": PLAYBOOK.format(name="fleet", schedule=f"@every {EVERY}s", hosts="all")})
    c.create_token("agent", "web01")
    c.start()
    try:
        pushed: set[float] = set()
        run = None
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline and run is None:
            # web01 behaves like its agent would: one memory result per firing, stamped with the firing's time.
            now = time.time()
            firing = now - now % EVERY
            if firing not in pushed:
                stamp = dt.datetime.fromtimestamp(firing, dt.UTC).isoformat()
                body = batch("web01", [result("web01", playbook="fleet", scheduled_at=stamp)])
                assert c.push(body).status_code == 200
                pushed.add(firing)
            run = finished_run_after(c, min(pushed))
            time.sleep(0.3)
        assert run is not None, c.log()
        with Store.open(c.db) as store:
            results = {(r.target, r.check): r for r in store.run_results(run.id)}
        assert run.source == "schedule" and run.playbook == "fleet"
        assert results[("here", "memory")].collected and results[("here", "uptime")].collected
        assert results[("web01", "memory")].collected and results[("web01", "memory")].summary == "42.0% used"
        for missing in (("web01", "uptime"), ("web02", "memory"), ("web02", "uptime")):
            assert not results[missing].collected and "did not report" in results[missing].summary
        assert all(r.playbook == "fleet" and r.scheduled_at == run.started_at for r in results.values())
        # The report is written after the run is closed: wait for it, as a reader of the directory would.
        reports: list = []
        deadline = time.monotonic() + 60
        while not reports and time.monotonic() < deadline:
            reports = list((tmp_path / "reports").glob(f"fleet-{run.id}-*.json"))
            time.sleep(0.2)
        assert reports, (list((tmp_path / "reports").glob("*")), c.log())
    finally:
        c.kill(15)


def finished_run_after(c: Collector, first_push: float):
    """The first finished scheduled run whose firing web01 had pushed for."""
    with Store.open(c.db) as store:
        for run in sorted(store.latest_runs(), key=lambda r: r.id):
            if run.finished_at and run.started_at.timestamp() >= first_push:
                return run
    return None
