"""smart on recorded smartctl --json outputs: healthy and failing ATA disks, NVMe, exit-status bits."""

from __future__ import annotations

import json

import pytest
from platform_support import RecordedShell, by_item, fixture, ok, run

from checks.errors import ConfigError
from checks.platform.smart import exit_unreadable, parse_disk, parse_scan
from checks.registry import default_registry
from checks.status import Status


def exit_status(name: str) -> int:
    return json.loads(fixture(name))["smartctl"]["exit_status"]


def test_scan_lists_devices_with_their_types():
    assert [(d.name, d.type) for d in parse_scan(fixture("smartctl-scan.json"))] == [
        ("/dev/sda", "sat"), ("/dev/sdb", "sat"), ("/dev/nvme0", "nvme")
    ]
    assert parse_scan(fixture("smartctl-scan-none.json")) == []  # this machine's real smartctl


def test_healthy_ata_disk():
    disk = parse_disk(fixture("smartctl-ata-healthy.json"))
    assert (disk.passed, disk.reallocated, disk.pending, disk.temperature, disk.power_on_hours) == (
        True, 0, 0, 34.0, 28734
    )
    assert disk.model == "ST4000NM0035-1V4107" and disk.percentage_used is None


def test_failing_ata_disk_figures():
    disk = parse_disk(fixture("smartctl-ata-failing.json"))
    assert (disk.passed, disk.reallocated, disk.pending, disk.temperature) == (False, 2768, 24, 41.0)


def test_nvme_figures():
    disk = parse_disk(fixture("smartctl-nvme-worn.json"))
    assert (disk.percentage_used, disk.media_errors, disk.available_spare, disk.temperature) == (93, 12, 100, 52.0)
    assert disk.reallocated is None and disk.pending is None


def test_exit_status_bits_that_mean_unreadable():
    missing = parse_disk(fixture("smartctl-no-device.json"), "/dev/sda")  # recorded on this machine
    assert exit_unreadable(2, missing) == (
        "smartctl could not open the device (Smartctl open device: /dev/sda failed: No such device)"
    )
    assert exit_unreadable(1, None).startswith("smartctl did not accept its command line")
    assert exit_unreadable(4, missing).startswith("SMART commands failed")
    assert exit_unreadable(4, parse_disk(fixture("smartctl-ata-healthy.json"))) is None  # data came back
    assert exit_unreadable(0xD8, parse_disk(fixture("smartctl-ata-failing.json"))) is None


def scan_shell(*disks: tuple[str, str, str]) -> RecordedShell:
    answers = {"smartctl --scan --json": ok(fixture("smartctl-scan.json"))}
    for name, kind, file in disks:
        answers[f"smartctl -a --json -d {kind} {name}"] = ok(fixture(file), exit_status(file))
    return RecordedShell(answers)


def test_the_check_reads_every_scanned_disk():
    shell = scan_shell(
        ("/dev/sda", "sat", "smartctl-ata-healthy.json"),
        ("/dev/sdb", "sat", "smartctl-ata-failing.json"),
        ("/dev/nvme0", "nvme", "smartctl-nvme-healthy.json"),
    )
    got = by_item(run("smart", {}, shell))
    assert set(got) == {"/dev/sda [sat]", "/dev/sdb [sat]", "/dev/nvme0 [nvme]"}
    sda = got["/dev/sda [sat]"]
    assert sda.status is Status.OK, sda.summary
    assert sda.summary == "ST4000NM0035-1V4107 (ZC1A7QJ4), health PASSED, 0 reallocated, 0 pending, 34 °C"
    assert sda.metric("temperature").value == 34 and sda.metric("temperature").unit == "C"
    sdb = got["/dev/sdb [sat]"]
    assert sdb.status is Status.CRITICAL
    assert sdb.summary.startswith(
        "a pre-failure attribute is at or below its threshold; the self-test log reports errors; "
        "SMART overall-health: FAILED - "
    ), sdb.summary
    assert "reallocated_sectors 2768 > 0" in sdb.summary and "pending_sectors 24 > 0" in sdb.summary
    assert "[the device error log has entries]" in sdb.summary
    nvme = got["/dev/nvme0 [nvme]"]
    assert nvme.status is Status.OK and nvme.metric("percentage_used").value == 3
    assert nvme.metric("media_errors").value == 0 and nvme.metric("available_spare").value == 100
    assert all(env == {"LC_ALL": "C"} for _, env in shell.calls)


