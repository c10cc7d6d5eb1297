"""The event engine's rules, one at a time, in memory with an injected clock."""

from __future__ import annotations

import datetime as dt

import pytest
from events_support import T0, Harness, changes, result

from checks.status import Status
from collector.events import (
    CheckRules,
    EventNotFound,
    EventStateError,
    MaintenanceWindow,
    Policy,
)
from collector.events.model import FLAP_MASK, flap_percent
from collector.events.policy import FLAP_WINDOW

MIN = 60  # seconds


# -- noise control -----------------------------------------------------------------------------------


def test_an_event_opens_after_two_problems_and_resolves_after_two_oks():
    h = Harness()
    assert h.feed("CRITICAL") == []
    assert h.repository.list_events() == []
    [opened] = h.feed("CRITICAL")
    assert (opened.change, opened.state, opened.severity, opened.count) == ("opened", "firing", "CRITICAL", 2)
    assert opened.first_seen == T0 + dt.timedelta(minutes=1) and opened.last_seen == T0 + dt.timedelta(minutes=2)
    assert (opened.fingerprint, opened.target, opened.check, opened.item) == ("web01/disk//", "web01", "disk", "/")
    assert opened.at == h.now and opened.escalation_level == 0 and opened.summary == "/ is CRITICAL"
    assert h.feed("OK") == []
    [resolved] = h.feed("OK")
    assert (resolved.change, resolved.state, resolved.actor) == ("resolved", "resolved", None)
    event = h.event()
    assert event.state == "resolved" and event.resolved_at == h.now and event.resolved_by is None
    assert event.time_to_resolve == dt.timedelta(minutes=2)
    assert h.kinds(event.id) == ["opened", "resolved"]


def test_a_lone_bad_result_is_noise_and_leaves_nothing_behind():
    h = Harness()
    assert h.feed("CRITICAL", "OK", "WARNING", "OK", "OK") == []
    assert h.repository.list_events() == []
    assert [t.bad_streak for t in h.repository.tracks()] == [0]  # still in the flap window
    h.feed(*["OK"] * FLAP_WINDOW)
    assert h.repository.tracks() == []  # at rest again: no track


def test_steady_ok_results_keep_no_state():
    h = Harness()
    for _ in range(50):
        h.advance()
        assert h.engine.observe([result("OK", h.now, item=f"/srv/{i}") for i in range(20)]) == []
    assert h.repository.tracks() == [] and h.repository.list_events() == []


def test_repeats_update_one_event():
    h = Harness()
    h.feed("WARNING", "WARNING")
    h.advance()
    assert h.engine.observe([result("WARNING", h.now, summary="/ 86% used")]) == []
    h.advance()
    h.engine.observe([result("WARNING", h.now, summary="/ 87% used")])
    [event] = h.events()
    assert event.count == 4 and event.first_seen == T0 + dt.timedelta(minutes=1) and event.last_seen == h.now
    assert event.last_summary == "/ 87% used" and event.opened_at == T0 + dt.timedelta(minutes=2)
    assert h.kinds(event.id) == ["opened"]


def test_per_check_rules_override_the_policy_by_name_or_glob():
    h = Harness(Policy(open_after=3, checks={"uptime": CheckRules(open_after=1), "net*": CheckRules(resolve_after=1)}))
    assert changes(h.feed("CRITICAL", check="uptime")) == ["opened"]
    assert changes(h.feed("CRITICAL", "CRITICAL", check="disk")) == []
    assert changes(h.feed("CRITICAL", check="disk")) == ["opened"]
    assert changes(h.feed("CRITICAL", "CRITICAL", "CRITICAL", check="network_interfaces")) == ["opened"]
    assert changes(h.feed("OK", check="network_interfaces")) == ["resolved"]


def test_severity_follows_the_worst_status_while_open_and_unknown_never_lowers_it():
    h = Harness()
    assert changes(h.feed("WARNING", "WARNING")) == ["opened"]
    [raised] = h.feed("CRITICAL")
    assert (raised.change, raised.severity) == ("severity_changed", "CRITICAL")
    assert h.feed("WARNING", "UNKNOWN", "WARNING") == []  # still CRITICAL: the worst seen while open
    event = h.event()
    assert (event.kind, event.severity, event.count) == ("problem", "CRITICAL", 6)
    assert [e.detail for e in h.repository.history(event.id) if e.kind == "severity_changed"] == [
        "WARNING -> CRITICAL"
    ]


