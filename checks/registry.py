"""Finds checks by name: the built-in ones and any a site installs under the ``patrol.checks``
entry-point group (``[options.entry_points] patrol.checks = mycheck = mypkg.mycheck:MyCheck``).

A check whose module fails to import (a missing optional dependency) is listed as unavailable with
the reason; it never breaks the others.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from importlib.metadata import entry_points

from checks.base import Check
from checks.errors import CheckUnavailable
from checks.params import suggest

ENTRY_POINT_GROUP = "patrol.checks"

# Built-ins are listed here as well as in setup.cfg so the library works from a source tree too.
BUILTIN = {
    "cpu": "checks.host.cpu:CpuCheck",
    "load": "checks.host.load:LoadCheck",
    "memory": "checks.host.memory:MemoryCheck",
    "swap": "checks.host.swap:SwapCheck",
    "disk": "checks.host.disk:DiskCheck",
    "processes": "checks.host.processes:ProcessesCheck",
    "uptime": "checks.host.uptime:UptimeCheck",
    "network_interfaces": "checks.host.network_interfaces:NetworkInterfacesCheck",
    "ssh_command": "checks.ssh.command:SshCommandCheck",
    "snmp_system": "checks.snmp.system:SnmpSystemCheck",
    "snmp_interfaces": "checks.snmp.interfaces:SnmpInterfacesCheck",
    "snmp_device": "checks.snmp.device:SnmpDeviceCheck",
    "snmp_get": "checks.snmp.get:SnmpGetCheck",
    # Databases (checks/sql/ is their shared SQL layer)
    "postgres_connections": "checks.postgres.connections:PostgresConnectionsCheck",
    "postgres_databases": "checks.postgres.sizes:PostgresDatabasesCheck",
    "postgres_tablespaces": "checks.postgres.sizes:PostgresTablespacesCheck",
    "postgres_long_transactions": "checks.postgres.activity:PostgresLongTransactionsCheck",
    "postgres_locks": "checks.postgres.activity:PostgresLocksCheck",
    "postgres_wraparound": "checks.postgres.wraparound:PostgresWraparoundCheck",
    "postgres_replication": "checks.postgres.replication:PostgresReplicationCheck",
    "postgres_archiving": "checks.postgres.archiving:PostgresArchivingCheck",
    "mysql_connections": "checks.mysql.connections:MysqlConnectionsCheck",
    "mysql_tablespaces": "checks.mysql.tablespaces:MysqlTablespacesCheck",
    "mysql_replication": "checks.mysql.replication:MysqlReplicationCheck",
    "mysql_slow_queries": "checks.mysql.slow_queries:MysqlSlowQueriesCheck",
    "oracle_tablespaces": "checks.oracle.tablespaces:OracleTablespacesCheck",
    "oracle_sessions": "checks.oracle.sessions:OracleSessionsCheck",
    "oracle_blocking": "checks.oracle.sessions:OracleBlockingCheck",
    "oracle_rman": "checks.oracle.rman:OracleRmanCheck",
    "oracle_fra": "checks.oracle.recovery:OracleFraCheck",
    "oracle_invalid_objects": "checks.oracle.recovery:OracleInvalidObjectsCheck",
    "oracle_alert_log": "checks.oracle.alert_log:OracleAlertLogCheck",
    "oracle_dataguard": "checks.oracle.dataguard:OracleDataguardCheck",
    "tomcat_threads": "checks.middleware.tomcat:TomcatThreadsCheck",
    "tomcat_memory": "checks.middleware.tomcat:TomcatMemoryCheck",
    "jolokia": "checks.middleware.jolokia:JolokiaCheck",
    "weblogic_threads": "checks.middleware.weblogic:WeblogicThreadsCheck",
    "weblogic_jdbc": "checks.middleware.weblogic:WeblogicJdbcCheck",
    "ping": "checks.links.ping:PingCheck",
    "tcp_connect": "checks.links.tcp:TcpConnectCheck",
    "http": "checks.links.http:HttpCheck",
    "nagios": "checks.plugins.nagios:NagiosCheck",
    "backup_files": "checks.backup.files:BackupFilesCheck",
    "backup_log": "checks.backup.log:BackupLogCheck",
    "restic": "checks.backup.restic:ResticCheck",
    "borg": "checks.backup.borg:BorgCheck",
    "pgbackrest": "checks.backup.pgbackrest:PgbackrestCheck",
    "redfish_health": "checks.redfish.health:RedfishHealthCheck",
    "snmp_environment": "checks.snmp.environment:SnmpEnvironmentCheck",
    "smart": "checks.platform.smart:SmartCheck",
    "raid": "checks.platform.raid:RaidCheck",
    "facts": "checks.host.facts:FactsCheck",
    "ha_cluster": "checks.platform.ha_cluster:HaClusterCheck",
    "systemd_units": "checks.platform.systemd_units:SystemdUnitsCheck",
    "clock": "checks.platform.clock:ClockCheck",
}


class UnknownCheck(LookupError):
    def __init__(self, name: str, known: list[str]) -> None:
        self.name = name
        hint = suggest(name, known)
        super().__init__(f"unknown check {name!r}{hint}")


@dataclass(frozen=True)
class Entry:
    name: str
    target: str  # "module:Class"
    source: str  # "builtin" or the distribution that provides it


class Registry:
    def __init__(self, entries: dict[str, Entry]) -> None:
        self._entries = entries
        self._loaded: dict[str, Check] = {}
        self._errors: dict[str, str] = {}

    @classmethod
    def discover(cls) -> Registry:
        entries = {name: Entry(name, target, "builtin") for name, target in BUILTIN.items()}
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            if ep.name in entries and entries[ep.name].target == ep.value:
                continue  # our own built-in, registered through setup.cfg
            dist = ep.dist.name if ep.dist else "unknown distribution"
            entries[ep.name] = Entry(ep.name, ep.value, dist)
        return cls(entries)

    def names(self) -> list[str]:
        return sorted(self._entries)

    def get(self, name: str) -> Check:
        if name in self._loaded:
            return self._loaded[name]
        entry = self._entries.get(name)
        if entry is None:
            raise UnknownCheck(name, self.names())
        if name in self._errors:
            raise CheckUnavailable(self._errors[name])
        try:
            module_name, _, class_name = entry.target.partition(":")
            check_class = getattr(importlib.import_module(module_name), class_name)
        except ImportError as exc:
            self._errors[name] = f"check {name!r} cannot be loaded: {exc} (is its optional dependency installed?)"
            raise CheckUnavailable(self._errors[name]) from None
        except AttributeError:
            self._errors[name] = f"check {name!r}: {entry.target} does not exist"
            raise CheckUnavailable(self._errors[name]) from None
        if not (isinstance(check_class, type) and issubclass(check_class, Check)):
            self._errors[name] = f"check {name!r}: {entry.target} is not a patrol Check class"
            raise CheckUnavailable(self._errors[name])
        check = check_class()
        self._loaded[name] = check
        return check

    def available(self) -> dict[str, Check | str]:
        """Every check by name: the loaded check, or the reason it is unavailable."""
        out: dict[str, Check | str] = {}
        for name in self.names():
            try:
                out[name] = self.get(name)
            except CheckUnavailable as exc:
                out[name] = str(exc)
        return out


_default: Registry | None = None


def default_registry() -> Registry:
    global _default
    if _default is None:
        _default = Registry.discover()
    return _default
