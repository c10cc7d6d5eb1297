"""Host figures of a remote Linux host read over SSH: a HostSource, so host checks run unchanged.

Every figure is read where psutil reads it on the host itself (/proc/stat, /proc/meminfo,
/proc/net/dev, /proc/self/mounts, statvfs through ``df -P``), so the two sources agree on the same
host. All of them come from one command per run (``SNAPSHOT``); only the counters that a check
samples twice (CPU times, NIC counters) are read again, alone, for the second sample. No command
needs root: a process whose executable cannot be read keeps an empty ``exe``, as with psutil.
"""

from __future__ import annotations

import shlex
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from checks.host.source import DiskUsage, Memory, NicStats, Partition, Process, Swap

if TYPE_CHECKING:
    from checks.host.inventory import HostFacts

# psutil's names for the process states of /proc/[pid]/stat.
PROCESS_STATES = {
    "R": "running", "S": "sleeping", "D": "disk-sleep", "T": "stopped", "t": "tracing-stop", "Z": "zombie",
    "X": "dead", "x": "dead", "K": "wake-kill", "W": "waking", "P": "parked", "I": "idle",
}  # fmt: skip
_CPU_FIELDS = ("user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal", "guest", "guest_nice")
_IFF_UP = 0x1
# The kernel reports IFF_RUNNING (what psutil reads) for an up device whose operstate is up or unknown;
# /sys/class/net/*/flags leaves it out, so it is derived from operstate the same way.
_RUNNING_OPERSTATES = ("up", "unknown")

# One section per figure, each introduced by a marker line; stderr is dropped (a process that exits
# while /proc is read, a mount this user may not stat) and every section is parsed tolerantly.
SECTIONS = {
    "getconf": "getconf CLK_TCK; getconf _NPROCESSORS_ONLN",
    "now": "date +%s.%N",
    "stat": "cat /proc/stat",
    "loadavg": "cat /proc/loadavg",
    "meminfo": "cat /proc/meminfo",
    "pid_max": "cat /proc/sys/kernel/pid_max",
    "mounts": "cat /proc/self/mounts",
    "df": "df -P -a -k",
    "dfi": "df -P -a -i",
    "netdev": "cat /proc/net/dev",
    "sysnet": (
        "grep -H '' /sys/class/net/*/flags /sys/class/net/*/operstate /sys/class/net/*/mtu /sys/class/net/*/speed"
    ),
    "procs": "cat /proc/[0-9]*/stat",
}
MARKER = "@@patrol:"
PROCESS_DETAILS = (
    "find /proc -mindepth 2 -maxdepth 2 -name exe -printf '%h %l\\n' 2>/dev/null; printf '\\0@@cmdline\\0'; "
    "grep -azH -m1 '' /proc/[0-9]*/cmdline 2>/dev/null; true"
)


def script(sections: list[str]) -> str:
    body = "; ".join(f"echo '{MARKER}{name}'; {SECTIONS[name]} 2>/dev/null" for name in sections)
    # Through sh whatever the login shell is, in the C locale so df's columns are the same everywhere.
    return "LC_ALL=C sh -c " + shlex.quote(body + "; true")


def split_sections(text: str) -> dict[str, str]:
    out: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        if line.startswith(MARKER):
            current = out.setdefault(line[len(MARKER) :], [])
        elif current is not None:
            current.append(line)
    return {name: "\n".join(lines) for name, lines in out.items()}