def test_unknown_is_its_own_kind_until_figures_arrive():
    h = Harness()
    [opened] = h.feed("UNKNOWN", "UNKNOWN")
    assert (opened.severity, h.event().kind) == ("UNKNOWN", "unknown")
    [known] = h.feed("WARNING")
    assert (known.change, known.severity, h.event().kind) == ("severity_changed", "WARNING", "problem")


def test_the_opening_severity_is_the_worst_of_the_streak():
    h = Harness(Policy(open_after=3))
    [opened] = h.feed("WARNING", "CRITICAL", "UNKNOWN")
    assert opened.severity == "CRITICAL" and opened.count == 3


def test_a_resolved_event_reopens_within_the_window_and_a_new_one_opens_after_it():
    h = Harness(Policy(reopen_within=dt.timedelta(minutes=10)))
    h.feed("CRITICAL", "CRITICAL", "OK", "OK")
    first = h.event()
    [reopened] = h.feed("WARNING", "WARNING")
    assert (reopened.change, reopened.event_id, reopened.severity) == ("reopened", first.id, "WARNING")
    assert reopened.count == 4
    event = h.event()
    assert event.state == "firing" and event.resolved_at is None and event.opened_at == first.opened_at
    assert h.kinds(event.id) == ["opened", "resolved", "reopened"]
    h.feed("OK", "OK")
    h.advance(11 * MIN)
    [opened] = h.feed("CRITICAL", "CRITICAL")
    assert opened.change == "opened" and opened.event_id != first.id
    assert len(h.events()) == 2


def test_an_older_result_arriving_late_is_skipped():
    h = Harness()
    h.feed("CRITICAL")
    late = result("OK", h.now - dt.timedelta(minutes=5))
    assert h.engine.observe([late]) == []
    [opened] = h.feed("CRITICAL")
    assert opened.count == 2


def test_a_batch_is_evaluated_oldest_first():
    h = Harness()
    h.advance()
    batch = [result(s, T0 + dt.timedelta(minutes=m)) for m, s in ((3, "OK"), (1, "CRITICAL"), (2, "CRITICAL"))]
    assert changes(h.engine.observe(batch)) == ["opened"]
    assert h.event().count == 2 and h.repository.tracks()[0].ok_streak == 1


def test_items_are_separate_events():
    h = Harness(Policy(open_after=1))
    h.advance()
    out = h.engine.observe([result("CRITICAL", h.now, item=item) for item in ("/", "/var", "/home")])
    assert sorted(n.fingerprint for n in out) == ["web01/disk//", "web01/disk//home", "web01/disk//var"]


# -- flapping ----------------------------------------------------------------------------------------


def test_flap_percent_uses_icingas_weights():
    assert flap_percent(0) == 0
    assert flap_percent(1) == pytest.approx(100 * 1.18 / 20)  # the newest change weighs most
    assert flap_percent(1 << (FLAP_WINDOW - 1)) == pytest.approx(100 * 0.8 / 20)  # the oldest least
    assert flap_percent(FLAP_MASK) == pytest.approx(100 * (0.8 * 20 + 0.02 * 190) / 20)


def test_flapping_holds_notices_and_tells_the_end():
    h = Harness()
    told = h.feed("CRITICAL", "OK", "CRITICAL", "OK", "CRITICAL", "OK", "CRITICAL")
    # Never two problems in a row, so the streak rule alone would open nothing: flapping does.
    assert [(n.change, n.labels) for n in told] == [("flapping", {"flapping": "started"})]
    event = h.event()
    assert event.flapping and event.state == "firing" and event.notified
    assert h.feed("OK", "CRITICAL", "OK", "OK") == []  # resolved while flapping: held
    assert h.event().state == "resolved" and h.event().notified
    assert h.tick(3600) == []  # escalation held too
    out = []
    for _ in range(20):
        out += h.feed("OK")
    [resolved] = out  # the window calmed down (at or below 25 %): the held resolution is told
    assert resolved.change == "resolved" and not h.event().flapping
    kinds = h.kinds(event.id)
    assert kinds[:2] == ["opened", "flapping_started"] and "flapping_stopped" in kinds


