"""The platform checks with the real tools of this machine, in process and over a real sshd.

This machine is a container: no SMART device, no md driver, systemd not running as PID 1, no chronyd
running. Each check must say so clearly (UNKNOWN with the reason, or OK "no arrays"). The parsing of
real systems' outputs is tested on recorded outputs in tests/unit/platform_checks/.
"""

from __future__ import annotations

import pytest

from checks.status import Status

from .backup_support import require, run_check

pytestmark = pytest.mark.integration


# -- smart ------------------------------------------------------------------------------------------


def test_smart_with_the_real_smartctl_sees_no_device():
    require("smartctl")
    (result,) = run_check("smart", {})
    assert result.status is Status.UNKNOWN and not result.collected
    assert result.summary == (
        "cannot check: smartctl --scan found no SMART device on this host "
        "(smartctl usually needs root: see the 'sudo' parameter)"
    )


def test_smart_on_a_named_device_that_is_not_there():
    require("smartctl")
    (result,) = run_check("smart", {"devices": ["/dev/sdz"]})
    assert result.item == "/dev/sdz" and result.status is Status.UNKNOWN
    assert result.summary == (
        "smartctl could not open the device (Smartctl open device: /dev/sdz failed: No such device)"
    )


def test_smart_over_ssh(sshd, known_hosts):
    require("smartctl")
    require("sudo")
    ssh = sshd.target_vars(known_hosts, connection="ssh")
    # /usr/sbin is not on an unprivileged user's PATH on Debian: the check says so.
    (default,) = run_check("smart", {}, ssh)
    assert default.status is Status.UNKNOWN
    assert default.summary.startswith(
        "cannot check: smartctl is not installed on the host or not on the patrol user's PATH"
    ), default.summary
    (scanned,) = run_check("smart", {"command": "/usr/sbin/smartctl"}, ssh)
    assert scanned.status is Status.UNKNOWN and "found no SMART device" in scanned.summary
    (named,) = run_check("smart", {"command": "/usr/sbin/smartctl", "devices": ["/dev/sdz"]}, ssh)
    assert named.status is Status.UNKNOWN and "/dev/sdz failed: No such device" in named.summary
    # The test account has no sudoers rule: sudo -n refuses instead of asking for a password.
    (refused,) = run_check("smart", {"command": "/usr/sbin/smartctl", "sudo": True}, ssh)
    assert refused.status is Status.UNKNOWN
    assert "sudo -n refused to run smartctl" in refused.summary and "a password is required" in refused.summary
