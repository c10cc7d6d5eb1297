"""Host checks on stored real figures (tests/fixtures/host/debian12-vm.json, captured by capture.py)."""

import pytest

from checks.registry import default_registry
from checks.status import Status


def run(name, ctx, **params):
    check = default_registry().get(name)
    return check.execute(ctx, check.validate(params))


def by_item(results):
    return {r.item: r for r in results}


def test_cpu_utilisation_from_the_two_samples(host_data, make_ctx):
    a, b = host_data["cpu_times"]
    delta = {k: b[k] - a[k] for k in a}
    total = sum(v for k, v in delta.items() if k not in ("guest", "guest_nice"))
    busy = 100 * (total - delta["idle"] - delta["iowait"]) / total
    [r] = run("cpu", make_ctx(host_data))
    assert r.metric("utilisation").value == pytest.approx(busy, abs=0.01)
    assert r.metric("iowait").value == pytest.approx(100 * delta["iowait"] / total, abs=0.01)
    assert {m.name for m in r.metrics} == {"utilisation", "user", "system", "iowait", "steal"}
    [r] = run("cpu", make_ctx(host_data), warning=busy / 2, critical=busy * 0.9)
    assert r.status is Status.CRITICAL


def test_load_is_per_cpu(host_data, make_ctx):
    host_data["load_average"] = [3.0, 2.0, 1.0]
    [r] = run("load", make_ctx(host_data))
    cpus = host_data["cpu_count"]
    assert r.metric("load5").value == pytest.approx(2.0 / cpus, abs=1e-3)
    assert r.status is (Status.WARNING if 2.0 / cpus > 0.7 else Status.OK)
    [r] = run("load", make_ctx(host_data), average="load1", critical=1.0)
    assert r.status is Status.CRITICAL  # 3.0 / 2 CPUs = 1.5 > 1.0
    assert r.thresholds[0].metric == "load1"


def test_memory_is_based_on_mem_available(host_data, make_ctx):
    mem = host_data["memory"]
    [r] = run("memory", make_ctx(host_data))
    assert r.metric("used").value == pytest.approx(100 * (mem["total"] - mem["available"]) / mem["total"], abs=0.01)
    host_data["memory"]["available"] = mem["total"] // 25  # 96 % used
    [r] = run("memory", make_ctx(host_data))
    assert r.status is Status.CRITICAL and "96.0% used" in r.summary


def test_swap_absent_is_not_a_problem_and_low_free_is(host_data, make_ctx):
    host_data["swap"] = {"total": 0, "used": 0}
    [r] = run("swap", make_ctx(host_data))
    assert r.status is Status.OK and r.summary == "no swap configured"
    host_data["swap"] = {"total": 1000, "used": 700}
    [r] = run("swap", make_ctx(host_data))
    assert r.status is Status.WARNING and r.metric("free").value == 30


def test_disk_checks_real_mounts_only_with_space_and_inodes(host_data, make_ctx):
    results = by_item(run("disk", make_ctx(host_data)))
    assert list(results) == ["/"]  # proc, sysfs, cgroup, tmpfs ... are pseudo file systems
    root = host_data["disk_usage"]["/"]
    used = 100 * root["used"] / (root["used"] + root["free"])
    assert results["/"].metric("used").value == pytest.approx(used, abs=0.01)
    assert results["/"].metric("inodes_free").value == pytest.approx(
        100 * root["inodes_free"] / root["inodes_total"], abs=0.01
    )


def test_disk_free_bytes_and_inodes_thresholds(host_data, make_ctx):
    root = host_data["disk_usage"]["/"]
    [r] = run("disk", make_ctx(host_data), free_critical=root["free"] + 1)
    assert r.status is Status.CRITICAL and "free" in r.summary and "<" in r.summary
    root["inodes_free"] = root["inodes_total"] // 20  # 5 % free
    [r] = run("disk", make_ctx(host_data))
    assert r.status is Status.CRITICAL and "inodes_free 5% < 10" in r.summary


def test_disk_include_exclude_and_unreadable_mounts(host_data, make_ctx):
    host_data["partitions"].append(
        {"device": "srv:/export", "mountpoint": "/mnt/nfs", "fstype": "nfs4", "opts": "rw"}
    )  # no usage stored: the fixture source answers "permission denied"
    results = by_item(run("disk", make_ctx(host_data)))
    assert results["/mnt/nfs"].status is Status.UNKNOWN and not results["/mnt/nfs"].collected
    assert "Permission denied" in results["/mnt/nfs"].summary
    assert list(by_item(run("disk", make_ctx(host_data), exclude=["/mnt/*"]))) == ["/"]
    [r] = run("disk", make_ctx(host_data), include=["/data*"])
    assert r.status is Status.UNKNOWN and "no file system matches" in r.summary


def test_processes_zombies_pid_max_and_required(host_data, make_ctx):
    procs = host_data["processes"]
    results = by_item(run("processes", make_ctx(host_data), required=[procs[0]["name"], "no-such-daemon"]))
    assert results[""].metric("total").value == len(procs)
    assert results[""].metric("pid_usage").value == pytest.approx(100 * len(procs) / host_data["pid_max"], abs=1e-3)
    assert results[procs[0]["name"]].status is Status.OK
    assert results["no-such-daemon"].status is Status.CRITICAL and results["no-such-daemon"].summary == "not running"
    for p in procs[:2]:
        p["status"] = "zombie"
    [total] = run("processes", make_ctx(host_data))
    assert total.metric("zombies").value == 2 and total.status is Status.WARNING


def test_uptime_flags_a_recent_reboot(host_data, make_ctx):
    host_data["now"] = host_data["boot_time"] + 120
    [r] = run("uptime", make_ctx(host_data))
    assert r.status is Status.WARNING and r.metric("uptime").value == 120
    host_data["now"] = host_data["boot_time"] + 86400 * 3
    [r] = run("uptime", make_ctx(host_data))
    assert r.status is Status.OK and r.summary.startswith("up 3 d 0 h")


def test_network_interfaces_rates_and_link_state(host_data, make_ctx):
    first, second = host_data["nic_counters"]
    results = by_item(run("network_interfaces", make_ctx(host_data)))
    assert "lo" not in results and "eth0" in results
    rx = (second["eth0"]["bytes_recv"] - first["eth0"]["bytes_recv"]) / host_data["sample_interval"]
    assert results["eth0"].metric("rx").value == pytest.approx(rx, abs=0.1)
    assert results["eth0"].status is Status.OK

    second["eth0"]["errin"] = first["eth0"]["errin"] + 50  # 50 errors in one second
    host_data["nic_stats"]["eth1"] = {"admin_up": True, "running": False, "speed_mbps": 1000, "mtu": 1500}
    host_data["nic_stats"]["eth2"] = {"admin_up": False, "running": False, "speed_mbps": 0, "mtu": 1500}
    results = by_item(run("network_interfaces", make_ctx(host_data)))
    assert results["eth0"].status is Status.CRITICAL and "errors 50/s > 10" in results["eth0"].summary
    assert results["eth1"].status is Status.CRITICAL and "no carrier" in results["eth1"].summary
    assert results["eth2"].status is Status.OK and "administratively down" in results["eth2"].summary


def test_network_counter_reset_gives_no_rate_instead_of_a_huge_one(host_data, make_ctx):
    first, second = host_data["nic_counters"]
    second["eth0"] = {k: 0 for k in second["eth0"]}  # the driver was reloaded
    r = by_item(run("network_interfaces", make_ctx(host_data)))["eth0"]
    assert r.status is Status.OK and "counters were reset" in r.summary and r.metric("rx") is None
