"""ha_cluster on recorded crm_mon XML (healthy, node offline, failed actions, not running) and keepalived
data dumps (MASTER, BACKUP, FAULT)."""

from __future__ import annotations

import pytest
from platform_support import RecordedShell, by_item, fixture, ok, run

from checks.errors import ConfigError
from checks.platform.ha_cluster import parse_crm_mon, parse_keepalived
from checks.registry import default_registry
from checks.status import Status

CRM_MON = "crm_mon --one-shot --inactive --output-as=xml"
PID_FILE, DUMP = "/run/keepalived.pid", "/tmp/keepalived.data"


def pacemaker(body: bytes | str, params: dict | None = None, status: int = 0, command: str = CRM_MON):
    shell = RecordedShell({command: ok(body, status)})
    return by_item(run("ha_cluster", params or {}, shell)), shell


def keepalived(name: str | None, vrrp: dict, params: dict | None = None, kill=None):
    files = {PID_FILE: b"4242\n"}
    if name:
        files[DUMP] = fixture(name)
    shell = RecordedShell({"kill -USR1 4242": kill or ok("")}, files)
    return by_item(run("ha_cluster", {"pacemaker": False, "vrrp": vrrp, **(params or {})}, shell)), shell


# -- pacemaker ------------------------------------------------------------------------------------


def test_parse_clones_groups_and_failures():
    cluster = parse_crm_mon(fixture("crm_mon-healthy.xml"))
    assert (cluster.dc, cluster.version, cluster.quorum) == ("db1", "2.1.5-a3f44794f94", True)
    assert [(r.id, r.kind, len(r.instances)) for r in cluster.resources] == [
        ("fence-db1", "primitive", 1), ("fence-db2", "primitive", 1), ("pg-group", "group", 1),
        ("ping-clone", "clone", 2), ("drbd-clone", "promotable clone", 2),
    ]  # fmt: skip
    assert [p.id for p in cluster.resources[2].primitives] == ["pg-fs", "pg-db", "pg-vip"]
    failed = parse_crm_mon(fixture("crm_mon-failed-actions.xml"))
    assert [(f.resource, f.task, f.node, f.exitcode) for f in failed.failures] == [
        ("rabbitmq", "monitor", "app1", "7"), ("app-svc", "monitor", "app2", "1"), ("app-svc", "start", "app3", "5"),
    ]  # fmt: skip


def test_healthy_two_node_cluster():
    got, shell = pacemaker(fixture("crm_mon-healthy.xml"))
    assert shell.calls[0][0] == CRM_MON.split() and shell.calls[0][1] == {"LC_ALL": "C"}
    assert list(got) == [
        "cluster", "node db1", "node db2", "resource fence-db1", "resource fence-db2", "resource pg-group",
        "resource ping-clone", "resource drbd-clone",
    ]  # fmt: skip
    assert all(r.status is Status.OK for r in got.values()), [r.summary for r in got.values()]
    cluster = got["cluster"]
    assert cluster.summary == (
        "quorum, DC db1 (pacemaker 2.1.5), 2 of 2 nodes online, 9 of 9 resource instances started, 0 failed action(s)"
    )
    assert {m.name: m.value for m in cluster.metrics} == {
        "nodes_online": 2, "nodes_total": 2, "resources_started": 9, "resources_configured": 9, "failed_actions": 0,
    }  # fmt: skip
    assert got["node db1"].summary == "online, DC, 6 resource(s) running"
    assert got["resource fence-db1"].summary == "Started on db2 (stonith:fence_ipmilan)"
    assert got["resource pg-group"].summary == "group of 3: 3 started on db1"
    assert got["resource drbd-clone"].summary == (
        "promotable clone: 2 of 2 instances started (db1, db2), promoted on db1"
    )


def test_offline_node_and_stopped_resource_are_critical():
    got, _ = pacemaker(fixture("crm_mon-node-offline.xml"))
    assert got["node web2"].status is Status.CRITICAL and got["node web2"].summary == "OFFLINE - 0 resource(s) running"
    fence = got["resource fence-web1"]
    assert fence.status is Status.CRITICAL
    assert (
        fence.summary == "STOPPED, should be running (target-role is not Stopped) - Stopped (stonith:fence_vmware_rest)"
    )
    disabled = got["resource report-cron"]  # target-role Stopped: stopped on purpose
    assert disabled.status is Status.OK and disabled.summary.startswith("disabled (target-role Stopped)")
    clone = got["resource haproxy-clone"]
    assert clone.status is Status.WARNING
    assert clone.summary == "1 instance(s) stopped - clone: 1 of 2 instances started (web1)"
    cluster = got["cluster"]
    assert cluster.status is Status.OK  # quorum held (two_node): the node and resource items carry the trouble
    assert cluster.metric("nodes_online").value == 1 and cluster.metric("resources_started").value == 4
    assert "1 disabled" in cluster.summary


