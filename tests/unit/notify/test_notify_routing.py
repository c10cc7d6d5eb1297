"""Routes (first match, continue), escalation levels, follow-ups, and the match conditions."""

from __future__ import annotations

from notify_samples import make_notice

from collector.notify.routing import Router, target_matches
from collector.notify.settings import load_notifications

CHANNELS = [{"name": name, "type": "command", "command": ["/bin/true"]} for name in ("ops", "mail", "boss", "chat")]


def router(routes: list[dict], escalation: list[dict] | None = None, channels=CHANNELS) -> Router:
    return Router(load_notifications({"channels": channels, "routes": routes, "escalation": escalation or []}))


def test_the_first_matching_route_decides_unless_it_continues():
    r = router([
        {"match": {"severity": "critical"}, "channels": ["ops"], "continue": True},
        {"match": {"severity": ["critical", "warning"]}, "channels": ["mail"]},
        {"channels": ["chat"]},
    ])
    assert r.route(make_notice(1, severity="CRITICAL")) == ["ops", "mail"]
    assert r.route(make_notice(2, severity="WARNING")) == ["mail"]
    assert r.route(make_notice(3, severity="UNKNOWN")) == ["chat"]


def test_no_matching_route_sends_nowhere():
    r = router([{"match": {"check": "tablespace_*"}, "channels": ["ops"]}])
    assert r.route(make_notice(check="disk")) == []
    assert r.route(make_notice(check="tablespace_used")) == ["ops"]


def test_match_conditions_all_hold():
    r = router([{"match": {"group": ["db", "web"], "change": ["opened", "reopened"], "target": "web*:!web-test*",
                           "labels": {"team": "ops"}}, "channels": ["ops"]}])
    ok = {"groups": ("linux", "web"), "labels": {"team": "ops"}}
    assert r.route(make_notice(1, **ok)) == ["ops"]
    assert r.route(make_notice(2, **ok, change="reopened")) == ["ops"]
    assert r.route(make_notice(3, **ok, change="flapping")) == []
    assert r.route(make_notice(4, groups=("linux",), labels={"team": "ops"})) == []
    assert r.route(make_notice(5, **ok, target="web-test-1")) == []
    assert r.route(make_notice(6, groups=("web",), labels={"team": "dba"})) == []


def test_target_patterns_work_as_host_patterns_over_name_and_groups():
    assert target_matches("all", "db01", ())
    assert target_matches("web*", "web-01", ())
    assert target_matches("prod", "db01", ("linux", "prod"))
    assert target_matches("linux:&prod", "db01", ("linux", "prod"))
    assert not target_matches("linux:&prod", "db02", ("linux", "test"))
    assert target_matches("linux:!db*", "web01", ("linux",))
    assert not target_matches("linux:!db*", "db01", ("linux",))
    assert target_matches("~(web|db)\\d+", "db12", ())
    assert not target_matches("~(web|db)\\d+", "cache1", ())
    assert target_matches("!test", "web01", ())


def test_escalated_notices_go_to_their_level():
    r = router(
        [{"match": {"change": ["opened", "resolved", "acknowledged"]}, "channels": ["ops"]}],
        [{"after": "10m", "channels": ["mail"]},
         {"after": "30m", "channels": ["boss"], "match": {"severity": "critical"}}],
    )
    assert r.route(make_notice(1, change="opened")) == ["ops"]
    assert r.route(make_notice(1, change="escalated", escalation_level=1)) == ["mail"]
    assert r.route(make_notice(1, change="escalated", escalation_level=2)) == ["boss"]
    assert r.route(make_notice(2, severity="WARNING", change="escalated", escalation_level=2)) == []
    assert r.route(make_notice(1, change="escalated", escalation_level=3)) == []  # past the last level


def test_whoever_was_told_hears_of_acknowledgement_and_resolution():
    channels = [*CHANNELS[:3], {"name": "chat", "type": "command", "command": ["/bin/true"], "send_resolved": False}]
    r = router([{"match": {"change": "opened"}, "channels": ["ops", "chat"]}],
               [{"after": "10m", "channels": ["boss"]}], channels=channels)
    assert r.route(make_notice(1, change="opened")) == ["ops", "chat"]
    assert r.route(make_notice(1, change="escalated", escalation_level=1)) == ["boss"]
    assert r.route(make_notice(1, change="acknowledged", state="acknowledged", actor="alice")) == ["ops", "boss"]
    assert r.route(make_notice(1, change="resolved", state="resolved")) == ["ops", "boss"]
    # Resolution ends the event: a later event with the same id starts afresh.
    assert r.route(make_notice(1, change="resolved", state="resolved")) == []
    assert r.route(make_notice(2, change="resolved", state="resolved")) == []
