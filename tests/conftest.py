"""Shared test helpers: a host source fed from stored real figures, and a check context on it."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from checks.base import CheckContext
from checks.host.sampling import record_sample
from checks.host.source import DiskUsage, Memory, NicStats, Partition, Process, Swap
from checks.rates import RateTracker
from checks.target import Target

FIXTURES = Path(__file__).parent / "fixtures"


class FixtureHostSource:
    """Plays back figures captured by tests/fixtures/host/capture.py (two samples of each counter)."""

    def __init__(self, data: dict) -> None:
        self.data = data
        self._cpu = iter(data["cpu_times"])
        self._nic = iter(data["nic_counters"])

    def cpu_times(self):
        return next(self._cpu)

    def cpu_count(self):
        return self.data["cpu_count"]

    def load_average(self):
        return tuple(self.data["load_average"])

    def memory(self):
        return Memory(**self.data["memory"])

    def swap(self):
        return Swap(**self.data["swap"])

    def partitions(self):
        return [Partition(**p) for p in self.data["partitions"]]

    def disk_usage(self, mountpoint):
        if mountpoint not in self.data["disk_usage"]:
            raise PermissionError(13, "Permission denied", mountpoint)
        return DiskUsage(**self.data["disk_usage"][mountpoint])

    def processes(self, details=False):
        return [Process(**p) for p in self.data["processes"]]

    def pid_max(self):
        return self.data["pid_max"]

    def boot_time(self):
        return self.data["boot_time"]

    def now(self):
        return self.data["now"]

    def nic_counters(self):
        return next(self._nic)

    def nic_stats(self):
        return {n: NicStats(**s) for n, s in self.data["nic_stats"].items()}


class StoredPluginConnection:
    """An "ssh" connection answering every command with a real check_http answer (exit 0)."""

    ANSWER = (
        b"HTTP OK: HTTP/1.1 200 OK - 1024 bytes in 0.012 second response time "
        b"|time=0.012000s;;;0.000000;10.000000 size=1024B;;;0\n"
    )

    def run(self, command, timeout=None):
        return SimpleNamespace(exit_status=0, stdout=self.ANSWER, stderr=b"")


@pytest.fixture
def required_params():
    """Parameters a check cannot do without, for tests that run every built-in check."""
    return {
        "ssh_command": {"command": "/usr/lib/nagios/plugins/check_http -H localhost"},
        "snmp_get": {"oids": [{"oid": "1.3.6.1.2.1.1.3.0", "name": "sys_uptime"}]},
        "jolokia": {"profile": "tomcat"},
        "tcp_connect": {"endpoints": ["127.0.0.1:22"]},
        "http": {"url": "http://127.0.0.1:8080/healthz"},
        "nagios": {"plugin": "check_dummy", "args": ["0"]},
        "backup_files": {"jobs": [{"name": "dumps", "directory": "/var/backups"}]},
        "backup_log": {"jobs": [{"name": "nightly", "path": "/var/log/backup.log", "success": "completed"}]},
        "restic": {"repository": "/srv/restic"},
        "borg": {"repository": "/srv/borg"},
    }


def load_host_fixture(name: str) -> dict:
    return json.loads((FIXTURES / "host" / f"{name}.json").read_text())


@pytest.fixture
def host_data():
    """The stored figures of a Debian 12 VM, as a fresh deep copy a test may edit."""
    return copy.deepcopy(load_host_fixture("debian12-vm"))


@pytest.fixture
def make_ctx():
    """Build a CheckContext whose 'host' connection plays back ``data`` ('ssh': a stored plugin answer).

    The rate tracker already holds the first counter samples, ``sample_interval`` seconds before
    the second, as an agent's would from its previous run: rate checks then read real deltas
    without sleeping.
    """

    def build(data: dict, target: Target | None = None) -> CheckContext:
        source = FixtureHostSource(data)
        clock_value = [1000.0]
        rates = RateTracker(clock=lambda: clock_value[0])
        ctx = CheckContext(
            target=target or Target("vm1", {"connection": "local"}),
            connections={"host": lambda _t: source, "ssh": lambda _t: StoredPluginConnection()},
            rates=rates,
        )
        # Prime the tracker with the first samples, then move the clock on by the real interval.
        record_sample(ctx, "cpu_times", {"cpu": source.cpu_times()}, None)
        record_sample(ctx, "nic_counters", source.nic_counters(), None)
        clock_value[0] += data["sample_interval"]
        return ctx

    return build


@pytest.fixture(autouse=True)
def _root_logging_restored():
    """Commands run in process (patrol serve, patrol-agent) configure the root logger with a handler on
    the stderr pytest captured for that test; left behind, it would write into a closed stream later."""
    import logging

    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    for handler in root.handlers[:]:
        if handler not in handlers:
            root.removeHandler(handler)
    root.setLevel(level)