def test_failed_actions_warn_and_a_resource_still_failed_is_critical():
    got, _ = pacemaker(fixture("crm_mon-failed-actions.xml"))
    rabbit = got["resource rabbitmq"]  # recovered after a monitor failure: the failed action remains
    assert rabbit.status is Status.WARNING
    assert rabbit.summary == (
        "failed action: monitor failed on app1 (not running, rc 7, 2024-03-06 03:51:02 +01:00) "
        "- Started on app1 (systemd:rabbitmq-server)"
    )
    app = got["resource app-svc"]
    assert app.status is Status.CRITICAL
    assert app.summary.startswith("FAILED on app2; failed action: monitor failed on app2 (error, rc 1,")
    assert "health endpoint http://127.0.0.1:8080/health returned 503" in app.summary
    assert "start failed on app3 (not installed, rc 5" in app.summary
    assert got["node app3"].status is Status.WARNING and got["node app3"].summary.startswith("standby - online")
    assert got["resource sysinfo-clone"].status is Status.WARNING  # the standby node's instance is stopped
    assert got["cluster"].metric("failed_actions").value == 3
    assert got["cluster"].metric("resources_started").value == 6


def test_no_quorum_and_no_dc_are_critical():
    healthy = fixture("crm_mon-healthy.xml").decode()
    got, _ = pacemaker(healthy.replace('with_quorum="true"', 'with_quorum="false"'))
    assert got["cluster"].status is Status.CRITICAL and got["cluster"].summary.startswith("partition WITHOUT quorum - ")
    no_dc = healthy.replace(
        '<current_dc present="true" version="2.1.5-a3f44794f94" name="db1" id="1" '
        'with_quorum="true" mixed_version="false"/>',
        '<current_dc present="false"/>',
    )
    got, _ = pacemaker(no_dc)
    assert got["cluster"].status is Status.CRITICAL and got["cluster"].summary.startswith("no DC elected")


def test_unclean_node_maintenance_and_promotable_clone_without_promoted_instance():
    text = fixture("crm_mon-healthy.xml").decode()
    text = text.replace('name="db2" id="2" online="true"', 'name="db2" id="2" online="false"', 1)
    text = text.replace('pending="false" unclean="false" health="green" feature_set="3.16.2" shutdown="false" '
                        'expected_up="true" is_dc="false"', 'pending="false" unclean="true" health="green" '
                        'feature_set="3.16.2" shutdown="false" expected_up="true" is_dc="false"')  # fmt: skip
    text = text.replace(
        'name="db1" id="1" online="true" standby="false" standby_onfail="false" maintenance="false"',
        'name="db1" id="1" online="true" standby="false" standby_onfail="false" maintenance="true"',
    )
    text = text.replace('role="Promoted"', 'role="Unpromoted"')
    got, _ = pacemaker(text)
    assert got["node db2"].status is Status.CRITICAL
    assert got["node db2"].summary.startswith("OFFLINE, UNCLEAN (must be fenced")
    assert got["node db1"].status is Status.WARNING and got["node db1"].summary.startswith("maintenance - online")
    drbd = got["resource drbd-clone"]
    assert drbd.status is Status.CRITICAL and drbd.summary.startswith("no instance promoted - ")


def test_pacemaker_not_running_here_is_unknown():
    got, _ = pacemaker(fixture("crm_mon-not-running.xml"), status=102)
    (cluster,) = got.values()
    assert cluster.status is Status.UNKNOWN and not cluster.collected
    assert cluster.summary == (
        "crm_mon: cluster is not available on this node (Not connected, code 102; is pacemaker running on this node?)"
    )


def test_unparsable_and_doctype_answers_are_unknown():
    (bad,) = pacemaker(b"<pacemaker-result><summary>")[0].values()
    assert bad.status is Status.UNKNOWN and bad.summary.startswith("crm_mon did not answer XML (no element found")
    doctype = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]>' + fixture("crm_mon-healthy.xml")[22:]
    (refused,) = pacemaker(doctype)[0].values()
    assert refused.status is Status.UNKNOWN and "has a DOCTYPE" in refused.summary and "refused" in refused.summary
    (other,) = pacemaker(b"<crm_mon version='1.1.23'/>")[0].values()
    assert other.summary == "expected a <pacemaker-result> document from crm_mon, got <crm_mon>"
    (usage,) = pacemaker(b"", status=64, params={"pacemaker": True})[0].values()  # empty stdout, no stderr
    assert usage.status is Status.UNKNOWN and usage.summary.startswith("crm_mon did not answer XML")