class SshHostSource:
    """Reads a remote host's figures through ``connect()`` (the run's connection to it)."""

    # A snapshot older than this is taken again: the source outlives a run only in tests.
    max_age = 30.0

    def __init__(self, connect: Callable[[], Any], clock: Callable[[], float] = time.monotonic) -> None:
        self._connect = connect
        self._clock = clock
        self._lock = threading.Lock()
        self._snapshot: dict[str, str] | None = None
        self._taken = 0.0
        self._unread_counters = set()  # counter sections not yet handed out from the snapshot

    # -- reading ----------------------------------------------------------------------------------

    def _run(self, sections: list[str]) -> dict[str, str]:
        result = self._connect().run(script(sections))
        return split_sections(result.stdout.decode("utf-8", "replace"))

    def _section(self, name: str) -> str:
        with self._lock:
            if self._snapshot is None or self._clock() - self._taken > self.max_age:
                self._snapshot = self._run(list(SECTIONS))
                self._taken = self._clock()
                self._unread_counters = {"stat", "netdev"}
            if name not in self._snapshot:
                raise RuntimeError(f"the host did not answer {SECTIONS[name]!r}")
            return self._snapshot[name]

    def _counters(self, name: str) -> str:
        """A counter section: from the snapshot the first time, then read afresh for each new sample."""
        text = self._section(name)
        with self._lock:
            if name in self._unread_counters:
                self._unread_counters.discard(name)
                return text
        fresh = self._run([name])
        if name not in fresh:
            raise RuntimeError(f"the host did not answer {SECTIONS[name]!r}")
        return fresh[name]

    # -- HostSource -------------------------------------------------------------------------------

    def cpu_times(self) -> dict[str, float]:
        return parse_cpu_times(self._counters("stat"), self._clk_tck())

    def cpu_count(self) -> int:
        lines = self._section("getconf").split()
        return int(lines[1]) if len(lines) > 1 and lines[1].isdigit() else 1

    def _clk_tck(self) -> int:
        lines = self._section("getconf").split()
        return int(lines[0]) if lines and lines[0].isdigit() else 100

    def load_average(self) -> tuple[float, float, float]:
        fields = self._section("loadavg").split()
        if len(fields) < 3:
            raise RuntimeError("unexpected /proc/loadavg")
        return float(fields[0]), float(fields[1]), float(fields[2])

    def memory(self) -> Memory:
        info = parse_meminfo(self._section("meminfo"))
        return Memory(total=info["MemTotal"], available=info["MemAvailable"])

    def swap(self) -> Swap:
        info = parse_meminfo(self._section("meminfo"))
        return Swap(total=info["SwapTotal"], used=info["SwapTotal"] - info["SwapFree"])

    def partitions(self) -> list[Partition]:
        return parse_mounts(self._section("mounts"))

    def disk_usage(self, mountpoint: str) -> DiskUsage:
        usage = parse_df(self._section("df"), self._section("dfi")).get(mountpoint)
        if usage is None:
            raise PermissionError(13, "df gave no figures (not readable by the SSH user?)", mountpoint)
        return usage

    def processes(self, details: bool = False) -> list[Process]:
        procs = parse_proc_stats(self._section("procs"))
        if not details:
            return procs
        exes, argv0s = parse_process_details(self._connect().run(PROCESS_DETAILS).stdout)
        out = []
        for p in procs:
            argv0 = argv0s.get(p.pid, "")
            name = p.name
            base = argv0.rsplit("/", 1)[-1]
            if len(name) >= 15 and base.startswith(name):  # the kernel truncates comm; psutil does the same
                name = base
            out.append(Process(pid=p.pid, name=name, status=p.status, exe=exes.get(p.pid, ""), argv0=argv0))
        return out

    def pid_max(self) -> int:
        text = self._section("pid_max").strip()
        return int(text) if text.isdigit() else 0

    def boot_time(self) -> float:
        for line in self._section("stat").splitlines():
            if line.startswith("btime "):
                return float(line.split()[1])
        raise RuntimeError("no btime in /proc/stat")

    def now(self) -> float:
        text = self._section("now").strip()
        try:
            return float(text)
        except ValueError:
            raise RuntimeError(f"unexpected answer from date: {text!r}") from None

    def nic_counters(self) -> dict[str, dict[str, int]]:
        return parse_net_dev(self._counters("netdev"))

    def nic_stats(self) -> dict[str, NicStats]:
        names = parse_net_dev(self._section("netdev"))
        return parse_sys_net(self._section("sysnet"), names)

    def facts(self, link_local: bool = False) -> HostFacts:
        """The host's inventory (the facts check): its own command, apart from the snapshot, which
        holds moving figures the facts do not need."""
        from checks.ssh.facts import read_facts

        return read_facts(self._connect(), link_local)


# -- parsers (pure, tested with stored real outputs) ------------------------------------------------


def parse_cpu_times(stat: str, clk_tck: int = 100) -> dict[str, float]:
    for line in stat.splitlines():
        fields = line.split()
        if fields and fields[0] == "cpu":
            values = [int(v) / clk_tck for v in fields[1:]]
            return dict(zip(_CPU_FIELDS, values, strict=False))
    raise RuntimeError("no cpu line in /proc/stat")


def parse_meminfo(text: str) -> dict[str, int]:
    out = {}
    for line in text.splitlines():
        name, _, rest = line.partition(":")
        fields = rest.split()
        if fields and fields[0].isdigit():
            out[name.strip()] = int(fields[0]) * (1024 if fields[1:] == ["kB"] else 1)
    missing = {"MemTotal", "MemAvailable", "SwapTotal", "SwapFree"} - out.keys()
    if missing:
        raise RuntimeError(f"/proc/meminfo lacks {', '.join(sorted(missing))} (Linux 3.14 or later needed)")
    return out


