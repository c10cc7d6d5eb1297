"""systemd_units on recorded systemctl outputs (systemd 252's tables; the machine running the tests has
no systemd as PID 1, so its own systemctl is exercised in tests/integration/test_platform_tools.py)."""

from __future__ import annotations

import pytest
from platform_support import RecordedShell, by_item, fixture, ok, run

from checks.errors import ConfigError
from checks.registry import default_registry
from checks.status import Status

LIST = "systemctl list-units --all --no-pager --full"
JSON = LIST + " --output=json"
PLAIN = LIST + " --plain --no-legend"
NOT_LOADED = ["sshd.service", "haproxy.service", "keepalived.service", "nosuch.service", "tmp.mount"]
SHOW = "systemctl show --property=Id,LoadState,ActiveState,SubState --no-pager -- " + " ".join(NOT_LOADED)


def shell(name: str, **more) -> RecordedShell:
    return RecordedShell({JSON: ok(fixture(name)), **more})


def test_a_healthy_host_has_no_failed_units_and_its_required_units_active():
    results = run("systemd_units", {"required": ["nginx", "chrony.service", "postgresql@*"]},
                  shell("systemctl-units-healthy.json"))  # fmt: skip
    got = by_item(results)
    assert list(got) == ["failed units", "nginx.service", "chrony.service", "postgresql@*"]
    assert got["failed units"].status is Status.OK
    assert got["failed units"].summary == "no failed units among 22"
    assert got["failed units"].metric("units").value == 22
    assert got["nginx.service"].status is Status.OK and got["nginx.service"].summary == "nginx.service active (running)"
    assert got["postgresql@*"].status is Status.OK
    assert got["postgresql@*"].summary == "postgresql@15-main.service active (running)"
    assert got["postgresql@*"].metric("active").value == 1


def test_failed_units_warn_and_a_required_unit_down_is_critical():
    got = by_item(run("systemd_units", {"required": ["nginx", "postgresql@*", "ssh"]},
                      shell("systemctl-units-failed.json")))  # fmt: skip
    failed = got["failed units"]
    assert failed.status is Status.WARNING
    assert failed.summary == "3 failed unit(s): logrotate.service, man-db.service, nginx.service"
    assert failed.metric("failed_units").value == 3
    assert got["nginx.service"].status is Status.CRITICAL
    assert got["nginx.service"].summary == "not active: nginx.service failed"
    # A crash loop: systemd restarting the unit over and over is not "active".
    assert got["postgresql@*"].status is Status.CRITICAL
    assert got["postgresql@*"].summary == "not active: postgresql@15-main.service activating (auto-restart)"
    assert got["ssh.service"].status is Status.OK


def test_ignored_failures_and_failed_status():
    params = {"ignore": ["man-db.*", "logrotate"], "failed_status": "CRITICAL"}
    (failed,) = run("systemd_units", params, shell("systemctl-units-failed.json"))
    assert failed.status is Status.CRITICAL
    assert failed.summary == "1 failed unit(s): nginx.service (2 ignored)"
    assert failed.metric("ignored_failed_units").value == 2
    (quiet,) = run("systemd_units", {"ignore": ["*"]}, shell("systemctl-units-failed.json"))
    assert quiet.status is Status.OK and quiet.summary == "no failed units among 24 (3 ignored)"


def test_required_units_list_units_does_not_show_are_looked_up():
    recorded = shell("systemctl-units-healthy.json", **{SHOW: ok(fixture("systemctl-show-not-loaded.txt"))})
    required = ["sshd", "haproxy", "keepalived.service", "nosuch", "tmp.mount", "redis*"]
    got = by_item(run("systemd_units", {"required": required}, recorded))
    assert got["sshd.service"].status is Status.OK  # Debian's alias of ssh.service
    assert got["sshd.service"].summary == "sshd.service (ssh.service) active (running)"
    assert got["haproxy.service"].status is Status.CRITICAL
    assert got["haproxy.service"].summary == "not active: haproxy.service inactive (dead)"
    assert got["keepalived.service"].summary == "not active: keepalived.service inactive (dead), masked"
    assert got["nosuch.service"].status is Status.CRITICAL
    assert got["nosuch.service"].summary == "no such unit (nosuch.service is not loaded)"
    assert got["tmp.mount"].status is Status.CRITICAL  # listed, but as not-found
    assert got["redis*"].summary == "no unit matches (redis* is not loaded)"
    assert got["redis*"].metric("active").value == 0


def test_plain_table_when_systemctl_has_no_json_output():
    old = RecordedShell({JSON: ok("", 1, "Unknown output 'json'."), PLAIN: ok(fixture("systemctl-units-failed.txt"))})
    got = by_item(run("systemd_units", {"required": ["nginx"]}, old))
    assert got["failed units"].summary == "3 failed unit(s): logrotate.service, man-db.service, nginx.service"
    assert got["nginx.service"].status is Status.CRITICAL


@pytest.mark.parametrize(
    ("stderr", "summary"),
    [
        (
            "System has not been booted with systemd as init system (PID 1). Can't operate.\n"
            "Failed to connect to bus: Host is down",
            "cannot check: systemd is not the init system (PID 1) on this host: System has not been booted with "
            "systemd as init system (PID 1). Can't operate. Failed to connect to bus: Host is down",
        ),
        (
            "Failed to connect to bus: No such file or directory",
            "cannot check: systemctl cannot reach the system manager: Failed to connect to bus: No such file or "
            "directory",
        ),
    ],
)
def test_no_system_manager_is_unknown(stderr, summary):
    (result,) = run("systemd_units", {"required": ["sshd"]}, RecordedShell({JSON: ok("", 1, stderr)}))
    assert result.status is Status.UNKNOWN and not result.collected
    assert result.summary == summary


def test_systemctl_missing_is_unknown():
    (result,) = run("systemd_units", {}, RecordedShell())
    assert result.status is Status.UNKNOWN
    assert result.summary.startswith("cannot check: systemctl is not installed on the host")


@pytest.mark.parametrize("params", [{"required": ["two words"]}, {"failed_status": "OK"}, {"ignore": [""]}])
def test_bad_parameters_are_refused(params):
    with pytest.raises(ConfigError):
        default_registry().get("systemd_units").validate(params)
