import threading
import time

from checks.base import Check, CheckContext, Outcome, metric
from checks.errors import CheckUnavailable
from checks.params import CheckParams
from checks.secrets import Scrubber
from checks.status import Status
from checks.target import Target
from checks.thresholds import Levels, UpperLimit

RELEASE = threading.Event()


class Params(CheckParams):
    warning: UpperLimit = 80
    critical: UpperLimit = 90
    mode: str = "ok"
    value: float = 50


class Probe(Check):
    name = "probe"
    title = "test check"
    Params = Params
    default_timeout = 5

    def run(self, ctx, params):
        if params.mode == "raise":
            raise ConnectionError(f"login failed for monitor with password {ctx.secret('db_password')}")
        if params.mode == "unavailable":
            raise CheckUnavailable("needs the 'postgres' extra")
        if params.mode == "hang":
            yield Outcome(item="first", summary="fine", metrics=[metric("used", 1, "%")])
            RELEASE.wait(30)  # a call that never comes back within the timeout
        if params.mode == "empty":
            return
        yield Outcome(
            item="x",
            summary="figure",
            metrics=[metric("used", params.value, "%")],
            levels={"used": Levels(params.warning, params.critical)},
        )


def ctx(vars=None):
    return CheckContext(target=Target("db1", vars or {}), scrubber=Scrubber())


def test_thresholds_decide_the_status_and_the_summary_names_the_breach():
    check = Probe()
    [ok] = check.execute(ctx(), check.validate({"value": 10}))
    [warn] = check.execute(ctx(), check.validate({"value": 85}))
    [crit] = check.execute(ctx(), check.validate({"value": 95.5}))
    assert (ok.status, warn.status, crit.status) == (Status.OK, Status.WARNING, Status.CRITICAL)
    assert crit.summary == "figure (used 95.5% > 90)"
    assert crit.thresholds[0].model_dump() == {"metric": "used", "warning": "80", "critical": "90"}
    assert crit.target == "db1" and crit.check == "probe" and crit.item == "x" and crit.collected


def test_exceptions_become_unknown_with_secrets_scrubbed(monkeypatch):
    monkeypatch.setenv("DB_PW", "s3cr3t-value")
    check = Probe()
    [result] = check.execute(ctx({"db_password": {"env": "DB_PW"}}), check.validate({"mode": "raise"}))
    assert result.status is Status.UNKNOWN and not result.collected
    assert "ConnectionError: login failed for monitor" in result.summary
    assert "s3cr3t-value" not in result.summary and "***" in result.summary


def test_unavailable_and_empty_checks_say_so():
    check = Probe()
    [r] = check.execute(ctx(), check.validate({"mode": "unavailable"}))
    assert r.status is Status.UNKNOWN and r.summary == "cannot check: needs the 'postgres' extra"
    [r] = check.execute(ctx(), check.validate({"mode": "empty"}))
    assert r.status is Status.UNKNOWN and "no items" in r.summary


def test_a_hung_check_is_abandoned_at_its_timeout_keeping_what_it_did():
    check = Probe()
    start = time.monotonic()
    results = check.execute(ctx(), check.validate({"mode": "hang", "timeout": 0.3}))
    elapsed = time.monotonic() - start
    RELEASE.set()
    assert elapsed < 10  # bounded by the timeout, not by the 30 s call (generous: shared machine)
    assert [r.item for r in results] == ["first", ""]
    assert results[1].status is Status.UNKNOWN and results[1].summary.startswith("timed out after 0.3 s")
    assert "1 item(s) checked before" in results[1].summary


def test_scrubber_removes_inline_credentials():
    s = Scrubber()
    assert s.scrub("postgresql://monitor:hunter2@db1/x") == "postgresql://monitor:***@db1/x"
    assert s.scrub("connect password=hunter2 host=db1") == "connect password=*** host=db1"
    s.add("topsecret")
    assert s.scrub("it was topsecret!") == "it was ***!"
