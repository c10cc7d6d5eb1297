"""The plan: parsed leniently per entry, cached on disk, refreshed with If-None-Match."""

import json

import pytest
from agent_fakes import FakeClient, unreachable

from agent.client import Answer
from agent.plan import PlanCache, PlanError, parse_plan


def document(*entries, agent="web01"):
    return {"schema": "patrol.plan/1", "agent": agent, "interval_seconds": 2, "checks": list(entries)}


def entry(check="uptime", schedule="@every 2s", id_="e1", **params):
    return {"id": id_, "playbook": "monitor", "task": "t", "check": check, "params": params, "schedule": schedule}


def test_a_plan_is_parsed_and_bad_entries_are_left_out_with_the_reason():
    plan, problems = parse_plan(document(entry(), entry("load", "0 8 * * 1-5", "e2"),
                                         entry("disk", "every day", "e3"), {"check": "cpu"}, entry(id_="e1")),
                                "web01")
    assert [(e.id, e.check, e.schedule.text) for e in plan.entries] == [
        ("e1", "uptime", "@every 2s"), ("e2", "load", "0 8 * * 1-5"), ("e1#1", "uptime", "@every 2s")]
    assert plan.interval_seconds == 2
    assert any("checks[2] (disk, id e3): schedule 'every day'" in p for p in problems)
    assert any("checks[3]: 'id' and 'check' must be non-empty strings" in p for p in problems)


@pytest.mark.parametrize("data,message", [
    ({"schema": "patrol.plan/2", "checks": []}, "unsupported plan schema"),
    (document(agent="db01"), "not 'web01'"),
    ({"schema": "patrol.plan/1", "checks": {}}, "'checks' is not a list"),
    ([], "expected a JSON object"),
])
def test_an_unusable_plan_is_refused(data, message):
    with pytest.raises(PlanError, match=message):
        parse_plan(data, "web01")


def test_the_cache_round_trips_and_survives_damage(tmp_path):
    cache = PlanCache(tmp_path / "plan.json")
    assert cache.load() is None
    cache.save('"abc"', document(entry()))
    assert cache.load() == ('"abc"', document(entry()))
    (tmp_path / "plan.json").write_text('{"etag": "x", "pl')  # torn
    assert cache.load() is None


def test_the_etag_is_sent_back_and_304_keeps_the_plan(make_agent):
    client = FakeClient()
    client.plan_answers = [Answer(200, document(entry()), headers={"etag": '"v1"'}), Answer(304, headers={})]
    agent = make_agent(client)
    assert agent.refresh_plan()
    assert agent.refresh_plan()
    assert client.plan_requests == [None, '"v1"']
    assert agent.scheduler.job_count == 1 and agent.etag == '"v1"'
    cached = json.loads((agent.config.spool / "plan.json").read_text())
    assert cached == {"etag": '"v1"', "plan": document(entry())}


def test_a_changed_plan_is_rescheduled(make_agent):
    client = FakeClient()
    client.plan_answers = [Answer(200, document(entry()), headers={"etag": '"v1"'}),
                           Answer(200, document(entry("load", id_="e2"), entry("memory", id_="e3")),
                                  headers={"etag": '"v2"'})]
    agent = make_agent(client)
    agent.refresh_plan()
    agent.refresh_plan()
    assert sorted(job.id for job in agent.scheduler.scheduler.get_jobs()) == ["e2", "e3"]
    assert agent.etag == '"v2"'


def test_a_restarted_agent_runs_its_cached_plan_and_asks_with_its_etag(make_agent, config):
    first = FakeClient()
    first.plan_answers = [Answer(200, document(entry()), headers={"etag": '"v1"'})]
    agent = make_agent(first)
    agent.refresh_plan()
    agent.close()

    second = FakeClient()
    second.plan_answers = [unreachable(), Answer(304, headers={})]
    restarted = make_agent(second)
    restarted.load_cached_plan()
    assert restarted.scheduler.job_count == 1
    assert not restarted.refresh_plan()  # collector down: the cached plan keeps running
    assert restarted.refresh_plan()
    assert second.plan_requests == ['"v1"', '"v1"']


@pytest.mark.parametrize("status,logged", [
    (401, "the collector refused the token (401"),
    (403, "is it the token of agent 'web01'"),
    (404, "this host is not an agent host in the inventory"),
])
def test_refusals_are_logged_clearly_and_the_cached_plan_is_kept(make_agent, caplog, status, logged):
    client = FakeClient()
    client.plan_answers = [Answer(200, document(entry()), headers={"etag": '"v1"'}),
                           Answer(status, {"detail": "no"}, detail="no", headers={})]
    agent = make_agent(client)
    agent.refresh_plan()
    agent.refresh_plan()
    assert logged in caplog.text
    assert "running the last known plan (1 checks)" in caplog.text
    assert agent.scheduler.job_count == 1
    assert "pat_" not in caplog.text


def test_a_plan_the_agent_cannot_read_keeps_the_current_one(make_agent, caplog):
    client = FakeClient()
    client.plan_answers = [Answer(200, document(entry()), headers={"etag": '"v1"'}),
                           Answer(200, {"schema": "patrol.plan/9", "checks": []}, headers={"etag": '"v9"'})]
    agent = make_agent(client)
    agent.refresh_plan()
    agent.refresh_plan()
    assert "unsupported plan schema" in caplog.text
    assert agent.scheduler.job_count == 1 and agent.etag == '"v1"'
