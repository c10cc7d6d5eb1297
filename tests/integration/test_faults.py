"""Faults (issue 9): PostgreSQL restarting under a collector, an agent's spool disk filling up, a notification
channel that hangs. Real processes throughout: `patrol serve`, `patrol-agent`, PostgreSQL, HTTP receivers.

Each test prints what was lost and how long recovery took as a markdown table (run with -s). Timings are
measured and printed, never asserted: this is a shared 2-core machine. What is asserted is what must hold
whatever the timing: nothing acknowledged is lost, nothing is stored twice, what is dropped is counted.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import signal
import statistics
import time
from collections import Counter
from pathlib import Path

import pytest
import requests

from .agent_support import AgentProcess, wait_until
from .collector_support import Collector, batch, result
from .fault_support import (
    HangSwitch,
    StoreReader,
    Tmpfs,
    cpu_seconds,
    final_status,
    key,
    print_figures,
    read_segment,
    spool_segments,
    unix_time,
)
from .notify_support import Receiver
from .pg import start_postgres

pytestmark = pytest.mark.integration

AGENTS = ("web01", "web02")
OUTAGE_SECONDS = 10.0


def agents_playbook(name: str, tasks: int = 1, checks: tuple[str, ...] = ("memory", "uptime")) -> str:
    """A playbook of the agent hosts, every second, without report files (a report a second would load the
    machine more than the fault does)."""
    lines = [f"name: {name}", 'schedule: "@every 1s"', "report: {formats: []}", "tasks:"]
    for n in range(tasks):
        lines += [f"  - name: {name} {n}", "    hosts: agents", "    checks:", *[f"      - {c}" for c in checks]]
    return "\n".join(lines) + "\n"


def start_agent(tmp_path: Path, collector: Collector, name: str, spool: Path, *extra: str) -> AgentProcess:
    token = tmp_path / f"{name}.token"
    token.write_text(collector.create_token("agent", name) + "\n")
    token.chmod(0o600)
    return AgentProcess(
        ["--collector", collector.url, "--name", name, "--token-file", str(token), "--spool", str(spool),
         "--push-interval", "0.5", "--max-backoff", "2", "--jitter", "0.2", *extra],
        tmp_path / f"{name}.log",
    )


def get(collector: Collector, path: str, kind: str = "", name: str = "") -> requests.Response:
    headers = collector.headers(kind, name) if kind else {}
    return requests.get(collector.url + path, headers=headers, timeout=10)


def critical(item: str, n: int) -> dict:
    return result("web01", check="disk", item=item, status="CRITICAL", summary=f"{item} 97% used ({n})")


def events(collector: Collector) -> list[dict]:
    answer = get(collector, "/api/v1/events?state=all", "viewer", "ops")
    assert answer.status_code == 200, answer.text
    return answer.json()


# -- 1. PostgreSQL restarts under the collector ------------------------------------------------------------


def test_postgresql_restart_loses_nothing_acknowledged_and_the_collector_recovers(tmp_path):
    pg = start_postgres()
    collector = agents = store = None
    try:
        url = pg.create_database("patrol_faults")
        collector = Collector(tmp_path / "collector", database=url, settings={
            "grace_seconds": 5, "events": {"evaluate_interval": "200ms", "tick_interval": "1s"}})
        collector.root.mkdir()
        collector.write_files({"agents": agents_playbook("agents")})
        collector.create_token("viewer", "ops")
        collector.start()
        store = StoreReader(url)
        agents = {name: start_agent(tmp_path, collector, name, tmp_path / f"spool-{name}") for name in AGENTS}
        for agent in agents.values():
            agent.wait_for("plan: 2 checks")
        wait_until(lambda: {r.target for r in store.agent_results()} == set(AGENTS), 30, "both agents delivering")

        figures: dict[str, object] = {}
        windows = []  # (down, back) of each outage, Unix time
        for mode in ("fast", "kill -9"):
            # -- the outage --
            down = time.time()
            if mode == "fast":
                pg.halt("fast")
            else:
                pg.kill_postmaster()
            healthz, readyz, probes, pending = [], [], [], 0
            probe = batch("web01", [result("web01", check="probe", item=mode)], batch_id=f"probe-{mode.split()[0]}")
            while time.time() - down < OUTAGE_SECONDS:
                assert collector.process.poll() is None, f"patrol serve exited during the outage:\n{collector.log()}"
                healthz.append(get(collector, "/healthz").status_code)
                readyz.append(get(collector, "/readyz").status_code)
                if len(probes) < 3:
                    probes.append(collector.push(probe).status_code)
                pending = max(pending, sum(len(read_segment(p)[0]) for a in AGENTS
                                           for p in spool_segments(tmp_path / f"spool-{a}")))
                time.sleep(0.5)
            # -- back --
            pg.start()
            back = time.time()
            windows.append((down, back))
            waiting = {a: set(spool_segments(tmp_path / f"spool-{a}")) for a in AGENTS}  # the backlog now

            accepted_at = wait_until(lambda back=back: _first_accepted(store, back), 60,
                                     f"a push accepted after PostgreSQL came back ({mode})")
            wait_until(lambda waiting=waiting: not any(p.exists() for files in waiting.values() for p in files), 60,
                       f"the agents' backlog from the outage delivered ({mode})")
            drained = time.time()
            again = collector.push(probe)  # the same batch id as during the outage: it was never acknowledged
            assert again.status_code == 200 and again.json()["duplicate"] is False, again.text

            assert set(healthz) == {200}, f"/healthz during the outage: {Counter(healthz)}"
            assert 503 in readyz, f"/readyz never said the store is unavailable: {Counter(readyz)}"
            assert probes and set(probes) == {503}, f"pushes during the outage were answered {probes}"
            assert pending > 0, "nothing waited in the agents' spools during the outage"
            for agent in agents.values():
                assert "kept in the spool" in agent.log(), agent.log()[-2000:]
            figures |= {
                f"{mode}: /healthz answers during the outage": dict(Counter(healthz)),
                f"{mode}: /readyz answers during the outage": dict(Counter(readyz)),
                f"{mode}: pushes during the outage (answers)": probes,
                f"{mode}: most results waiting in the spools": pending,
                f"{mode}: PostgreSQL back -> first push accepted (s)": accepted_at - back,
                f"{mode}: PostgreSQL back -> outage backlog delivered (s)": drained - back,
            }

        # -- the event engine works again: a result pushed now becomes an event in the API --
        pushed = time.monotonic()
        for n in range(2):  # open_after: 2
            answer = collector.push(batch("web01", [critical("/after-restart", n)], batch_id=f"after-restart-{n}"))
            assert answer.status_code == 200, answer.text
        wait_until(lambda: [e for e in events(collector) if e["item"] == "/after-restart"], 30,
                   "an event from results pushed after the restarts")
        figures["event in the API after the push (s)"] = time.monotonic() - pushed

        runs_before = len(_scheduled_runs(store))
        time.sleep(3)
        resumed = len(_scheduled_runs(store)) - runs_before
        assert resumed > 0, "the collector's scheduler started no run after PostgreSQL came back"
        figures["scheduled runs started in 3 s after recovery (@every 1s)"] = resumed
        during = [t for t in _scheduled_runs(store) if any(d <= t <= b for d, b in windows)]
        figures["scheduled runs started during the outages (firings in them)"] = (
            f"{len(during)} ({sum(int(b - d) for d, b in windows)} s down)")

        for agent in agents.values():
            assert agent.terminate() == 0, agent.log()[-3000:]
        assert collector.process.poll() is None, collector.log()[-3000:]

        stored = store.agent_results()
        produced = stored_total = left_total = duplicates = 0
        for name in AGENTS:
            spooled = final_status(agents[name].log())["spooled"]
            mine = [r for r in stored if r.target == name and r.check != "probe" and not r.item.startswith("/")]
            left = [key(r) for p in spool_segments(tmp_path / f"spool-{name}") for r in read_segment(p)[0]]
            keys = Counter(r.key for r in mine)
            duplicates += sum(n - 1 for n in keys.values())
            produced, stored_total, left_total = produced + spooled, stored_total + len(mine), left_total + len(left)
            assert len(mine) + len(left) == spooled, (name, spooled, len(mine), len(left))
        assert duplicates == 0, "a result was stored twice"
        claimed = store.batches()
        per_batch = Counter(r.batch_id for r in stored)
        assert {b: n for b, (_, n) in claimed.items()} == dict(per_batch), "a batch's results are not all stored once"
        figures |= {"results produced (agents' own count)": produced, "stored": stored_total,
                    "left in the spools after SIGTERM": left_total, "duplicates": duplicates,
                    "lost": produced - stored_total - left_total, "batches stored": len(claimed)}
        print_figures("PostgreSQL restart (fast, then kill -9), 10 s down each, 2 agents @every 1s", figures)
    finally:
        for agent in (agents or {}).values():
            if agent.proc.poll() is None:
                agent.kill()
        if collector is not None:
            collector.kill(signal.SIGTERM)
        if store is not None:
            store.close()
        pg.stop()


def _first_accepted(store: StoreReader, since: float) -> float | None:
    """When the first agent batch after ``since`` (Unix time) was stored, by the collector's clock."""
    received = [at for b, (at, _) in store.batches().items() if at >= since and not b.startswith("probe")]
    return min(received) if received else None