def test_an_open_event_that_stops_flapping_says_so_and_escalates_again():
    h = Harness(Policy(resolve_after=30))
    h.feed("CRITICAL", "OK", "CRITICAL", "OK", "CRITICAL", "OK", "CRITICAL")
    assert h.event().flapping
    out = []
    for _ in range(15):
        out += h.feed("CRITICAL")
    [stopped] = out
    assert (stopped.change, stopped.labels, stopped.state) == ("flapping", {"flapping": "stopped"}, "firing")
    assert h.event().next_escalation_at == h.now + dt.timedelta(minutes=10)


def test_flap_detection_can_be_turned_off_per_check():
    h = Harness(Policy(open_after=1, resolve_after=1, checks={"disk": CheckRules(flap_detection=False)}))
    told = h.feed(*["CRITICAL", "OK"] * 6)
    assert changes(told) == ["opened"] + ["resolved", "reopened"] * 5 + ["resolved"]
    assert not h.event().flapping


# -- silence -----------------------------------------------------------------------------------------


def test_silence_raises_a_nodata_event_and_data_returning_resolves_it():
    h = Harness()
    last_seen = h.now
    h.advance(180)
    assert h.engine.check_silence([("web01", last_seen, 60.0)]) == []  # 3 intervals: not yet
    h.advance(1)
    [nodata] = h.engine.check_silence([("web01", last_seen, 60.0)])
    assert (nodata.change, nodata.check, nodata.item, nodata.severity) == ("opened", "nodata", "", "NODATA")
    assert nodata.first_seen == last_seen and nodata.summary == "no data for 3 min (expected every 60 s)"
    assert h.engine.check_silence([("web01", last_seen, dt.timedelta(minutes=1))]) == []  # still silent: same event
    h.advance(30)
    [back] = h.engine.check_silence([("web01", h.now - dt.timedelta(seconds=5), 60)])
    assert back.change == "resolved" and back.summary.startswith("data again since")
    assert len(h.events()) == 1


def test_silence_has_a_minimum_and_skips_sources_it_cannot_judge():
    h = Harness(Policy(nodata_minimum=dt.timedelta(minutes=5)))
    last_seen = h.now
    h.advance(200)
    assert h.engine.check_silence([("web01", last_seen, 10), ("db01", None, 60), ("sw01", last_seen, None)]) == []
    h.advance(101)
    assert [n.target for n in h.engine.check_silence([("web01", last_seen, 10)])] == ["web01"]


# -- dependencies ------------------------------------------------------------------------------------


def test_a_down_parent_suppresses_its_children_until_it_recovers():
    h = Harness(Policy(open_after=1), parents={"db01": ["sw01"]})
    [down] = h.feed("CRITICAL", target="sw01", check="ping", collected=False)
    assert down.change == "opened" and h.event("sw01", "ping").down
    assert h.feed("CRITICAL", target="db01") == []  # recorded, suppressed, not told
    child = h.event("db01")
    assert child.suppressed and not child.notified and h.kinds(child.id) == ["opened", "suppressed"]
    assert h.tick(20 * MIN) != [] and all(n.target == "sw01" for n in h.tick(0) + h.tick(20 * MIN))
    h.feed("OK", target="sw01", check="ping")
    [told] = h.tick()  # the parent is back, the child still failing: now it is told
    assert (told.target, told.change) == ("db01", "opened")
    assert h.kinds(child.id) == ["opened", "suppressed", "unsuppressed"]


def test_a_parent_that_is_merely_critical_is_not_down_unless_its_check_says_so():
    h = Harness(Policy(open_after=1), parents={"db01": ["sw01"]})
    h.feed("CRITICAL", target="sw01", check="ping")  # collected: the figures say critical, not unreachable
    assert changes(h.feed("CRITICAL", target="db01")) == ["opened"]
    h2 = Harness(Policy(open_after=1, down_checks=frozenset({"ping"})), parents={"db01": ["sw01"]})
    h2.feed("CRITICAL", target="sw01", check="ping")
    assert h2.feed("CRITICAL", target="db01") == [] and h2.event("db01").suppressed


