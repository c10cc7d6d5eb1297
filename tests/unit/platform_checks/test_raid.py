"""raid on /proc/mdstat texts: healthy, degraded, recovering, checking, failed members, no arrays."""

from __future__ import annotations

import pytest
from platform_support import RecordedShell, by_item, fixture, run

from checks.errors import ConfigError
from checks.platform.raid import parse_mdstat
from checks.registry import default_registry
from checks.status import Status


def raid(name: str, params: dict | None = None):
    shell = RecordedShell(files={"/proc/mdstat": fixture(name)})
    return by_item(run("raid", params or {}, shell))


def test_parse_members_flags_and_progress():
    personalities, arrays = parse_mdstat(fixture("mdstat-failed-member.txt").decode())
    assert personalities[:3] == ["raid1", "raid6", "raid5"]
    inactive, raid6, raid1 = arrays
    assert (inactive.name, inactive.state, inactive.level, inactive.spares) == ("md127", "inactive", "", ["sdh"])
    assert (raid6.level, raid6.slots, raid6.working, raid6.map, raid6.failed) == ("raid6", 6, 5, "UUUU_U", ["sdf1"])
    assert [m.role for m in raid6.members] == [5, 4, 3, 2, 1, 0]
    assert (raid1.sync_action, raid1.sync_progress, raid1.sync_eta, raid1.spares) == ("resync", 8.3, 18.0, ["sdb2"])
    _, (recovering,) = parse_mdstat(fixture("mdstat-raid5-recovering.txt").decode())
    assert (recovering.sync_action, recovering.sync_progress, recovering.sync_eta) == ("recovery", 17.6, 8184.0)


def test_healthy_raid1():
    got = raid("mdstat-raid1-healthy.txt")
    assert list(got) == ["md0", "md1"]
    assert got["md0"].status is Status.OK and got["md0"].summary == "active raid1, [2/2] [UU]"
    assert got["md1"].metric("devices_working").value == 2 and got["md1"].metric("missing_members").value == 0


def test_degraded_raid1_is_critical():
    got = raid("mdstat-raid1-degraded.txt")
    md1 = got["md1"]
    assert md1.status is Status.CRITICAL
    assert md1.summary == "1 of 2 member(s) missing; degraded, no rebuild running - active raid1, [2/1] [U_]"
    assert md1.metric("missing_members").value == 1 and md1.metric("devices_working").value == 1


def test_recovering_raid5_is_a_warning_with_progress_and_time_left():
    (md2,) = raid("mdstat-raid5-recovering.txt").values()
    assert md2.status is Status.WARNING
    assert md2.summary == (
        "1 of 4 member(s) missing; rebuilding - active raid5, [4/3] [UUU_], recovery 17.6%, about 2.3 h left"
    )
    assert md2.metric("sync_progress").value == 17.6 and md2.metric("sync_progress").unit == "%"
    assert md2.metric("sync_eta").value == 8184.0


def test_raid10_being_checked_is_ok_and_raid0_has_no_redundancy_figures():
    got = raid("mdstat-raid10-checking.txt")
    assert got["md3"].status is Status.OK
    assert got["md3"].summary == "active raid10, [4/4] [UUUU], check 42.3%, about 96 min left"
    assert got["md4"].status is Status.OK and got["md4"].summary == "active raid0"
    assert got["md4"].metric("devices_expected") is None


def test_failed_member_inactive_array_and_resync_with_a_spare():
    got = raid("mdstat-failed-member.txt")
    assert list(got) == ["md0", "md2", "md127"]
    md2 = got["md2"]
    assert md2.status is Status.CRITICAL and md2.metric("failed_members").value == 1
    assert md2.summary.startswith("failed member(s): sdf1; 1 of 6 member(s) missing; degraded, no rebuild running")
    assert got["md127"].status is Status.CRITICAL and "array inactive" in got["md127"].summary
    md0 = got["md0"]
    assert md0.status is Status.WARNING
    assert md0.summary == "active raid1, [2/2] [UU], resync 8.3%, about 18 s left, 1 spare"


def test_delayed_and_pending_resyncs_are_warnings():
    got = raid("mdstat-delayed.txt")
    assert got["md1"].status is Status.WARNING and got["md1"].summary.endswith("resync delayed")
    assert got["md0"].summary == "active (auto-read-only) raid1, [2/2] [UU], resync pending"


def test_no_arrays():
    (result,) = raid("mdstat-no-arrays.txt").values()
    assert result.status is Status.OK and result.summary == "no software RAID arrays (no arrays in /proc/mdstat)"
    (required,) = raid("mdstat-no-arrays.txt", {"required": True}).values()
    assert required.status is Status.UNKNOWN and "the parameters require one" in required.summary
    (missing,) = run("raid", {}, RecordedShell())  # no /proc/mdstat at all: md driver not loaded
    assert missing.status is Status.OK and missing.summary == "no software RAID arrays (no md driver loaded)"


def test_a_required_array_that_is_missing_is_critical():
    got = raid("mdstat-raid1-healthy.txt", {"arrays": ["md0", "md5"]})
    assert got["md5"].status is Status.CRITICAL and got["md5"].summary == "array md5 does not exist"
    assert got["md0"].status is Status.OK


def test_another_path_that_does_not_exist_is_unknown():
    (result,) = run("raid", {"mdstat_path": "/srv/mdstat"}, RecordedShell())
    assert result.status is Status.UNKNOWN and result.summary == "cannot check: /srv/mdstat does not exist"


def test_bad_parameters():
    with pytest.raises(ConfigError) as caught:
        default_registry().get("raid").validate({"mdstat_path": "proc/mdstat", "required": "maybe"})
    assert "mdstat_path" in str(caught.value) and "required" in str(caught.value)