def _scheduled_runs(store: StoreReader) -> list[float]:
    """When each scheduled patrol run started (Unix time)."""
    import sqlalchemy as sa

    with store.engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT started_at FROM patrol_runs WHERE source = 'schedule'")).scalars()
        return [unix_time(at) for at in rows]


# -- 2. An agent's spool disk fills up --------------------------------------------------------------------


def test_a_full_spool_disk_drops_the_oldest_counted_and_delivers_the_rest(tmp_path):
    collector = Collector(tmp_path / "collector", settings={"grace_seconds": 5})
    collector.root.mkdir()
    collector.write_files({"fill": agents_playbook(
        "fill", tasks=3, checks=("memory", "swap", "load", "uptime", "disk", "network_interfaces"))})
    disk = Tmpfs(tmp_path / "spool", "256k")
    agent = store = None
    try:
        collector.start()
        store = StoreReader(collector.db)
        agent = start_agent(tmp_path, collector, "web01", disk.path)
        agent.wait_for("plan: 18 checks")
        wait_until(lambda: store.agent_results(), 30, "a first delivery")
        collector.kill(signal.SIGTERM)  # the collector is gone: the spool grows
        down = time.monotonic()

        seen: dict[tuple, dict] = {}  # every result seen in the spool while the collector was away
        damaged = 0

        def sample() -> list[dict]:
            nonlocal damaged
            records = []
            paths = spool_segments(disk.path)
            for path in paths:
                found, bad = read_segment(path)
                records += found
                if path != paths[-1]:  # the newest is open: an append may be under way
                    damaged += bad
            for record in records:
                seen.setdefault(key(record), record)
            return records

        def full() -> bool:
            sample()
            assert agent.proc.poll() is None, f"the agent exited when its disk filled:\n{agent.log()[-3000:]}"
            return "spool disk full" in agent.log()

        wait_until(full, 120, "the agent saying its spool disk is full", interval=0.2)
        filled = time.monotonic()
        full_at = dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")
        cpu_before = cpu_seconds(agent.proc.pid)
        while time.monotonic() - filled < 5:  # stays full for a while: checks go on, the oldest go
            sample()
            time.sleep(0.2)
        cpu_full = cpu_seconds(agent.proc.pid) - cpu_before
        full_seconds = time.monotonic() - filled
        in_spool = sample()
        newest = read_segment(spool_segments(disk.path)[-1])[0]  # the open segment: the latest results
        used, size = disk.usage()
        assert agent.proc.poll() is None, agent.log()[-3000:]
        assert damaged == 0, f"{damaged} damaged line(s) in sealed spool segments"
        assert max(key(r)[3] for r in in_spool) > full_at, "no check result was spooled once the disk was full"

        collector.start()
        back = time.monotonic()
        waiting = set(spool_segments(disk.path))
        wait_until(lambda: not any(p.exists() for p in waiting), 60, "the spool delivered after the collector's return")
        drained = time.monotonic() - back
        assert agent.terminate() == 0, agent.log()[-3000:]
        status = final_status(agent.log())

        stored = {r.key: r for r in store.agent_results()}
        left = [key(r) for p in spool_segments(disk.path) for r in read_segment(p)[0]]
        duplicates = len(store.agent_results()) - len(stored)
        missing = [k for k in seen if k not in stored and k not in left]
        first_seen = min(k[3] for k in seen)  # the oldest result waiting when the collector went away
        newest_missing = max((k[3] for k in missing), default="")
        kept_older = [k for k in stored if first_seen <= k[3] < newest_missing]
        drop_lines = re.findall(r"spool disk full.*", agent.log())

        print_figures("Spool disk full (tmpfs 256 KiB, collector stopped)", {
            "results spooled (agent)": status["spooled"], "delivered (agent)": status["delivered"],
            "stored at the collector": len(stored), "duplicates": duplicates, "left in the spool": len(left),
            "dropped (agent's count)": status["dropped"], "lost, not writable (agent's count)": status["lost"],
            "missing at the collector (spooled - stored - left)": status["spooled"] - len(stored) - len(left),
            "seen in the spool, never stored (sampled)": len(missing),
            "kept, though older than a dropped one (the batch in flight is never dropped)": len(kept_older),
            "corrupt / rejected (agent)": f"{status['corrupt']} / {status['rejected']}",
            "spool disk used at the end of the outage": f"{used} of {size} bytes",
            "collector down -> disk full (s)": filled - down,
            "agent CPU while the disk was full (s of CPU per s)": cpu_full / full_seconds,
            "collector back -> spool delivered (s)": drained,
            "drop log lines": len(drop_lines),
        })
        print("first drop line:", drop_lines[0] if drop_lines else None)

        assert status["dropped"] > 0, "the disk never filled: nothing was dropped"
        assert status["lost"] == 0, "new results were lost while older ones could have been dropped"
        assert duplicates == 0
        assert status["spooled"] - len(stored) - len(left) == status["dropped"], \
            "the agent's drop count differs from what the collector is missing"
        assert (status["corrupt"], status["rejected"]) == (0, 0)
        assert not list((disk.path / "rejected").iterdir())
        assert len(missing) == status["dropped"], "results vanished from the spool without being counted"
        # Oldest first: the first results of the outage went, the last ones were all delivered.
        assert all(k in missing for k in seen if k[3] == first_seen), "the oldest results were not the ones dropped"
        assert all(key(r) in stored for r in newest), "results spooled last, just before the collector came back, lost"
    finally:
        if agent is not None and agent.proc.poll() is None:
            agent.kill()
        collector.kill(signal.SIGTERM)
        if store is not None:
            store.close()
        disk.unmount()