def test_crm_mon_missing_is_unknown_unless_auto_has_vrrp_to_check():
    (missing,) = run("ha_cluster", {}, RecordedShell())
    assert missing.status is Status.UNKNOWN and not missing.collected
    assert missing.summary == (
        "cannot check: crm_mon is not installed on the host or not on the patrol user's PATH "
        "(crm_mon: command not found); no vrrp instances are listed either: nothing to check"
    )
    (required,) = run("ha_cluster", {"pacemaker": True, "vrrp": {"VI_WEB": "MASTER"}}, RecordedShell())
    assert required.status is Status.UNKNOWN and required.summary.startswith("cannot check: crm_mon is not installed")
    shell = RecordedShell({"kill -USR1 4242": ok("")}, {PID_FILE: b"4242\n", DUMP: fixture("keepalived-master.data")})
    (vrrp,) = run("ha_cluster", {"vrrp": {"VI_WEB": "MASTER"}}, shell)  # auto: no crm_mon, keepalived only
    assert vrrp.item == "vrrp VI_WEB" and vrrp.status is Status.OK


def test_sudo_and_another_crm_mon_path():
    command = "sudo -n /usr/sbin/crm_mon " + CRM_MON.split(" ", 1)[1]
    got, shell = pacemaker(fixture("crm_mon-healthy.xml"), {"sudo": True, "crm_mon": "/usr/sbin/crm_mon"},
                           command=command)  # fmt: skip
    assert shell.calls[0][0][:3] == ["sudo", "-n", "/usr/sbin/crm_mon"] and got["cluster"].status is Status.OK
    refused = RecordedShell({command: ok("", 1, "sudo: a password is required")})
    (result,) = run("ha_cluster", {"sudo": True, "crm_mon": "/usr/sbin/crm_mon"}, refused)
    assert result.status is Status.UNKNOWN and "sudo -n refused to run crm_mon" in result.summary


# -- keepalived -----------------------------------------------------------------------------------


def test_parse_keepalived_reads_only_the_instances():
    instances = parse_keepalived(fixture("keepalived-master.data").decode())
    assert list(instances) == ["VI_WEB", "VI_MGMT"]  # not the script's or the interfaces' "State ="
    web, mgmt = instances.values()
    assert (web.state, web.wanted, web.interface, web.since) == ("MASTER", "MASTER", "eth0", "Mon Mar 4 05:15:02 2024")
    assert (mgmt.state, mgmt.master_router) == ("BACKUP", "192.168.50.12")


def test_master_and_backup_as_expected():
    got, shell = keepalived("keepalived-master.data", {"VI_WEB": "master", "VI_MGMT": "BACKUP"})
    assert [c[0] for c in shell.calls] == [["kill", "-USR1", "4242"]]
    assert got["vrrp VI_WEB"].status is Status.OK
    assert got["vrrp VI_WEB"].summary == "MASTER, on eth0, since Mon Mar 4 05:15:02 2024"
    assert got["vrrp VI_MGMT"].summary == "BACKUP, on eth1, since Mon Mar 4 05:15:01 2024, master 192.168.50.12"


def test_states_other_than_expected_are_critical():
    got, _ = keepalived("keepalived-backup.data", {"VI_WEB": "MASTER", "VI_MGMT": "BACKUP"})
    web, mgmt = got["vrrp VI_WEB"], got["vrrp VI_MGMT"]
    assert web.status is Status.CRITICAL and web.summary.startswith("BACKUP, expected MASTER - BACKUP, on eth0")
    assert mgmt.status is Status.CRITICAL
    assert mgmt.summary.startswith("MASTER, expected BACKUP; the peer may be MASTER too (split brain), or it is down")


def test_fault_and_a_missing_instance_are_critical():
    got, _ = keepalived("keepalived-fault.data", {"VI_WEB": "MASTER", "VI_MGMT": "BACKUP"})
    assert got["vrrp VI_WEB"].status is Status.CRITICAL
    assert got["vrrp VI_WEB"].summary.startswith("FAULT (a tracked interface or script failed")
    assert got["vrrp VI_MGMT"].status is Status.CRITICAL and "not in keepalived's data" in got["vrrp VI_MGMT"].summary
    got, _ = keepalived("keepalived-fault.data", {"VI_OTHER": "BACKUP"})
    assert list(got) == ["vrrp VI_OTHER", "vrrp VI_WEB"]  # an instance not listed is still reported in FAULT
    assert got["vrrp VI_WEB"].status is Status.CRITICAL


