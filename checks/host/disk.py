"""disk — space and inodes of every real file system, per mount point."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable

from pydantic import ByteSize, Field, PositiveFloat

from checks.base import Check, CheckContext, Outcome, metric
from checks.host.source import DiskUsage, Partition
from checks.params import CheckParams
from checks.status import Status
from checks.thresholds import Direction, Levels, LowerLimit, Range, UpperLimit
from checks.timeouts import CallTimedOut, call_with_timeout
from checks.units import format_bytes

# Kernel and virtual file systems that hold no data worth patrolling. tmpfs is memory, watched by
# the memory check; overlay is kept because it is the root file system of containers.
PSEUDO_FSTYPES = (
    "autofs", "binfmt_misc", "bpf", "cgroup", "cgroup2", "configfs", "debugfs", "devpts", "devtmpfs",
    "efivarfs", "fuse.gvfsd-fuse", "fuse.lxcfs", "fuse.portal", "fusectl", "hugetlbfs", "mqueue", "nsfs",
    "proc", "pstore", "ramfs", "rpc_pipefs", "securityfs", "selinuxfs", "squashfs", "sysfs", "tmpfs",
    "tracefs", "iso9660", "nfsd", "devfs", "none",
)  # fmt: skip


class DiskParams(CheckParams):
    warning: UpperLimit = Field(default=80, description="space used % at which to warn")
    critical: UpperLimit = Field(default=90, description="space used % at which the state is critical")
    free_warning: ByteSize | None = Field(
        default=None, description="warn when less than this is free (bytes or a size such as '10GiB')"
    )
    free_critical: ByteSize | None = Field(default=None, description="critical when less than this is free")
    inodes_free_warning: LowerLimit | None = Field(default=20, description="inodes free % below which to warn")
    inodes_free_critical: LowerLimit | None = Field(default=10, description="inodes free % below which critical")
    include: list[str] = Field(default_factory=list, description="mount point patterns to check (default: all)")
    exclude: list[str] = Field(default_factory=list, description="mount point patterns to skip")
    exclude_fstypes: list[str] = Field(
        default_factory=lambda: list(PSEUDO_FSTYPES), description="file system types to skip (pseudo file systems)"
    )
    mount_timeout: PositiveFloat = Field(
        default=5.0, description="seconds to wait for one mount point to answer (a hung NFS mount)"
    )


class DiskCheck(Check):
    name = "disk"
    title = "File system space (used % and free bytes) and inodes, per mount point"
    Params = DiskParams
    connection_kind = "host"
    metrics = {
        "used": "space used, of the space usable by unprivileged users, as df shows it (%)",
        "free": "space available to unprivileged users (bytes)",
        "total": "file system size (bytes)",
        "inodes_free": "inodes free, of total (%); absent where the file system has no inode limit",
    }
    example = "- disk: {warning: 80, critical: 90, free_critical: 2GiB, exclude: ['/boot/efi']}"

    def run(self, ctx: CheckContext, params: DiskParams) -> Iterable[Outcome]:
        host = ctx.connection("host")
        mounts = self.select(host.partitions(), params)
        if not mounts:
            yield Outcome(summary="no file system matches the include/exclude settings", status=Status.UNKNOWN)
            return
        for part in mounts:
            try:
                usage = call_with_timeout(
                    lambda mp=part.mountpoint: host.disk_usage(mp),
                    min(params.mount_timeout, max(0.1, ctx.remaining())),
                    f"statvfs {part.mountpoint}",
                )
            except CallTimedOut as exc:
                yield self._unreadable(part, f"{exc} (a hung network file system?)")
                continue
            except OSError as exc:
                yield self._unreadable(part, f"cannot read: {exc.strerror or exc}")
                continue
            yield self.evaluate(part, usage, params)

    @staticmethod
    def select(partitions: list[Partition], params: DiskParams) -> list[Partition]:
        seen: set[str] = set()
        chosen = []
        for part in partitions:
            mp = part.mountpoint
            if mp in seen or part.fstype in params.exclude_fstypes:
                continue
            if params.include and not any(fnmatch.fnmatchcase(mp, p) for p in params.include):
                continue
            if any(fnmatch.fnmatchcase(mp, p) for p in params.exclude):
                continue
            seen.add(mp)  # a mount point listed twice (bind mounts, over-mounts) is checked once
            chosen.append(part)
        return chosen

    @staticmethod
    def evaluate(part: Partition, usage: DiskUsage, params: DiskParams) -> Outcome:
        used = round(usage.used_percent, 2)
        figures = [metric("used", used, "%"), metric("free", usage.free, "B"), metric("total", usage.total, "B")]
        levels = {
            "used": Levels(params.warning, params.critical),
            "free": Levels(_below(params.free_warning), _below(params.free_critical)),
        }
        summary = f"{used:.1f}% used, {format_bytes(usage.free)} free of {format_bytes(usage.total)} ({part.fstype})"
        if usage.inodes_total > 0:  # btrfs, vfat and some network file systems report no inode limit
            inodes_free = round(100.0 * usage.inodes_free / usage.inodes_total, 2)
            figures.append(metric("inodes_free", inodes_free, "%"))
            levels["inodes_free"] = Levels(params.inodes_free_warning, params.inodes_free_critical)
            summary += f", inodes {inodes_free:.1f}% free"
        return Outcome(summary=summary, item=part.mountpoint, metrics=figures, levels=levels)

    @staticmethod
    def _unreadable(part: Partition, reason: str) -> Outcome:
        return Outcome(summary=reason, item=part.mountpoint, status=Status.UNKNOWN, collected=False)


def _below(size: int | None) -> Range | None:
    return None if size is None else Range.parse(int(size), Direction.BELOW)