def test_nvme_wear_and_media_errors_against_thresholds():
    shell = RecordedShell({"smartctl -a --json /dev/nvme1": ok(fixture("smartctl-nvme-worn.json"), 64)})
    (worn,) = run("smart", {"devices": ["/dev/nvme1"]}, shell)
    assert worn.item == "/dev/nvme1" and worn.status is Status.CRITICAL
    assert "percentage_used 93% > 90" in worn.summary and "media_errors 12 > 0" in worn.summary, worn.summary
    (relaxed,) = run(
        "smart",
        {"devices": ["/dev/nvme1"], "percentage_used_critical": 95, "media_errors_critical": None,
         "media_errors_warning": 20, "temperature_warning": 50},
        shell,
    )
    assert relaxed.status is Status.WARNING, relaxed.summary
    assert "percentage_used 93% > 80" in relaxed.summary and "temperature 52 °C > 50" in relaxed.summary


def test_hot_disk_is_critical_and_thresholds_apply_to_sectors():
    data = json.loads(fixture("smartctl-ata-healthy.json"))
    data["temperature"]["current"] = 66
    data["ata_smart_attributes"]["table"][3]["raw"]["value"] = 3  # attribute 5, Reallocated_Sector_Ct
    shell = RecordedShell({"smartctl -a --json /dev/sda": ok(json.dumps(data))})
    (hot,) = run("smart", {"devices": ["/dev/sda"], "reallocated_warning": 5}, shell)
    assert hot.status is Status.CRITICAL and hot.summary.endswith("(temperature 66 °C > 65)"), hot.summary
    assert hot.metric("reallocated_sectors").value == 3
    (warm,) = run("smart", {"devices": ["/dev/sda"]}, shell)
    assert "reallocated_sectors 3 > 0" in warm.summary


def test_no_device_found_is_unknown_with_a_hint_about_root():
    shell = RecordedShell({"smartctl --scan --json": ok(fixture("smartctl-scan-none.json"))})
    (result,) = run("smart", {}, shell)
    assert result.status is Status.UNKNOWN and not result.collected
    assert result.summary == (
        "cannot check: smartctl --scan found no SMART device on this host "
        "(smartctl usually needs root: see the 'sudo' parameter)"
    )


def test_missing_smartctl_and_sudo_refusal_are_unknown():
    (missing,) = run("smart", {}, RecordedShell())
    assert missing.status is Status.UNKNOWN
    assert missing.summary == (
        "cannot check: smartctl is not installed on the host or not on the patrol user's PATH "
        "(smartctl: command not found)"
    )
    refused = RecordedShell({"sudo -n smartctl --scan --json": ok(b"", 1, b"sudo: a password is required\n")})
    (result,) = run("smart", {"sudo": True}, refused)
    assert result.status is Status.UNKNOWN and "sudo -n refused to run smartctl" in result.summary
    assert "sudo: a password is required" in result.summary


def test_not_json_is_unknown_per_disk():
    shell = RecordedShell({"smartctl -a --json /dev/sda": ok(b"smartctl 6.6 2016-05-31\n=== START", 1)})
    (result,) = run("smart", {"devices": ["/dev/sda"]}, shell)
    assert result.status is Status.UNKNOWN and "did not answer JSON" in result.summary


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"devices": ["-a"]}, "devices[0].name"),
        ({"devices": [{"name": "/dev/sda", "type": "sat; rm"}]}, "devices[0].type"),
        ({"temperature_warning": "hot"}, "temperature_warning"),
        ({"sudoo": True}, "did you mean 'sudo'"),
    ],
)
def test_bad_parameters(params, expected):
    with pytest.raises(ConfigError) as caught:
        default_registry().get("smart").validate(params)
    assert expected in str(caught.value)
