"""redfish_health against recorded Redfish responses (tests/fixtures/redfish/): what sushy-emulator
cannot serve — power supplies (Power and PowerSubsystem), failing temperatures, fans, drives and
controllers, and session login/logout. The responses are served through a requests transport adapter
mounted on the check's session, which also checks the credentials like a BMC does."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

from checks.base import CheckContext
from checks.redfish.client import PinnedAdapter, normalise_fingerprint
from checks.redfish.health import RedfishHealthCheck
from checks.registry import default_registry
from checks.status import Status
from checks.target import Target
from collector.config.variables import check_vars
from collector.reach import blocked, connections_for, reaches_itself

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "redfish"
BMC = "https://bmc1.example"
USER = "patrol-ro"
PASSWORD = "Rf-test-only-42"
TOKEN = "f3a9c0de-session-token-test-only"
SESSION = "/redfish/v1/SessionService/Sessions/77"


class RecordedBmc(BaseAdapter):
    """Answers from a path -> document file; every path but the service root needs basic auth or the
    session token; POST to the sessions collection logs in (201, X-Auth-Token, Location), DELETE logs out."""

    def __init__(self, fixture: str, sessions: bool = True) -> None:
        super().__init__()
        self.documents = json.loads((FIXTURES / fixture).read_text())
        self.sessions = sessions
        self.log: list[tuple[str, str, dict]] = []
        self.open_sessions: set[str] = set()

    def send(self, request, **kwargs):
        path = urlsplit(request.url).path
        headers = dict(request.headers)
        self.log.append((request.method, path, headers))
        if path == "/redfish/v1/" and request.method == "GET":
            return self.answer(request, 200, self.documents[path])
        if request.method == "POST" and path == "/redfish/v1/SessionService/Sessions" and self.sessions:
            body = json.loads(request.body)
            if body != {"UserName": USER, "Password": PASSWORD}:
                return self.answer(request, 401, {"error": {"message": "bad credentials"}})
            self.open_sessions.add(SESSION)
            return self.answer(request, 201, {"@odata.id": SESSION, "Id": "77"},
                               {"X-Auth-Token": TOKEN, "Location": SESSION})  # fmt: skip
        basic = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        token = headers.get("X-Auth-Token")
        if headers.get("Authorization") != basic and not (token == TOKEN and self.open_sessions):
            return self.answer(request, 401, {"error": {"message": "unauthorized"}})
        if request.method == "DELETE" and path in self.open_sessions:
            self.open_sessions.discard(path)
            return self.answer(request, 204, None)
        if request.method == "GET" and path in self.documents:
            return self.answer(request, 200, self.documents[path])
        return self.answer(request, 404, {"error": {"message": f"{path} not found"}})

    @staticmethod
    def answer(request, status, document, headers=None):
        response = requests.Response()
        response.status_code = status
        response.reason = {200: "OK", 201: "Created", 204: "No Content", 401: "Unauthorized"}.get(status, "Error")
        response.headers = CaseInsensitiveDict({"Content-Type": "application/json", **(headers or {})})
        response._content = b"" if document is None else json.dumps(document).encode()
        response._content_consumed = True
        response.url = request.url
        response.request = request
        return response

    def close(self):
        pass


def run(fixture: str, params=None, sessions: bool = True, **variables):
    bmc = RecordedBmc(fixture, sessions)

    def session(_target):
        s = requests.Session()
        s.mount(BMC, bmc)
        return s

    target = Target("srv1-bmc", {"redfish_url": BMC, "redfish_user": USER,
                                 "redfish_password": {"env": "PATROL_TEST_BMC_PW"}, **variables})  # fmt: skip
    check = RedfishHealthCheck()
    ctx = CheckContext(target=target, connections={"redfish": session})
    results = check.execute(ctx, check.validate(params or {}))
    return {r.item: r for r in results}, bmc


@pytest.fixture(autouse=True)
def password(monkeypatch):
    monkeypatch.setenv("PATROL_TEST_BMC_PW", PASSWORD)


def test_failing_server_legacy_power_thermal_and_drives():
    results, _ = run("failing-rack-server.json")
    c = "chassis System.Embedded.1"
    assert results["system"].status is Status.CRITICAL and "health Critical (rollup)" in results["system"].summary
    inlet = results[f"{c} / System Board Inlet Temp"]
    assert inlet.status is Status.CRITICAL and inlet.metric("temperature").value == 44
    assert inlet.metric("temperature").unit == "C"
    assert "temperature 44 °C outside -7..42" in inlet.summary  # the BMC's own critical band
    cpu1 = results[f"{c} / CPU1 Temp"]
    assert cpu1.status is Status.WARNING and "> 87" in cpu1.summary
    assert {t.metric: (t.warning, t.critical) for t in cpu1.thresholds} == {"temperature": ("~:87", "~:92")}
    assert results[f"{c} / CPU2 Temp"].status is Status.OK
    assert f"{c} / CPU3 Temp" not in results  # an absent sensor (empty socket) is no item
    fan = results[f"{c} / System Board Fan2A"]
    assert fan.status is Status.CRITICAL and fan.metric("fan_speed").value == 360
    assert fan.metric("fan_speed").unit == "rpm" and "< 480" in fan.summary
    assert results[f"{c} / System Board Fan1A"].status is Status.OK
    assert results["PSU PSU.Slot.1"].status is Status.OK
    assert results["PSU PSU.Slot.1"].metric("power_input").value == 212
    psu2 = results["PSU PSU.Slot.2"]
    assert psu2.status is Status.CRITICAL and "line input LossOfInput" in psu2.summary
    assert "PSU PSU.Slot.3" not in results  # an empty bay
    assert results["controller RAID.Integrated.1-1"].status is Status.WARNING
    drives = {k.split(":")[0]: r for k, r in results.items() if k.startswith("drive ")}
    assert drives["drive Disk.Bay.0"].status is Status.OK
    failed = drives["drive Disk.Bay.1"]
    assert failed.status is Status.CRITICAL and "health Critical" in failed.summary
    predicted = drives["drive Disk.Bay.2"]
    assert predicted.status is Status.WARNING and "failure predicted" in predicted.summary
    assert "drive Disk.Bay.3" not in drives


def test_absent_parts_reported_when_asked():
    results, _ = run("failing-rack-server.json", {"report_absent": True})
    assert results["PSU PSU.Slot.3"].status is Status.OK and "not present" in results["PSU PSU.Slot.3"].summary
    assert any(k.startswith("drive Disk.Bay.3") and r.summary == "not present" for k, r in results.items())


def test_threshold_overrides_replace_the_bmcs():
    results, _ = run("failing-rack-server.json", {"temperature_warning": 60, "temperature_critical": 90,
                                                  "fan_critical": 300})  # fmt: skip
    c = "chassis System.Embedded.1"
    assert results[f"{c} / CPU2 Temp"].status is Status.WARNING  # 61 > 60 (the BMC's own: 87)
    assert "thresholds from the parameters" in results[f"{c} / CPU2 Temp"].summary
    # 44 °C is below the override, but the BMC itself calls the sensor Critical: that still counts
    assert results[f"{c} / System Board Inlet Temp"].status is Status.CRITICAL
    assert results[f"{c} / CPU1 Temp"].thresholds[0].critical == "~:90"
    assert results[f"{c} / System Board Fan2A"].thresholds[0].critical == "300:"


def test_power_subsystem_controllers_collection_and_percent_fans():
    results, _ = run("powersubsystem-server.json")
    assert results["system"].status is Status.WARNING  # the rollup, not the system's own OK
    assert results["PSU 1"].status is Status.OK and "capacity 800 W" in results["PSU 1"].summary
    assert results["PSU 2"].status is Status.WARNING
    fan = results["chassis 1 / Fan 1"]
    assert fan.metric("fan_speed").unit == "%" and fan.metric("fan_speed").value == 31
    assert "chassis 1 / Fan 2" not in results
    inlet = results["chassis 1 / 01-Inlet Ambient"]
    assert inlet.status is Status.OK and inlet.thresholds[0].warning is None and inlet.thresholds[0].critical == "~:42"
    assert results["controller DE00A000"].status is Status.OK
    assert results["drive 0"].status is Status.OK and "NVMe" in results["drive 0"].summary


def test_session_auth_logs_in_uses_the_token_and_logs_out():
    results, bmc = run("failing-rack-server.json", redfish_auth="session")
    assert results["system"].status is Status.CRITICAL
    methods = [(m, p) for m, p, _ in bmc.log]
    assert methods[0] == ("GET", "/redfish/v1/") and methods[1] == ("POST", "/redfish/v1/SessionService/Sessions")
    assert methods[-1] == ("DELETE", SESSION) and not bmc.open_sessions
    later = [h for m, p, h in bmc.log[2:]]
    assert all(h.get("X-Auth-Token") == TOKEN and "Authorization" not in h for h in later)
    assert all(TOKEN not in r.summary and PASSWORD not in r.summary for r in results.values())


def test_wrong_password_is_unknown_with_the_variables_to_fix(monkeypatch):
    monkeypatch.setenv("PATROL_TEST_BMC_PW", "wrong")
    for auth in ("basic", "session"):
        results, _ = run("failing-rack-server.json", redfish_auth=auth)
        (only,) = results.values()
        assert only.status is Status.UNKNOWN and not only.collected
        assert "access denied" in only.summary and "redfish_password" in only.summary
        assert "wrong" not in only.summary


def test_a_part_the_bmc_fails_to_serve_is_one_unknown_item():
    results, _ = run("failing-rack-server.json", {"storage": True})
    bmc_missing = RecordedBmc("failing-rack-server.json")
    del bmc_missing.documents["/redfish/v1/Chassis/System.Embedded.1/Power"]

    def session(_target):
        s = requests.Session()
        s.mount(BMC, bmc_missing)
        return s

    check = RedfishHealthCheck()
    target = Target("srv1-bmc", {"redfish_url": BMC, "redfish_user": USER,
                                 "redfish_password": {"env": "PATROL_TEST_BMC_PW"}})  # fmt: skip
    out = {r.item: r for r in check.execute(CheckContext(target=target, connections={"redfish": session}),
                                            check.validate({}))}  # fmt: skip
    power = out["chassis System.Embedded.1 / power"]
    assert power.status is Status.UNKNOWN and "HTTP 404" in power.summary and not power.collected
    assert out["chassis System.Embedded.1 / CPU1 Temp"].status is Status.WARNING  # the rest is still there
    assert len(out) == len(results) - 2 + 1  # two PSU items became one UNKNOWN item


def test_configuration_problems_are_unknown_naming_the_variable():
    check = RedfishHealthCheck()
    for variables, says in [
        ({}, "redfish_url is not set"),
        ({"redfish_url": BMC, "redfish_user": USER}, "redfish_user and redfish_password go together"),
        ({"redfish_url": BMC, "redfish_ca_file": "/x.pem", "redfish_fingerprint": "ab" * 32}, "not both"),
        ({"redfish_url": "http://bmc1", "redfish_fingerprint": "ab" * 32}, "needs an https://"),
        ({"redfish_url": BMC, "redfish_auth": "session"}, "session needs redfish_user"),
        ({"redfish_url": BMC, "redfish_auth": "digest"}, "redfish_auth must be one of basic, session"),
    ]:
        (result,) = check.execute(CheckContext(target=Target("b", variables)), check.validate({}))
        assert result.status is Status.UNKNOWN and says in result.summary, (variables, result.summary)


def test_inventory_variables_are_checked():
    problems = []
    check_vars({"redfish_url": "bmc1", "redfish_password": "inline", "redfish_fingerprint": "12:34",
                "redfish_auth": "digest", "redfish_user": "ro", "redfish_ca_file": "/etc/ca.pem"}, ("bmc",),
               problems)  # fmt: skip
    messages = {p.path[-1]: p.message for p in problems}
    assert set(messages) == {"redfish_url", "redfish_password", "redfish_fingerprint", "redfish_auth"}
    assert "secrets may not be written inline" in messages["redfish_password"]
    assert "SHA-256" in messages["redfish_fingerprint"]
    assert normalise_fingerprint("AB:" * 31 + "AB") == "ab" * 32


def test_a_bmc_target_is_polled_from_here_without_ssh():
    target = Target("srv1-bmc", {"redfish_url": BMC, "ansible_host": "10.0.0.9"})
    check = default_registry().get("redfish_health")
    assert reaches_itself(target, check) and blocked(target) is None
    assert "ssh" not in connections_for(target) and "host" not in connections_for(target)


def test_pinned_adapter_refuses_without_its_pin():
    with pytest.raises(ValueError):
        PinnedAdapter("not-a-fingerprint")
    assert PinnedAdapter("AB:" * 31 + "AB").fingerprint == "ab" * 32


def test_thermal_subsystem_and_sensors_of_newer_bmcs():
    results, _ = run("thermalsubsystem-server.json")
    assert set(results) == {"chassis chassis / Ambient 0 Temp", "chassis chassis / CPU0 Temp",
                            "chassis chassis / Fan0", "chassis chassis / Fan1"}  # the voltage sensor is no temperature
    ambient = results["chassis chassis / Ambient 0 Temp"]
    assert ambient.status is Status.OK and ambient.metric("temperature").value == 27.5
    assert (ambient.thresholds[0].warning, ambient.thresholds[0].critical) == ("5:40", "45")  # Nagios: 45 is 0..45
    cpu = results["chassis chassis / CPU0 Temp"]
    assert cpu.status is Status.WARNING and "> 95" in cpu.summary
    assert results["chassis chassis / Fan0"].metric("fan_speed").value == 8600
    assert results["chassis chassis / Fan0"].metric("fan_speed").unit == "rpm"
    dead = results["chassis chassis / Fan1"]
    assert dead.status is Status.CRITICAL and dead.metric("fan_speed").unit == "%"


def test_item_names_stay_unique():
    from checks.redfish.health import Items

    items = Items()
    assert [items.name("PSU 1", "chassis 1"), items.name("PSU 1", "chassis 2"),
            items.name("chassis 1 / Fan", "chassis 1"), items.name("chassis 1 / Fan", "chassis 1")] == [
        "PSU 1", "chassis 2 / PSU 1", "chassis 1 / Fan", "chassis 1 / Fan #2"]  # fmt: skip