def test_dependencies_are_transitive_and_a_silent_parent_is_down():
    h = Harness(Policy(open_after=1), parents={"web01": ["db01"], "db01": ["sw01"]})
    h.advance(600)
    assert changes(h.engine.check_silence([("sw01", T0, 60)])) == ["opened"]
    assert h.feed("UNKNOWN", target="web01", collected=False) == []
    assert h.event("web01").suppressed


def test_a_down_target_suppresses_its_own_other_events():
    h = Harness(Policy(open_after=1))
    h.advance(600)
    h.engine.check_silence([("web01", T0, 60)])
    assert h.feed("UNKNOWN", collected=False, summary="did not report within 60 s") == []
    assert h.event().suppressed
    h2 = Harness(Policy(open_after=1, own_target_suppresses=False))
    h2.advance(600)
    h2.engine.check_silence([("web01", T0, 60)])
    assert changes(h2.feed("UNKNOWN", collected=False)) == ["opened"]


def test_a_child_already_told_is_held_while_its_parent_is_down():
    h = Harness(Policy(open_after=1), parents={"db01": ["sw01"]})
    assert changes(h.feed("CRITICAL", target="db01")) == ["opened"]
    h.feed("CRITICAL", target="sw01", check="ping", collected=False)
    h.tick()
    child = h.event("db01")
    assert child.suppressed and child.next_escalation_at is None
    assert [n.target for n in h.tick(30 * MIN)] == ["sw01"]  # only the parent escalates


# -- maintenance -------------------------------------------------------------------------------------


def test_events_in_a_maintenance_window_are_recorded_and_marked_but_not_told():
    h = Harness(Policy(open_after=1))
    h.repository.add_window(MaintenanceWindow.once("upgrade", "web*", T0, T0 + dt.timedelta(minutes=30)))
    assert h.feed("CRITICAL") == [] and h.feed("CRITICAL", target="db01") != []
    event = h.event()
    assert event.in_maintenance and not event.notified
    assert h.kinds(event.id) == ["opened", "maintenance_started"]
    assert [e.detail for e in h.repository.history(event.id)][1] == "upgrade"
    assert [n for n in h.tick(10 * MIN) if n.target == "web01"] == []
    [told] = [n for n in h.tick(20 * MIN) if n.target == "web01"]  # 08:31: the window has ended, the disk is still full
    assert (told.change, told.at) == ("opened", h.now)
    assert h.kinds(event.id)[-1] == "maintenance_ended"
    assert h.event().next_escalation_at == h.now + dt.timedelta(minutes=10)


def test_a_window_for_one_check_leaves_the_others_alone():
    h = Harness(Policy(open_after=1))
    h.repository.add_window(
        MaintenanceWindow.once("reboot", "web01", T0, T0 + dt.timedelta(hours=1), check="uptime")
    )
    assert h.feed("CRITICAL", check="uptime") == []
    assert changes(h.feed("CRITICAL", check="disk")) == ["opened"]


def test_an_event_told_before_a_window_pauses_escalation_and_resolving_inside_is_told_at_the_end():
    h = Harness(Policy(open_after=1, resolve_after=1))
    assert changes(h.feed("CRITICAL")) == ["opened"]
    h.repository.add_window(MaintenanceWindow.once("fix", "web01", h.now, h.now + dt.timedelta(minutes=30)))
    assert h.tick(5 * MIN) == [] and h.event().in_maintenance
    assert h.feed("OK") == []  # resolved inside the window: receivers still think it open
    assert h.event().state == "resolved" and h.event().notified
    assert h.tick(15 * MIN) == []
    [resolved] = h.tick(15 * MIN)
    assert resolved.change == "resolved" and not h.event().notified


# -- acknowledgement, resolve, comments ---------------------------------------------------------------


