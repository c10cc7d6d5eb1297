"""The platform checks with the real tools of this machine, in process and over a real sshd.

This machine is a container: no SMART device, no md driver, systemd not running as PID 1, no chronyd
running. Each check must say so clearly (UNKNOWN with the reason, or OK "no arrays"). The parsing of
real systems' outputs is tested on recorded outputs in tests/unit/platform_checks/.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from checks.status import Status

from .backup_support import require, run_check

pytestmark = pytest.mark.integration

FIXTURES = Path(__file__).parents[1] / "fixtures" / "platform"


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


# -- raid -------------------------------------------------------------------------------------------


@pytest.fixture
def mdstat_copy():
    """A recorded /proc/mdstat in a directory the SSH test user can read, removed afterwards."""
    directory = Path(tempfile.mkdtemp(prefix="patrol-mdstat-"))
    directory.chmod(0o755)
    path = directory / "mdstat"
    path.write_bytes((FIXTURES / "mdstat-raid5-recovering.txt").read_bytes())
    path.chmod(0o644)
    yield path
    shutil.rmtree(directory)


def test_raid_reads_this_machines_proc_mdstat():
    (result,) = run_check("raid", {})
    assert not Path("/proc/mdstat").exists()  # this machine's kernel has no md driver loaded
    assert result.status is Status.OK and result.summary == "no software RAID arrays (no md driver loaded)"
    (required,) = run_check("raid", {"required": True})
    assert required.status is Status.UNKNOWN


def test_raid_over_ssh(sshd, known_hosts, mdstat_copy):
    ssh = sshd.target_vars(known_hosts, connection="ssh")
    (real,) = run_check("raid", {}, ssh)
    assert real.status is Status.OK and real.summary == "no software RAID arrays (no md driver loaded)"
    remote = run_check("raid", {"mdstat_path": str(mdstat_copy)}, ssh)
    local = run_check("raid", {"mdstat_path": str(mdstat_copy)})
    for results in (remote, local):
        (md2,) = results
        assert md2.item == "md2" and md2.status is Status.WARNING, md2.summary
        assert md2.summary.endswith("recovery 17.6%, about 2.3 h left")
        assert md2.metric("sync_eta").value == 8184.0
    mdstat_copy.chmod(0o600)  # root's file: the test user may not read it
    (denied,) = run_check("raid", {"mdstat_path": str(mdstat_copy)}, ssh)
    assert denied.status is Status.UNKNOWN and "Permission denied" in denied.summary, denied.summary


# -- systemd_units ----------------------------------------------------------------------------------


def test_systemd_units_without_systemd_as_pid_1_is_unknown_locally_and_over_ssh(sshd, known_hosts):
    assert Path("/proc/1/comm").read_text().strip() != "systemd"  # this machine is a container
    require("systemctl")
    ssh = sshd.target_vars(known_hosts, connection="ssh")
    for target_vars in (None, ssh):
        (result,) = run_check("systemd_units", {"required": ["sshd"]}, target_vars)
        assert result.status is Status.UNKNOWN and not result.collected
        assert result.summary == (
            "cannot check: systemd is not the init system (PID 1) on this host: System has not been booted with "
            "systemd as init system (PID 1). Can't operate. Failed to connect to bus: Host is down"
        ), result.summary


# -- clock ------------------------------------------------------------------------------------------


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def chrony_pair():
    """Two real chronyd that never touch the system clock (-x): a server serving its own clock at stratum 8
    and a client synchronised to it. Command sockets on UDP loopback ports (chronyc -h/-p), the Unix one off
    so the machine's default chronyc socket stays free. Yields the client's command port, then stops both."""
    require("chronyd")
    directory = Path(tempfile.mkdtemp(prefix="patrol-chrony-"))
    ntp, server_cmd, client_cmd = free_udp_port(), free_udp_port(), free_udp_port()
    common = "bindcmdaddress 127.0.0.1\nbindcmdaddress /\ndriftfile {d}/{n}.drift\npidfile {d}/{n}.pid\n"
    configs = {
        "server": f"local stratum 8\nallow 127.0.0.1\nbindaddress 127.0.0.1\nport {ntp}\ncmdport {server_cmd}\n",
        "client": f"server 127.0.0.1 port {ntp} iburst minpoll -4 maxpoll -4\nport 0\ncmdport {client_cmd}\n",
    }
    processes = []
    try:
        for name, config in configs.items():
            (directory / f"{name}.conf").write_text(config + common.format(d=directory, n=name))
            log = open(directory / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process below
            processes.append((subprocess.Popen(["chronyd", "-x", "-d", "-f", str(directory / f"{name}.conf")],
                                               stdout=log, stderr=subprocess.STDOUT), log))
        deadline = time.monotonic() + 60
        while True:
            probe = subprocess.run(["chronyc", "-h", "127.0.0.1", "-p", str(client_cmd), "-c", "tracking"],
                                   capture_output=True, text=True, timeout=10)
            if probe.stdout.strip().endswith(",Normal") and probe.stdout.startswith("7F000001,"):
                break
            if time.monotonic() > deadline:
                logs = " | ".join((directory / f"{n}.log").read_text() for n in configs)
                pytest.fail(f"the chronyd client did not synchronise within 60 s: {probe.stdout}{probe.stderr} "
                            f"(logs: {logs})", pytrace=False)
            time.sleep(0.5)
        yield {"server": server_cmd, "client": client_cmd}
    finally:
        for process, log in processes:
            process.terminate()
            process.wait(timeout=10)
            log.close()
        shutil.rmtree(directory)


def test_clock_without_a_running_chronyd_or_systemd_is_unknown_locally_and_over_ssh(sshd, known_hosts):
    require("chronyc")
    ssh = sshd.target_vars(known_hosts, connection="ssh")
    for target_vars in (None, ssh):
        (result,) = run_check("clock", {}, target_vars)
        assert result.status is Status.UNKNOWN and not result.collected, result.summary
        assert result.summary == (
            "cannot check: chronyd is not running: chronyc: 506 Cannot talk to daemon; and timedatectl cannot tell: "
            "System has not been booted with systemd as init system (PID 1). Can't operate. Failed to connect to "
            "bus: Host is down"
        ), result.summary
        (strict,) = run_check("clock", {"source": "chrony"}, target_vars)
        assert strict.status is Status.CRITICAL
        assert strict.summary == "not synchronised: chronyd is not running (chronyc: 506 Cannot talk to daemon)"


def test_clock_reads_a_real_synchronised_chronyd_locally_and_over_ssh(sshd, known_hosts, chrony_pair):
    ssh = sshd.target_vars(known_hosts, connection="ssh")
    for target_vars in (None, ssh):
        (client,) = run_check("clock", {"chronyc_host": "127.0.0.1", "chronyc_port": chrony_pair["client"]},
                              target_vars)
        assert client.status is Status.OK, client.summary
        assert client.summary.startswith("synchronised to 127.0.0.1 (stratum 9), clock "), client.summary
        assert client.metric("stratum").value == 9
        assert abs(client.metric("offset").value) < 0.1  # the two share this machine's clock
        (server,) = run_check("clock", {"chronyc_host": "127.0.0.1", "chronyc_port": chrony_pair["server"]},
                              target_vars)
        assert server.status is Status.WARNING
        assert server.summary.startswith("synchronised only to its own clock (chrony 'local' directive)")


# -- ha_cluster -------------------------------------------------------------------------------------


@pytest.fixture
def keepalived_dump():
    """A recorded keepalived data dump in a directory the SSH test user can read, removed afterwards."""
    directory = Path(tempfile.mkdtemp(prefix="patrol-keepalived-"))
    directory.chmod(0o755)
    path = directory / "keepalived.data"
    path.write_bytes((FIXTURES / "keepalived-backup.data").read_bytes())
    path.chmod(0o644)
    yield path
    shutil.rmtree(directory)


def test_ha_cluster_without_pacemaker_is_unknown_locally_and_over_ssh(sshd, known_hosts):
    assert shutil.which("crm_mon") is None  # this machine has no pacemaker
    ssh = sshd.target_vars(known_hosts, connection="ssh")
    for target_vars in (None, ssh):
        (result,) = run_check("ha_cluster", {}, target_vars)
        assert result.status is Status.UNKNOWN and not result.collected
        # Locally the shell's "command not found", over SSH the remote timeout(1)'s "No such file or directory".
        assert result.summary.startswith(
            "cannot check: crm_mon is not installed on the host or not on the patrol user's PATH ("
        ), result.summary
        assert result.summary.endswith("); no vrrp instances are listed either: nothing to check"), result.summary
        (required,) = run_check("ha_cluster", {"pacemaker": True, "crm_mon": "/usr/sbin/crm_mon"}, target_vars)
        assert required.status is Status.UNKNOWN
        assert required.summary.startswith("cannot check: crm_mon is not installed on the host ("), required.summary


def test_ha_cluster_reads_a_keepalived_dump_locally_and_over_ssh(sshd, known_hosts, keepalived_dump):
    ssh = sshd.target_vars(known_hosts, connection="ssh")
    params = {"pacemaker": False, "vrrp": {"VI_WEB": "BACKUP", "VI_MGMT": "BACKUP"}, "vrrp_refresh": False,
              "vrrp_data_path": str(keepalived_dump), "vrrp_max_age": None}  # fmt: skip
    for target_vars in (None, ssh):
        got = {r.item: r for r in run_check("ha_cluster", params, target_vars)}
        assert got["vrrp VI_WEB"].status is Status.OK, got["vrrp VI_WEB"].summary
        assert got["vrrp VI_WEB"].summary.endswith("master 10.0.10.11")
        assert got["vrrp VI_MGMT"].status is Status.CRITICAL
        assert got["vrrp VI_MGMT"].summary.startswith("MASTER, expected BACKUP")
        # With the default refresh the check looks for keepalived's pid file first: there is none here.
        (refresh,) = run_check("ha_cluster", {**params, "vrrp_refresh": True}, target_vars)
        assert refresh.status is Status.UNKNOWN and refresh.summary == (
            "cannot check: /run/keepalived.pid does not exist: keepalived is not running, or set vrrp_pid_file"
        )
    keepalived_dump.chmod(0o600)  # root's file: the test user may not read it
    (denied,) = run_check("ha_cluster", params, ssh)
    assert denied.status is Status.UNKNOWN and "Permission denied" in denied.summary, denied.summary
