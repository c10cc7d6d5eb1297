"""redfish_health against a real Redfish service: OpenStack's sushy-emulator (fake driver) over HTTPS
with basic auth, started on loopback for this module (tests/integration/redfish.py).

What it verifies for real: the service root, chassis, Thermal temperatures with the emulator's own
thresholds and fans in RPM, the system health rollup, a storage controller and a drive, basic auth
(right and wrong password), certificate trust by CA file and by pinned SHA-256 fingerprint (right and
wrong), no trust at all, and a BMC that is gone. Power supplies, failing parts and session login are
tested against recorded responses (tests/unit/checks/test_redfish_health.py): the emulator has none.
"""

from __future__ import annotations

import pytest
import requests

from checks.base import CheckContext
from checks.registry import default_registry
from checks.status import Status
from checks.target import Target
from collector.planner import Assignment
from collector.reach import connections_for
from collector.runner import Runner

from .redfish import DRIVE_ID, PASSWORD, USER, RedfishServerError, free_tcp_port, start_emulator

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def emulator():
    try:
        server = start_emulator()
    except RedfishServerError as exc:
        pytest.fail(f"cannot start sushy-emulator for the tests: {exc}", pytrace=False)
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def password(monkeypatch):
    monkeypatch.setenv("PATROL_TEST_BMC_PW", PASSWORD)


def bmc(url: str, **trust) -> Target:
    return Target("srv1-bmc", {"redfish_url": url, "redfish_user": USER,
                               "redfish_password": {"env": "PATROL_TEST_BMC_PW"}, **trust})  # fmt: skip


def run(target: Target, params=None) -> dict:
    check = default_registry().get("redfish_health")
    ctx = CheckContext(target=target, connections=connections_for(target))
    return {r.item: r for r in check.execute(ctx, check.validate(params or {}))}


def served(emulator, path: str) -> dict:
    """What the emulator itself answers, to compare the check's figures with."""
    answer = requests.get(emulator.url + path, auth=(USER, PASSWORD), verify=str(emulator.pki.ca_file), timeout=10)
    answer.raise_for_status()
    return answer.json()


def test_healthy_emulator_with_a_ca_file(emulator):
    results = run(bmc(emulator.url, redfish_ca_file=str(emulator.pki.ca_file)))
    chassis_id = served(emulator, "/redfish/v1/Chassis")["Members"][0]["@odata.id"].rsplit("/", 1)[1]
    thermal = served(emulator, f"/redfish/v1/Chassis/{chassis_id}/Thermal")
    expected = {"system", "controller 1", f"drive {DRIVE_ID}"}
    expected |= {f"chassis {chassis_id} / {t['Name']}" for t in thermal["Temperatures"] + thermal["Fans"]}
    assert set(results) == expected
    assert all(r.status is Status.OK and r.collected for r in results.values()), [r.summary for r in results.values()]
    for sensor in thermal["Temperatures"]:
        r = results[f"chassis {chassis_id} / {sensor['Name']}"]
        assert r.metric("temperature").value == sensor["ReadingCelsius"] and r.metric("temperature").unit == "C"
        (spec,) = r.thresholds  # the BMC's own thresholds, as Nagios ranges
        low = sensor.get("LowerThresholdNonCritical")
        assert spec.warning == (f"{low}:{sensor['UpperThresholdNonCritical']}" if low is not None
                                else f"~:{sensor['UpperThresholdNonCritical']}")  # fmt: skip
        assert "BMC thresholds" in r.summary
    for fan in thermal["Fans"]:
        r = results[f"chassis {chassis_id} / {fan['Name']}"]
        assert r.metric("fan_speed").value == fan["Reading"] and r.metric("fan_speed").unit == "rpm"
    system = served(emulator, "/redfish/v1/Systems")["Members"][0]["@odata.id"]
    assert results["system"].summary.startswith(f"health {served(emulator, system)['Status']['HealthRollUp']}")
    assert "837.7 GiB" in results[f"drive {DRIVE_ID}"].summary


def test_override_warns_below_the_bmcs_threshold(emulator):
    results = run(bmc(emulator.url, redfish_ca_file=str(emulator.pki.ca_file)), {"temperature_warning": 40})
    cpu = next(r for item, r in results.items() if item.endswith("/ CPU Temp"))
    assert cpu.status is Status.WARNING and "temperature 41 °C > 40" in cpu.summary
    assert "thresholds from the parameters" in cpu.summary
    intake = next(r for item, r in results.items() if item.endswith("/ Chassis Intake Temp"))
    assert intake.status is Status.OK  # 25 °C


def test_pinned_fingerprint_right_and_wrong(emulator):
    # No CA is given: the certificate is trusted only because it is the pinned one
    right = run(bmc(emulator.url, redfish_fingerprint=emulator.pki.fingerprint_colons))
    assert right["system"].status is Status.OK and len(right) == 7
    wrong_pin = "00" * 31 + "01"
    (wrong,) = run(bmc(emulator.url, redfish_fingerprint=wrong_pin)).values()
    assert wrong.status is Status.UNKNOWN and not wrong.collected
    assert "Fingerprints did not match" in wrong.summary and emulator.pki.fingerprint in wrong.summary
    assert "not the one pinned in redfish_fingerprint" in wrong.summary


def test_no_trust_configured_fails_instead_of_trusting_blindly(emulator):
    (result,) = run(bmc(emulator.url)).values()
    assert result.status is Status.UNKNOWN and "certificate verify failed" in result.summary
    assert "redfish_ca_file" in result.summary and "redfish_fingerprint" in result.summary


def test_wrong_password_is_refused_by_the_emulator(emulator, monkeypatch):
    monkeypatch.setenv("PATROL_TEST_BMC_PW", "not-the-password")
    (result,) = run(bmc(emulator.url, redfish_ca_file=str(emulator.pki.ca_file))).values()
    assert result.status is Status.UNKNOWN and "access denied" in result.summary and "HTTP 401" in result.summary
    assert "not-the-password" not in result.summary


def test_bmc_that_is_gone_is_critical():
    (result,) = run(bmc(f"https://127.0.0.1:{free_tcp_port()}", redfish_fingerprint="ab" * 32)).values()
    assert result.status is Status.CRITICAL and "unreachable" in result.summary and not result.collected


def test_from_the_poller_without_ssh(emulator):
    # ansible_host points at this machine, where nothing answers SSH for the test: a BMC target must
    # not be probed over SSH, the check reaches the BMC itself.
    target = Target("srv1-bmc", {**bmc(emulator.url, redfish_fingerprint=emulator.pki.fingerprint).vars,
                                 "ansible_host": "127.0.0.1", "ansible_port": free_tcp_port()})  # fmt: skip
    check = default_registry().get("redfish_health")
    results = Runner(max_workers=2).run([Assignment("hardware", target, check, check.validate({}))])
    assert len(results) == 7 and all(r.status is Status.OK for r in results), [r.summary for r in results]