def test_acknowledging_stops_escalation():
    h = Harness(Policy(open_after=1))
    [opened] = h.feed("CRITICAL")
    h.advance(5 * MIN)
    [ack] = h.engine.acknowledge(opened.event_id, "alice", "looking at it")
    assert (ack.change, ack.state, ack.actor, ack.comment) == ("acknowledged", "acknowledged", "alice", "looking at it")
    assert h.tick(60 * MIN) == []
    event = h.event()
    assert event.acknowledged_by == "alice" and event.time_to_acknowledge == dt.timedelta(minutes=5)
    entry = h.repository.history(event.id)[-1]
    assert (entry.kind, entry.from_state, entry.to_state, entry.actor, entry.comment) == (
        "acknowledged", "firing", "acknowledged", "alice", "looking at it"
    )


def test_an_expiring_acknowledgement_returns_to_firing_and_escalation_resumes():
    steps = ((dt.timedelta(minutes=10), 1), (dt.timedelta(minutes=30), 2))
    h = Harness(Policy(open_after=1, escalation=steps))
    [opened] = h.feed("CRITICAL")
    [level1] = h.tick(10 * MIN)
    assert level1.escalation_level == 1
    expires = h.now + dt.timedelta(minutes=15)
    h.engine.acknowledge(opened.event_id, "alice", expires_at=expires)
    assert h.tick(14 * MIN) == []
    assert h.tick(1 * MIN) == []  # expired now: firing again, level 2 in 20 minutes (the gap 1 -> 2)
    event = h.event()
    assert event.state == "firing" and event.acknowledged_by is None and event.first_acknowledged_at is not None
    assert h.kinds(event.id)[-1] == "ack_expired" and event.next_escalation_at == expires + dt.timedelta(minutes=20)
    [level2] = h.tick(20 * MIN)
    assert (level2.escalation_level, level2.at) == (2, expires + dt.timedelta(minutes=20))


def test_escalation_resumes_from_the_expiry_however_late_the_tick():
    h = Harness(Policy(open_after=1))
    [opened] = h.feed("CRITICAL")
    expires = h.now + dt.timedelta(minutes=5)
    h.engine.acknowledge(opened.event_id, "alice", expires_at=expires)
    [escalated] = h.tick(30 * MIN)  # the first tick after the expiry comes 25 minutes late
    assert (escalated.escalation_level, escalated.at) == (1, expires + dt.timedelta(minutes=10))
    expired, level1 = h.repository.history(opened.event_id)[-2:]
    assert (expired.kind, expired.at, level1.kind, level1.at) == ("ack_expired", expires, "escalated", escalated.at)


def test_acknowledging_again_replaces_the_acknowledgement():
    h = Harness(Policy(open_after=1))
    [opened] = h.feed("CRITICAL")
    h.engine.acknowledge(opened.event_id, "alice", expires_at=h.now + dt.timedelta(minutes=5))
    h.advance()
    h.engine.acknowledge(opened.event_id, "bob", "taking over")
    event = h.event()
    assert (event.acknowledged_by, event.ack_expires_at) == ("bob", None)
    assert event.first_acknowledged_at == T0 + dt.timedelta(minutes=1)
    assert h.tick(60 * MIN) == []


def test_a_manual_resolve_is_told_with_its_author_and_the_check_must_fail_again_to_reopen():
    h = Harness()
    [opened] = h.feed("CRITICAL", "CRITICAL")
    [resolved] = h.engine.resolve(opened.event_id, "bob", "replaced the disk")
    assert (resolved.change, resolved.actor, resolved.comment) == ("resolved", "bob", "replaced the disk")
    assert h.event().resolved_by == "bob"
    assert h.feed("CRITICAL") == []  # the streak starts again
    assert changes(h.feed("CRITICAL")) == ["reopened"]


def test_comments_are_kept_and_recorded():
    h = Harness(Policy(open_after=1))
    [opened] = h.feed("CRITICAL")
    comment = h.engine.comment(opened.event_id, "carol", "vendor ticket 4711")
    assert comment.id is not None and comment.at == h.now
    assert [(c.author, c.text) for c in h.repository.comments(opened.event_id)] == [("carol", "vendor ticket 4711")]
    assert h.repository.history(opened.event_id)[-1].kind == "commented"


