"""The /proc and df parsers, on output stored from a real Debian 12 host (tests/fixtures/ssh)."""

from __future__ import annotations

from pathlib import Path

import pytest

from checks.host.source import DiskUsage, NicStats, Partition, Process
from checks.ssh import procfs
from checks.ssh.connection import CommandResult

SNAPSHOT = (Path(__file__).parents[2] / "fixtures" / "ssh" / "debian12-snapshot.txt").read_text()


class StoredConnection:
    """Answers the snapshot script with the stored output, and single-section reads with new counters."""

    def __init__(self):
        self.commands: list[str] = []

    def run(self, command: str, timeout=None) -> CommandResult:
        self.commands.append(command)
        if len(self.commands) == 1:
            return CommandResult(0, SNAPSHOT.encode(), b"")
        stat = procfs.split_sections(SNAPSHOT)["stat"].replace("cpu  ", "cpu  1", 1)  # a later sample
        return CommandResult(0, f"{procfs.MARKER}stat\n{stat}\n".encode(), b"")


def test_the_snapshot_holds_every_section_in_order():
    assert list(procfs.split_sections(SNAPSHOT)) == list(procfs.SECTIONS)


def test_one_command_serves_every_figure_and_counters_are_read_again_for_a_second_sample():
    conn = StoredConnection()
    source = procfs.SshHostSource(lambda: conn)
    first = source.cpu_times()
    source.load_average(), source.memory(), source.swap(), source.partitions(), source.processes()
    source.pid_max(), source.boot_time(), source.now(), source.nic_stats(), source.cpu_count()
    source.disk_usage("/")
    assert len(conn.commands) == 1
    second = source.cpu_times()  # the rate's second sample must not come from the same snapshot
    assert len(conn.commands) == 2 and "cat /proc/stat" in conn.commands[1]
    assert second["user"] > first["user"]
    assert source.boot_time() == 1795443632.0  # non-counter figures still come from the snapshot
    assert len(conn.commands) == 2


def test_cpu_times_are_seconds_like_psutil():
    times = procfs.parse_cpu_times("cpu  347630 201 51065 1292987 7001 0 3111 2973 0 0\ncpu0 1 2 3 4\n", 100)
    assert times == {
        "user": 3476.3, "nice": 2.01, "system": 510.65, "idle": 12929.87, "iowait": 70.01,
        "irq": 0.0, "softirq": 31.11, "steal": 29.73, "guest": 0.0, "guest_nice": 0.0,
    }  # fmt: skip


def test_memory_and_swap_in_bytes_from_meminfo():
    source = procfs.SshHostSource(lambda: StoredConnection())
    mem, swap = source.memory(), source.swap()
    info = procfs.parse_meminfo(procfs.split_sections(SNAPSHOT)["meminfo"])
    assert mem.total == info["MemTotal"] and mem.total % 1024 == 0 and mem.available <= mem.total
    assert swap.used == info["SwapTotal"] - info["SwapFree"]
    with pytest.raises(RuntimeError, match="lacks MemAvailable"):
        procfs.parse_meminfo("MemTotal: 100 kB\nSwapTotal: 0 kB\nSwapFree: 0 kB\n")


def test_df_figures_by_mount_point_in_bytes_with_inodes():
    df = (
        "Filesystem 1024-blocks Used Available Capacity Mounted on\n"
        "/dev/vda 100 40 50 45% /\nx 8 1 2 34% /mnt/with space\n"
    )
    dfi = "Filesystem Inodes IUsed IFree IUse% Mounted on\n/dev/vda 1000 100 900 10% /\nx - - - - /mnt/with space\n"
    usage = procfs.parse_df(df, dfi)
    assert usage["/"] == DiskUsage(total=102400, used=40960, free=51200, inodes_total=1000, inodes_free=900)
    assert usage["/mnt/with space"].inodes_total == 0  # no inode figures: the check then skips inodes
    assert round(usage["/"].used_percent) == 44  # df's own rounding up gives 45%


def test_mounts_unescape_octal_like_the_kernel_writes_them():
    [part] = procfs.parse_mounts("/dev/sdb1 /mnt/my\\040disk ext4 rw,relatime 0 0\n")
    assert part == Partition("/dev/sdb1", "/mnt/my disk", "ext4", "rw,relatime")


def test_process_states_and_names_with_spaces_and_parentheses():
    stats = "1 (systemd) S 0 1\n42 (my (odd) name) Z 1 42\n77 (kworker/0:1) I 2 0\nnot a process line\n"
    assert procfs.parse_proc_stats(stats) == [
        Process(1, "systemd", "sleeping"),
        Process(42, "my (odd) name", "zombie"),
        Process(77, "kworker/0:1", "idle"),
    ]


def test_process_details_from_find_and_grep_output():
    raw = (
        b"/proc/1 /usr/lib/systemd/systemd\n/proc/7 \n"
        + b"\0@@cmdline\0"
        + (b"/proc/1/cmdline:/sbin/init\0/proc/7/cmdline:/usr/bin/python3\0")
    )
    exes, argv0s = procfs.parse_process_details(raw)
    assert exes == {1: "/usr/lib/systemd/systemd", 7: ""}  # 7: not ours, its exe is unreadable
    assert argv0s == {1: "/sbin/init", 7: "/usr/bin/python3"}


def test_nic_counters_and_flags_like_psutil():
    counters = procfs.parse_net_dev(procfs.split_sections(SNAPSHOT)["netdev"])
    assert set(counters["lo"]) == {
        "bytes_sent", "bytes_recv", "packets_sent", "packets_recv", "errin", "errout", "dropin", "dropout",
    }  # fmt: skip
    sysnet = (
        "/sys/class/net/eth0/flags:0x1003\n/sys/class/net/eth0/operstate:up\n/sys/class/net/eth0/speed:1000\n"
        "/sys/class/net/eth0/mtu:1500\n/sys/class/net/lo/flags:0x9\n/sys/class/net/lo/operstate:unknown\n"
        "/sys/class/net/eth1/flags:0x1003\n/sys/class/net/eth1/operstate:down\n/sys/class/net/eth1/speed:-1\n"
        "/sys/class/net/eth2/flags:0x1002\n"
    )
    stats = procfs.parse_sys_net(sysnet, ["eth0", "lo", "eth1", "eth2"])
    assert stats == {
        "eth0": NicStats(admin_up=True, running=True, speed_mbps=1000, mtu=1500),
        "lo": NicStats(admin_up=True, running=True, speed_mbps=0, mtu=0),  # operstate unknown counts as up
        "eth1": NicStats(admin_up=True, running=False, speed_mbps=0, mtu=0),  # no carrier
        "eth2": NicStats(admin_up=False, running=False, speed_mbps=0, mtu=0),
    }


def test_the_script_runs_through_sh_in_the_c_locale():
    text = procfs.script(["loadavg", "df"])
    assert text.startswith("LC_ALL=C sh -c '") and "@@patrol:df" in text