# -- 3. A notification channel hangs ----------------------------------------------------------------------


def test_a_hanging_channel_holds_up_neither_pushes_nor_events_nor_the_other_channel(tmp_path):
    switch = HangSwitch()
    with Receiver(respond=switch) as stuck, Receiver() as healthy:
        collector = Collector(tmp_path, settings={
            "events": {"evaluate_interval": "200ms", "tick_interval": "1s"},
            "notifications": {
                "grouping": {"wait": 0, "window": 0},
                "channels": [
                    {"name": "healthy", "type": "webhook", "url": healthy.url},
                    {"name": "stuck", "type": "webhook", "url": stuck.url, "timeout": "2s",
                     "retries": {"attempts": 3, "backoff": "1s", "max_backoff": "2s"}},
                ],
                "routes": [{"channels": ["healthy", "stuck"]}],
            },
        })
        collector.write_files()
        collector.create_token("agent", "web01")
        collector.create_token("viewer", "ops")
        collector.create_token("metrics", "prom")
        collector.start()
        latencies: list[float] = []

        def open_events(items: list[str], tag: str) -> None:
            for n in range(2):  # open_after: 2 -- one batch with the first result of every item, then the second
                started = time.monotonic()
                answer = collector.push(batch("web01", [critical(i, n) for i in items], batch_id=f"{tag}-{n}"))
                latencies.append(time.monotonic() - started)
                assert answer.status_code == 200, answer.text

        def opened(receiver: Receiver, answered: bool = False) -> list[str]:
            return [n["item"] for r in list(receiver.requests) if not answered or r.answer == 200
                    for n in json.loads(r.body)["notices"] if n["change"] == "opened"]

        try:
            first = [f"/fault{n}" for n in range(1, 5)]
            second = [f"/fault{n}" for n in range(5, 7)]
            third = [f"/fault{n}" for n in range(7, 9)]
            open_events(first, "first")
            wait_until(lambda: set(first) <= {e["item"] for e in events(collector)}, 30, "events of the first pushes")
            wait_until(lambda: set(first) <= set(opened(healthy)), 30, "the healthy channel's first notices")
            wait_until(lambda: stuck.requests, 30, "a first try to the hanging channel")
            open_events(second, "second")  # while the stuck channel waits for its answer
            wait_until(lambda: set(first + second) <= {e["item"] for e in events(collector)}, 30,
                       "events while a channel hangs")
            wait_until(lambda: set(first + second) <= set(opened(healthy)), 30, "the healthy channel while one hangs")
            # The first message is given up after its 3 tries; then the next one goes: recover during its try.
            ids = wait_until(lambda: len({r.headers["Patrol-Delivery"] for r in stuck.requests}) >= 2 and
                             [r.headers["Patrol-Delivery"] for r in stuck.requests], 60,
                             "the hanging channel moving on to its next message")
            tries_while_hanging = Counter(ids)
            unanswered = [r for r in stuck.requests if r.answer != 200]
            gaps = [b.at - a.at for a, b in zip(stuck.requests, stuck.requests[1:], strict=False)]
            switch.recover()
            recovered = time.monotonic()
            open_events(third, "third")
            wait_until(lambda: set(second + third) <= set(opened(stuck, answered=True)), 60,
                       "the recovered channel's notices")
            delivered_after = time.monotonic() - recovered
            wait_until(lambda: set(first + second + third) <= set(opened(healthy)), 30, "the healthy channel's last")
            time.sleep(3)  # would a given-up message come back? (a try would be due within max_backoff)

            log = collector.log()
            failed_tries = len(re.findall(r"channel stuck: try \d+ failed", log))
            given_up = len(re.findall(r"channel stuck: delivery failed after", log))
            metrics = get(collector, "/metrics", "metrics", "prom").text
            notification_metrics = [line for line in metrics.splitlines()
                                    if "notif" in line and not line.startswith("#")]
            all_items = first + second + third
            got = Counter(opened(stuck, answered=True))
            print_figures("A hanging webhook channel (timeout 2 s, 3 attempts, backoff 1 s) beside a healthy one", {
                "events opened (API)": len({e["item"] for e in events(collector)} & set(all_items)),
                "healthy: opened notices received": len(opened(healthy)),
                "stuck: tries while hanging (per message)": sorted(tries_while_hanging.values(), reverse=True),
                "stuck: seconds between tries while hanging": [round(g, 1) for g in gaps],
                "stuck: notices delivered after recovery": sorted(got),
                "stuck: notices lost (given up while hanging)": sorted(set(all_items) - set(got)),
                "stuck: recovery -> all newer notices delivered (s)": delivered_after,
                "push latency median / max (s)": f"{statistics.median(latencies):.3f} / {max(latencies):.3f}",
                "collector log: stuck tries failed / given up": f"{failed_tries} / {given_up}",
                "/metrics lines about notifications": len(notification_metrics),
            })

            assert Counter(opened(healthy)) == Counter(all_items), "the healthy channel: each notice exactly once"
            assert set(all_items) <= {e["item"] for e in events(collector)}
            assert max(tries_while_hanging.values()) == 3 and all(n <= 3 for n in Counter(
                r.headers["Patrol-Delivery"] for r in stuck.requests).values()), "tries beyond 'attempts: 3'"
            assert all(r.answer == 0 for r in unanswered) and len(unanswered) >= 3
            assert all(n == 1 for n in got.values()), f"a notice delivered twice to the recovered channel: {got}"
            assert set(second + third) <= set(got)
            assert collector.process.poll() is None
        finally:
            collector.kill(signal.SIGTERM)