def _unescape(text: str) -> str:
    """/proc/self/mounts writes space, tab, newline and backslash in octal (\\040 ...)."""
    if "\\" not in text:
        return text
    out, i = [], 0
    while i < len(text):
        if text[i] == "\\" and text[i + 1 : i + 4].isdigit():
            out.append(chr(int(text[i + 1 : i + 4], 8)))
            i += 4
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def parse_mounts(text: str) -> list[Partition]:
    out = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) >= 4:
            out.append(Partition(_unescape(fields[0]), _unescape(fields[1]), fields[2], fields[3]))
    return out


def _df_rows(text: str) -> dict[str, list[int]]:
    rows: dict[str, list[int]] = {}
    for line in text.splitlines()[1:]:
        fields = line.split(None, 5)  # the mount point is the rest of the line: it may hold spaces
        if len(fields) < 6:
            continue
        numbers = [int(f) if f.isdigit() else 0 for f in fields[1:4]]
        rows[fields[5]] = numbers  # a mount point listed twice: the last (visible) mount wins
    return rows


def parse_df(df_k: str, df_i: str) -> dict[str, DiskUsage]:
    """``df -P -k`` (1024-blocks, used, available) and ``df -P -i`` (inodes, used, free) by mount point."""
    inodes = _df_rows(df_i)
    out = {}
    for mountpoint, (blocks, used, available) in _df_rows(df_k).items():
        itotal, _iused, ifree = inodes.get(mountpoint, [0, 0, 0])
        out[mountpoint] = DiskUsage(
            total=blocks * 1024, used=used * 1024, free=available * 1024, inodes_total=itotal, inodes_free=ifree
        )
    return out


def parse_proc_stats(text: str) -> list[Process]:
    out = []
    for line in text.splitlines():
        # "pid (comm) S ...": comm may hold spaces and parentheses, so split at the last ")".
        head, sep, tail = line.rpartition(")")
        pid_text, _, name = head.partition(" (")
        fields = tail.split()
        if not sep or not pid_text.isdigit() or not fields:
            continue
        out.append(Process(pid=int(pid_text), name=name, status=PROCESS_STATES.get(fields[0], fields[0])))
    return out


def parse_process_details(raw: bytes) -> tuple[dict[int, str], dict[int, str]]:
    """The output of PROCESS_DETAILS: executables by pid, and argv[0] by pid."""
    exe_part, _, cmd_part = raw.partition(b"\0@@cmdline\0")
    exes: dict[int, str] = {}
    for line in exe_part.decode("utf-8", "replace").splitlines():
        path, _, exe = line.partition(" ")
        pid = path.rsplit("/", 1)[-1]
        if pid.isdigit():
            exes[int(pid)] = exe
    argv0s: dict[int, str] = {}
    for record in cmd_part.split(b"\0"):
        path, sep, arg = record.decode("utf-8", "replace").partition("/cmdline:")
        pid = path.rsplit("/", 1)[-1]
        if sep and pid.isdigit():
            argv0s[int(pid)] = arg
    return exes, argv0s


def parse_net_dev(text: str) -> dict[str, dict[str, int]]:
    out = {}
    for line in text.splitlines():
        name, sep, rest = line.partition(":")
        fields = rest.split()
        if not sep or len(fields) < 12 or not fields[0].isdigit():
            continue
        f = [int(x) for x in fields[:12]]
        out[name.strip()] = {
            "bytes_sent": f[8], "bytes_recv": f[0], "packets_sent": f[9], "packets_recv": f[1],
            "errin": f[2], "errout": f[10], "dropin": f[3], "dropout": f[11],
        }  # fmt: skip
    return out


def parse_sys_net(text: str, names) -> dict[str, NicStats]:
    """``grep -H '' /sys/class/net/*/{flags,operstate,mtu,speed}`` for the interfaces in ``names``."""
    values: dict[str, dict[str, str]] = {}
    for line in text.splitlines():
        path, _, value = line.partition(":")
        parts = path.split("/")
        if len(parts) == 6 and parts[:4] == ["", "sys", "class", "net"]:
            values.setdefault(parts[4], {})[parts[5]] = value.strip()
    out = {}
    for name in names:
        v = values.get(name, {})
        flags = int(v.get("flags", "0"), 16)
        admin_up = bool(flags & _IFF_UP)
        speed = int(v["speed"]) if v.get("speed", "").lstrip("-").isdigit() else 0
        out[name] = NicStats(
            admin_up=admin_up,
            running=admin_up and v.get("operstate") in _RUNNING_OPERSTATES,
            speed_mbps=speed if 0 < speed < 0xFFFF else 0,  # -1 / 65535: unknown, as psutil reports 0
            mtu=int(v["mtu"]) if v.get("mtu", "").isdigit() else 0,
        )
    return out
