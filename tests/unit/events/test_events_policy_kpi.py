"""The policy's checks and defaults, and the service KPIs over events."""

from __future__ import annotations

import datetime as dt

import pytest
from events_support import T0, Harness

from collector.events import CheckRules, Policy, event_kpis
from collector.events.policy import EscalationStep

MIN = dt.timedelta(minutes=1)


def test_the_defaults():
    policy = Policy()
    assert (policy.open_after, policy.resolve_after) == (2, 2)
    assert (policy.flap_detection, policy.flap_high, policy.flap_low) == (True, 30.0, 25.0)
    assert policy.escalation == (EscalationStep(10 * MIN, 1),)
    assert policy.reopen_within == 10 * MIN and policy.close_after == dt.timedelta(hours=24)
    assert policy.nodata_limit(dt.timedelta(seconds=60)) == 3 * MIN
    assert policy.nodata_limit(dt.timedelta(seconds=5)) == 1 * MIN  # at least a minute
    assert policy.rules("disk") == policy.rules("anything")


def test_check_rules_first_match_wins_and_unset_fields_inherit():
    policy = Policy(resolve_after=3, checks={"disk": CheckRules(open_after=5), "d*": CheckRules(open_after=1)})
    assert (policy.rules("disk").open_after, policy.rules("disk").resolve_after) == (5, 3)
    assert policy.rules("dns").open_after == 1 and policy.rules("cpu").open_after == 2


@pytest.mark.parametrize(
    "args, message",
    [
        ({"open_after": 0}, "open_after"),
        ({"resolve_after": 1.5}, "resolve_after"),
        ({"flap_high": 120}, "flap_high"),
        ({"flap_low": 40}, "flap_low"),
        ({"escalation": [(dt.timedelta(0), 1)]}, "after"),
        ({"escalation": [(10 * MIN, 1), (5 * MIN, 2)]}, "later"),
        ({"escalation": [(10 * MIN, 0)]}, "level"),
        ({"escalation": ["10m"]}, "after, level"),
        ({"reopen_within": dt.timedelta(hours=2), "close_after": dt.timedelta(hours=1)}, "reopen_within"),
        ({"nodata_intervals": 0}, "nodata_intervals"),
        ({"checks": {"disk": CheckRules(open_after=-1)}}, r"checks\['disk'\].open_after"),
        ({"checks": {"disk": {"open_after": 1}}}, "CheckRules"),
    ],
)
def test_a_bad_policy_is_refused_naming_the_field(args, message):
    with pytest.raises(ValueError, match=message):
        Policy(**args)


def test_kpis_over_a_period():
    h = Harness(Policy(open_after=1, resolve_after=1, reopen_within=dt.timedelta(0)))
    # e1: acknowledged after 4 minutes, resolved after 20; e2: acknowledged after 15; e3: resolved alone
    # after 5 minutes, never acknowledged; e4: still open and unacknowledged at the end of the period.
    [e1] = h.feed("CRITICAL", item="/a")
    [e2] = h.feed("WARNING", item="/b", every=0)
    [e3] = h.feed("CRITICAL", item="/c", every=0)
    h.advance(4 * 60)
    h.engine.acknowledge(e1.event_id, "alice")
    h.feed("OK", item="/c", every=60)  # e3 resolved at 5 minutes
    h.advance(10 * 60)
    h.engine.acknowledge(e2.event_id, "bob")  # 15 minutes
    h.feed("OK", item="/a", every=5 * 60)  # e1 resolved at 20 minutes
    [e4] = h.feed("UNKNOWN", item="/d", every=0)
    h.advance(30 * 60)

    events = h.repository.list_events()
    kpis = event_kpis(events, T0, T0 + dt.timedelta(hours=1), now=h.now)
    assert (kpis.events, kpis.notified, kpis.by_severity) == (4, 4, {"CRITICAL": 2, "UNKNOWN": 1, "WARNING": 1})
    assert kpis.acknowledged == 2 and kpis.mtta == dt.timedelta(minutes=9.5)
    # Decided: e1 (in time), e2 (late), e4 (deadline passed unacknowledged); e3 needed no acknowledgement.
    assert (kpis.acknowledged_in_time, kpis.ack_decided) == (1, 3)
    assert kpis.acknowledged_within_target_percent == pytest.approx(100 / 3)
    assert kpis.resolved == 2 and kpis.mttr == dt.timedelta(minutes=12.5)
    assert kpis.resolution_rate_percent == 50.0
    # Before e4's deadline its case is still open: left out.
    early = event_kpis(events, T0, T0 + dt.timedelta(hours=1), now=e4.at + 5 * MIN)
    assert early.ack_decided == 2
    assert event_kpis(events, T0 + dt.timedelta(hours=1), T0 + dt.timedelta(hours=2)).events == 0


def test_kpis_leave_out_events_nobody_was_told_about():
    h = Harness(Policy(open_after=1, resolve_after=1), parents={"db01": ["sw01"]})
    h.feed("CRITICAL", target="sw01", check="ping", collected=False)
    h.feed("CRITICAL", target="db01")  # suppressed: told to nobody
    h.feed("OK", target="db01")
    kpis = event_kpis(h.repository.list_events(), T0, T0 + dt.timedelta(hours=1), now=h.now)
    assert (kpis.events, kpis.notified, kpis.resolved, kpis.mttr) == (2, 1, 0, None)
    assert kpis.acknowledged_within_target_percent is None and kpis.mtta is None
