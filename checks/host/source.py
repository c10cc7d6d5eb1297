"""Where host figures come from.

Host checks compute from one logic and two sources: psutil on the local machine (an agent, or a
``connection: local`` target) and, with the poller, the same figures read over SSH from /proc and
``df -P``. Both sources return these plain records, so a check never knows which one it reads and
tests can feed stored real figures through the same interface.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from checks.host.inventory import HostFacts


@dataclass(frozen=True)
class Memory:
    total: int
    available: int  # MemAvailable: what can be allocated without swapping


@dataclass(frozen=True)
class Swap:
    total: int
    used: int


@dataclass(frozen=True)
class Partition:
    device: str
    mountpoint: str
    fstype: str
    opts: str = ""


@dataclass(frozen=True)
class DiskUsage:
    total: int  # bytes
    used: int
    free: int  # available to unprivileged users, as df shows it
    inodes_total: int
    inodes_free: int

    @property
    def used_percent(self) -> float:
        """As df computes it: used / (used + available), so reserved blocks count as unavailable."""
        usable = self.used + self.free
        return 100.0 * self.used / usable if usable else 0.0


@dataclass(frozen=True)
class Process:
    pid: int
    name: str
    status: str  # psutil status names: running, sleeping, zombie, ...
    exe: str = ""
    argv0: str = ""


@dataclass(frozen=True)
class NicStats:
    admin_up: bool  # IFF_UP: configured up by the administrator
    running: bool  # IFF_RUNNING: carrier present, operationally up
    speed_mbps: int  # 0 when unknown
    mtu: int


class HostSource(Protocol):
    def cpu_times(self) -> dict[str, float]: ...
    def cpu_count(self) -> int: ...
    def load_average(self) -> tuple[float, float, float]: ...
    def memory(self) -> Memory: ...
    def swap(self) -> Swap: ...
    def partitions(self) -> list[Partition]: ...
    def disk_usage(self, mountpoint: str) -> DiskUsage: ...
    def processes(self, details: bool = False) -> list[Process]: ...
    def pid_max(self) -> int: ...
    def boot_time(self) -> float: ...
    def now(self) -> float: ...
    def nic_counters(self) -> dict[str, dict[str, int]]: ...
    def nic_stats(self) -> dict[str, NicStats]: ...
    def facts(self, link_local: bool = False) -> HostFacts: ...


class PsutilHostSource:
    """Figures of the machine this process runs on."""

    def __init__(self) -> None:
        import psutil  # imported here so the module loads where psutil is absent (SSH-only pollers)

        self._psutil = psutil

    def cpu_times(self) -> dict[str, float]:
        return self._psutil.cpu_times()._asdict()

    def cpu_count(self) -> int:
        return self._psutil.cpu_count() or 1

    def load_average(self) -> tuple[float, float, float]:
        return tuple(self._psutil.getloadavg())  # type: ignore[return-value]

    def memory(self) -> Memory:
        vm = self._psutil.virtual_memory()
        return Memory(total=vm.total, available=vm.available)

    def swap(self) -> Swap:
        sw = self._psutil.swap_memory()
        return Swap(total=sw.total, used=sw.used)

    def partitions(self) -> list[Partition]:
        return [Partition(p.device, p.mountpoint, p.fstype, p.opts) for p in self._psutil.disk_partitions(all=True)]

    def disk_usage(self, mountpoint: str) -> DiskUsage:
        st = os.statvfs(mountpoint)
        total = st.f_blocks * st.f_frsize
        free = st.f_bavail * st.f_frsize
        used = (st.f_blocks - st.f_bfree) * st.f_frsize
        return DiskUsage(total=total, used=used, free=free, inodes_total=st.f_files, inodes_free=st.f_favail)

    def processes(self, details: bool = False) -> list[Process]:
        """Every process with its state; ``details`` adds the executable and argv[0] (a readlink and a
        read more per process: the bulk of the cost, so only when required names are matched)."""
        out = []
        fields = ["pid", "name", "status"] + (["exe", "cmdline"] if details else [])
        for proc in self._psutil.process_iter(fields):
            info = proc.info
            cmdline = info.get("cmdline") or []
            out.append(
                Process(
                    pid=info["pid"],
                    name=info.get("name") or "",
                    status=str(info.get("status") or ""),
                    exe=info.get("exe") or "",
                    argv0=cmdline[0] if cmdline else "",
                )
            )
        return out

    def pid_max(self) -> int:
        try:
            with open("/proc/sys/kernel/pid_max", encoding="ascii") as fh:
                return int(fh.read().strip())
        except OSError:
            return 0  # not Linux: no pid_max to compare against

    def boot_time(self) -> float:
        return self._psutil.boot_time()

    def now(self) -> float:
        return time.time()

    def nic_counters(self) -> dict[str, dict[str, int]]:
        return {nic: c._asdict() for nic, c in self._psutil.net_io_counters(pernic=True, nowrap=False).items()}

    def nic_stats(self) -> dict[str, NicStats]:
        out = {}
        for nic, st in self._psutil.net_if_stats().items():
            flags = set(getattr(st, "flags", "").split(","))
            running = "running" in flags if flags != {""} else st.isup
            admin_up = "up" in flags if flags != {""} else st.isup
            out[nic] = NicStats(admin_up=admin_up, running=running, speed_mbps=st.speed or 0, mtu=st.mtu)
        return out

    def facts(self, link_local: bool = False) -> HostFacts:
        """The inventory of this machine (the facts check): read afresh each time, it is cheap."""
        from checks.host.inventory import read_local

        return read_local(self, link_local)


_local: PsutilHostSource | None = None
_local_lock = threading.Lock()


def local_host_source(_target: object = None) -> PsutilHostSource:
    """The shared psutil source, usable as a ``CheckContext.connections['host']`` factory."""
    global _local
    with _local_lock:
        if _local is None:
            _local = PsutilHostSource()
        return _local