class OldDump(RecordedShell):
    """The dump was last written 900 s before the host's clock (nothing refreshed it)."""

    def read_tail(self, path, max_bytes):
        info, data, _now = super().read_tail(path, max_bytes)
        return info, data, info.mtime + 900.0


def test_a_stale_dump_is_unknown():
    shell = OldDump(files={DUMP: fixture("keepalived-master.data")})
    params = {"pacemaker": False, "vrrp": {"VI_WEB": "MASTER"}, "vrrp_refresh": False}
    (stale,) = run("ha_cluster", params, shell)
    assert stale.status is Status.UNKNOWN and stale.summary == (
        "cannot check: /tmp/keepalived.data is 900 s old, more than vrrp_max_age 300 s "
        "(refresh it (vrrp_refresh: true) or from a root cron job)"
    )
    (accepted,) = run("ha_cluster", {**params, "vrrp_max_age": None}, shell)
    assert accepted.status is Status.OK and accepted.item == "vrrp VI_WEB"


def test_keepalived_cannot_be_read():
    (no_pid,) = run("ha_cluster", {"pacemaker": False, "vrrp": {"VI_WEB": "MASTER"}}, RecordedShell())
    assert no_pid.status is Status.UNKNOWN and no_pid.summary == (
        "cannot check: /run/keepalived.pid does not exist: keepalived is not running, or set vrrp_pid_file"
    )
    (stale,) = keepalived("keepalived-master.data", {"VI_WEB": "MASTER"},
                          kill=ok("", 1, "kill: (4242) - No such process"))[0].values()  # fmt: skip
    assert stale.summary == "cannot check: keepalived is not running (pid 4242 in /run/keepalived.pid does not exist)"
    (denied,) = keepalived("keepalived-master.data", {"VI_WEB": "MASTER"},
                           kill=ok("", 1, "kill: (4242) - Operation not permitted"))[0].values()  # fmt: skip
    assert (
        denied.status is Status.UNKNOWN and "Operation not permitted; run as root or set sudo: true" in denied.summary
    )
    (no_dump,) = keepalived(None, {"VI_WEB": "MASTER"}, {"vrrp_refresh": False})[0].values()
    assert no_dump.summary == "cannot check: /tmp/keepalived.data does not exist"
    shell = RecordedShell(files={DUMP: b"some other file\n"})
    (wrong,) = run("ha_cluster", {"pacemaker": False, "vrrp": {"VI_WEB": "MASTER"}, "vrrp_refresh": False}, shell)
    assert wrong.summary == "cannot check: /tmp/keepalived.data has no VRRP instance (is it keepalived's data dump?)"


def test_bad_parameters():
    check = default_registry().get("ha_cluster")
    with pytest.raises(ConfigError) as caught:
        check.validate({"pacemaker": "maybe", "vrrp": {"VI_1": "PRIMARY"}, "vrrp_data_path": "tmp/k"})
    text = str(caught.value)
    assert "pacemaker" in text and "VI_1" in text and "vrrp_data_path" in text
    with pytest.raises(ConfigError) as nothing:
        check.validate({"pacemaker": False})
    assert "nothing to check" in str(nothing.value)


class SlowDump(RecordedShell):
    """The host's clock is 1000 when the pid file is read; the dump is rewritten after ``late`` reads."""

    def __init__(self, late: int | None, **kwargs):
        super().__init__(**kwargs)
        self.late, self.dump_reads = late, 0

    def read_tail(self, path, max_bytes):
        info, data, _now = super().read_tail(path, max_bytes)
        if path == DUMP:
            self.dump_reads += 1
            written = self.late is not None and self.dump_reads > self.late
            info = type(info)(path, info.size, 1000.0 if written else 400.0)
        return info, data, 1000.0


def test_the_check_waits_for_keepalived_to_rewrite_its_dump():
    files = {PID_FILE: b"4242\n", DUMP: fixture("keepalived-master.data")}
    params = {"pacemaker": False, "vrrp": {"VI_WEB": "MASTER"}, "timeout": 2}
    shell = SlowDump(2, answers={"kill -USR1 4242": ok("")}, files=files)
    (result,) = run("ha_cluster", params, shell)
    assert result.status is Status.OK and shell.dump_reads == 3  # the two reads before the rewrite were retried
    never = SlowDump(None, answers={"kill -USR1 4242": ok("")}, files=files)
    (stale,) = run("ha_cluster", params, never)
    assert stale.status is Status.UNKNOWN and never.dump_reads > 1
    assert stale.summary == (
        "cannot check: /tmp/keepalived.data is 600 s old, more than vrrp_max_age 300 s "
        "(keepalived did not rewrite it after SIGUSR1)"
    )
