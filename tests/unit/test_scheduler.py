"""The collector's scheduled patrol, fired in process on a real SQLite store."""
import datetime as dt
import json

from checks.registry import default_registry
from collector.config.site import SiteWatcher
from collector.plans import agent_plan
from collector.report.settings import ReportSettings
from collector.scheduler import PatrolScheduler
from collector.store.store import Store

INVENTORY = """\
all:
  hosts:
    here: {connection: local}
    web01: {patrol_agent: true}
"""
PLAYBOOK = """\
name: morning
schedule: "0 8 * * *"
report: {formats: [json]}
tasks:
  - name: hosts
    hosts: here
    checks: [memory, uptime]
  - name: agents
    hosts: web01
    checks: [disk]
"""


def make_site(tmp_path):
    (tmp_path / "inventory.yaml").write_text(INVENTORY)
    (tmp_path / "playbooks").mkdir()
    (tmp_path / "playbooks" / "morning.yaml").write_text(PLAYBOOK)
    return SiteWatcher(tmp_path / "inventory.yaml", tmp_path / "playbooks", default_registry())


def test_cron_is_read_in_the_collectors_zone_and_the_run_is_named_by_its_firing(tmp_path):
    site = make_site(tmp_path)
    with Store.open(f"sqlite:///{tmp_path}/patrol.db") as store:
        site_defaults = ReportSettings(organisation="ACME", inspector="Night shift")  # serve's report: section
        scheduler = PatrolScheduler(site, store, tmp_path / "reports", grace_seconds=1, timezone="Asia/Shanghai",
                                    report_defaults=site_defaults)
        now = dt.datetime(2026, 11, 23, 0, 0, 20, tzinfo=dt.UTC)  # 08:00:20 in Shanghai
        run_id = scheduler.fire("morning", now=now)
        run = store.get_run(run_id)
        assert run.source == "schedule" and run.started_at == dt.datetime(2026, 11, 23, 0, 0, tzinfo=dt.UTC)
        assert run.inspector == "Night shift"
        here = {r.check for r in store.run_results(run_id) if r.target == "here"}
        assert here == {"memory", "uptime"}  # the local host was checked in process at once
        assert run.finished_at is None  # still open: waiting for web01's agent
        scheduler.close(run_id, "morning", run.started_at, scheduler_assignments(scheduler))
        results = {(r.target, r.check): r for r in store.run_results(run_id)}
        assert not results[("web01", "disk")].collected and "did not report" in results[("web01", "disk")].summary
        assert store.get_run(run_id).finished_at is not None
    [report] = (tmp_path / "reports").glob(f"morning-{run_id}-*.json")
    assert json.loads(report.read_text())["cover"]["organisation"] == "ACME"


def scheduler_assignments(scheduler):
    from collector.planner import plan

    return plan(scheduler.site.site.playbooks["morning"], scheduler.site.site.inventory, scheduler.site.registry)


def test_plan_names_the_zone_and_only_the_agents_share(tmp_path):
    site = make_site(tmp_path)
    plan = agent_plan(site.site, "web01", "Asia/Shanghai")
    assert plan["timezone"] == "Asia/Shanghai" and plan["interval_seconds"] == 86400
    assert [(c["task"], c["check"]) for c in plan["checks"]] == [("agents", "disk")]
    assert agent_plan(site.site, "here") is None  # not an agent host


def test_a_bad_edit_keeps_the_last_good_configuration(tmp_path):
    site = make_site(tmp_path)
    (tmp_path / "playbooks" / "morning.yaml").write_text(PLAYBOOK.replace("[disk]", "[dsik]"))
    assert site.reload_if_changed() is False
    assert "did you mean 'disk'" in str(site.last_error)
    assert site.site.playbooks["morning"].tasks[1].checks[0].name == "disk"


def test_a_run_whose_playbook_disappeared_is_still_closed_without_a_report(tmp_path):
    site = make_site(tmp_path)
    with Store.open(f"sqlite:///{tmp_path}/patrol.db") as store:
        scheduler = PatrolScheduler(site, store, tmp_path / "reports", grace_seconds=1)
        run_id = scheduler.fire("morning", now=dt.datetime(2026, 11, 23, 8, 0, 5, tzinfo=dt.UTC))
        run = store.get_run(run_id)
        scheduler.close(run_id, "removed-meanwhile", run.started_at, scheduler_assignments(scheduler))
        closed = store.get_run(run_id)
        assert closed.finished_at is not None and closed.status is not None
    assert not list((tmp_path / "reports").glob(f"*-{run_id}-*"))


def test_a_run_asked_for_by_hand_runs_at_once_and_says_why_agent_checks_are_missing(tmp_path):
    from collector.store.run_requests import RunRequests

    site = make_site(tmp_path)
    with Store.open(f"sqlite:///{tmp_path}/patrol.db") as store:
        queue = RunRequests(store)
        queue.add("morning", "olga")
        queue.add("gone", "olga")  # a playbook removed since the click
        scheduler = PatrolScheduler(site, store, tmp_path / "reports", grace_seconds=600)
        [run_id] = scheduler.take_requests()
        run = store.get_run(run_id)
        assert run.source == "console" and run.inspector == "olga"
        assert run.finished_at is not None  # closed at once: no grace period waited for agents
        results = {(r.target, r.check): r for r in store.run_results(run_id)}
        assert {c for t, c in results if t == "here"} == {"memory", "uptime"}
        agent = results[("web01", "disk")]
        assert not agent.collected and "run on demand" in agent.summary
        requests = {r.playbook: r for r in queue.recent()}
        assert requests["morning"].run_id == run_id and requests["gone"].error == "no such playbook"
        assert scheduler.take_requests() == []