def test_changes_that_do_not_apply_are_refused():
    h = Harness(Policy(open_after=1, resolve_after=1))
    [opened] = h.feed("CRITICAL")
    h.feed("OK")
    with pytest.raises(EventStateError, match="resolved"):
        h.engine.acknowledge(opened.event_id, "alice")
    with pytest.raises(EventStateError):
        h.engine.resolve(opened.event_id, "alice")
    with pytest.raises(EventNotFound):
        h.engine.acknowledge(99, "alice")
    with pytest.raises(EventNotFound):
        h.engine.comment(99, "alice", "x")
    h.engine.comment(opened.event_id, "alice", "closed ones take comments")
    h.feed("CRITICAL")
    for bad in (
        lambda: h.engine.acknowledge(opened.event_id, ""),
        lambda: h.engine.acknowledge(opened.event_id, "alice", expires_at=h.now),
        lambda: h.engine.acknowledge(opened.event_id, "alice", expires_at=dt.datetime(2030, 1, 1)),
        lambda: h.engine.comment(opened.event_id, "alice", " "),
        lambda: h.engine.resolve(opened.event_id, "alice", "x" * 2001),
    ):
        with pytest.raises(ValueError):
            bad()
    assert h.event().state == "firing"


# -- escalation and closing ---------------------------------------------------------------------------


def test_escalation_levels_and_their_history():
    steps = ((dt.timedelta(minutes=10), 1), (dt.timedelta(minutes=30), 2), (dt.timedelta(hours=2), 3))
    h = Harness(Policy(open_after=1, escalation=steps))
    [opened] = h.feed("CRITICAL")
    told_at = h.now
    out = h.tick(9 * MIN) + h.tick(1 * MIN) + h.tick(60 * MIN) + h.tick(60 * MIN)
    assert [(n.escalation_level, n.at - told_at) for n in out] == [
        (1, dt.timedelta(minutes=10)), (2, dt.timedelta(minutes=30)), (3, dt.timedelta(hours=2))
    ]
    assert h.event().next_escalation_at is None and h.tick(600 * MIN) == []


def test_no_escalation_policy_means_no_escalation():
    h = Harness(Policy(open_after=1, escalation=()))
    h.feed("CRITICAL")
    assert h.tick(600 * MIN) == [] and h.event().next_escalation_at is None


def test_resolved_events_close_after_the_retention_and_never_reopen():
    h = Harness(Policy(open_after=1, resolve_after=1, reopen_within=dt.timedelta(minutes=10),
                       close_after=dt.timedelta(minutes=10)))
    h.feed("CRITICAL", "OK")
    first = h.event()
    assert h.tick(9 * MIN) == [] and h.event().state == "resolved"
    h.tick(1 * MIN)
    closed = h.event()
    assert closed.state == "closed" and closed.closed_at == h.now and h.kinds(first.id)[-1] == "closed"
    [opened] = h.feed("CRITICAL")
    assert opened.change == "opened" and opened.event_id != first.id


def test_notices_carry_the_targets_inventory_groups():
    class Inventory:
        hosts = {"web01": type("Host", (), {"groups": ("linux", "web")})()}
        groups = {"linux": {"web01"}, "web": {"web01"}}
        path = "inventory.yaml"

    h = Harness(Policy(open_after=1), inventory=Inventory())
    [opened] = h.feed("CRITICAL")
    assert opened.groups == ("linux", "web")
    [other] = h.feed("CRITICAL", target="db01")
    assert other.groups == ()


def test_the_clock_must_be_aware():
    h = Harness()
    h.now = dt.datetime(2026, 1, 1)
    with pytest.raises(ValueError, match="time zone"):
        h.engine.observe([result(Status.CRITICAL, T0)])


def test_an_unreachable_host_is_told_once():
    h = Harness(Policy(open_after=1))
    h.advance()
    checks = ("cpu", "disk", "load", "memory")
    out = h.engine.observe([result("CRITICAL", h.now, check=c, collected=False, summary="unreachable") for c in checks])
    assert [(n.check, n.change) for n in out] == [("cpu", "opened")]
    assert [e.suppressed for e in h.events()] == [False, True, True, True]
    h.feed("OK", check="cpu")
    h.feed("OK", check="cpu")
    assert [(n.check, n.change) for n in h.tick()] == [("disk", "opened")]  # the next one speaks for it now
