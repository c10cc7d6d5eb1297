"""clock on chronyc and timedatectl outputs. chronyc-tracking-synchronised, -local-clock and
-not-synchronised are captured from real chronyd 4.3 daemons (see tests/integration/test_platform_tools.py,
which runs them); -slow and -fast-high-stratum are those lines with other figures. The timedatectl outputs
are written in systemd 252's format (this machine has no systemd to capture them from)."""

from __future__ import annotations

import pytest
from platform_support import RecordedShell, fixture, ok, run

from checks.errors import ConfigError
from checks.platform.clock import format_offset, parse_tracking
from checks.registry import default_registry
from checks.status import Status

TRACKING = "chronyc -c tracking"
TIMEDATECTL = "timedatectl show"
NO_DAEMON = ok("", 1, "506 Cannot talk to daemon\n")
NO_SYSTEMD = ok("", 1, "System has not been booted with systemd as init system (PID 1). Can't operate.\n"
                       "Failed to connect to bus: Host is down\n")


def clock(params: dict, **answers):
    (result,) = run("clock", params, RecordedShell(answers))
    return result


def test_the_csv_sign_is_the_correction_the_offset_is_the_clock_minus_true_time():
    # chronyc tracking printed this line's value as "0.000001397 seconds fast of NTP time".
    tracking = parse_tracking(fixture("chronyc-tracking-synchronised.csv").decode())
    assert tracking.offset == pytest.approx(1.397e-6) and tracking.stratum == 9 and tracking.reference == "127.0.0.1"
    assert format_offset(tracking.offset) == "1.4 µs fast" and format_offset(-2.4173) == "2.42 s slow"


def test_a_synchronised_clock_is_ok_with_its_figures():
    result = clock({}, **{TRACKING: ok(fixture("chronyc-tracking-synchronised.csv"))})
    assert result.status is Status.OK
    assert result.summary == "synchronised to 127.0.0.1 (stratum 9), clock 1.4 µs fast"
    assert result.metric("offset").value == pytest.approx(1.397e-6) and result.metric("stratum").value == 9
    assert result.metric("root_dispersion").value == pytest.approx(2.176e-6)


def test_offset_thresholds_in_both_directions():
    slow = clock({}, **{TRACKING: ok(fixture("chronyc-tracking-slow.csv"))})
    assert slow.status is Status.WARNING
    assert slow.summary == ("clock 2.42 s slow (warning above 1 s) - synchronised to ntp1.example.net (stratum 3), "
                            "clock 2.42 s slow")
    assert slow.metric("offset").value == pytest.approx(-2.417305112)
    assert clock({"warning": 5}, **{TRACKING: ok(fixture("chronyc-tracking-slow.csv"))}).status is Status.OK
    fast = clock({}, **{TRACKING: ok(fixture("chronyc-tracking-fast-high-stratum.csv"))})
    assert fast.status is Status.CRITICAL
    assert fast.summary.startswith("clock 95.2 s fast (critical above 60 s); stratum 12 is above 10 - ")
    assert clock({"critical": 100}, **{TRACKING: ok(fixture("chronyc-tracking-fast-high-stratum.csv"))}).status \
        is Status.WARNING


def test_not_synchronised_and_local_clock():
    lost = clock({}, **{TRACKING: ok(fixture("chronyc-tracking-not-synchronised.csv"))})
    assert lost.status is Status.CRITICAL
    assert lost.summary == ("not synchronised: chronyd has no usable time source (leap status Not synchronised, "
                            "stratum 0)")
    local = clock({}, **{TRACKING: ok(fixture("chronyc-tracking-local-clock.csv"))})
    assert local.status is Status.WARNING
    assert local.summary == ("synchronised only to its own clock (chrony 'local' directive), not to a time server "
                             "- synchronised to its local clock (stratum 8), clock on time")


def test_chronyd_not_running_falls_back_to_timedatectl():
    synced = clock({}, **{TRACKING: NO_DAEMON, TIMEDATECTL: ok(fixture("timedatectl-synchronised.txt"))})
    assert synced.status is Status.OK
    assert synced.summary == ("synchronised (timedatectl: NTPSynchronized=yes; no offset figure) "
                              "(chronyd is not running: chronyc: 506 Cannot talk to daemon)")
    unsynced = clock({}, **{TRACKING: NO_DAEMON, TIMEDATECTL: ok(fixture("timedatectl-not-synchronised.txt"))})
    assert unsynced.status is Status.CRITICAL and unsynced.summary.startswith("not synchronised (timedatectl: ")
    no_ntp = clock({}, **{TIMEDATECTL: ok(fixture("timedatectl-no-ntp.txt"))})  # and no chronyc at all
    assert no_ntp.status is Status.CRITICAL
    assert no_ntp.summary.startswith("not synchronised: no time synchronisation service enabled (timedatectl: NTP=no)"
                                     " (chronyc is not installed on the host")


def test_neither_source_answering_is_unknown_with_both_reasons():
    result = clock({}, **{TRACKING: NO_DAEMON, TIMEDATECTL: NO_SYSTEMD})
    assert result.status is Status.UNKNOWN and not result.collected
    assert result.summary == (
        "cannot check: chronyd is not running: chronyc: 506 Cannot talk to daemon; and timedatectl cannot tell: "
        "System has not been booted with systemd as init system (PID 1). Can't operate. Failed to connect to bus: "
        "Host is down"
    )


def test_source_chrony_makes_a_stopped_chronyd_critical_and_passes_host_and_port():
    stopped = clock({"source": "chrony"}, **{TRACKING: NO_DAEMON})
    assert stopped.status is Status.CRITICAL
    assert stopped.summary == "not synchronised: chronyd is not running (chronyc: 506 Cannot talk to daemon)"
    remote = clock({"chronyc_host": "127.0.0.1", "chronyc_port": 11123},
                   **{"chronyc -h 127.0.0.1 -p 11123 -c tracking": ok(fixture("chronyc-tracking-synchronised.csv"))})
    assert remote.status is Status.OK
    only_timedatectl = clock({"source": "timedatectl"}, **{TIMEDATECTL: ok(fixture("timedatectl-synchronised.txt"))})
    assert only_timedatectl.summary == "synchronised (timedatectl: NTPSynchronized=yes; no offset figure)"


def test_garbled_chronyc_output_is_unknown():
    result = clock({}, **{TRACKING: ok("Reference ID    : 7F000001 (localhost)\n")})
    assert result.status is Status.UNKNOWN
    assert result.summary == "cannot check: cannot read chronyc -c tracking: expected 14 comma-separated fields " \
                             "from chronyc -c tracking, got 1"


@pytest.mark.parametrize("params", [{"warning": 90}, {"critical": 0}, {"source": "ntpd"}, {"max_stratum": 16},
                                    {"chronyc_host": "-x"}])
def test_bad_parameters_are_refused(params):
    with pytest.raises(ConfigError):
        default_registry().get("clock").validate(params)
