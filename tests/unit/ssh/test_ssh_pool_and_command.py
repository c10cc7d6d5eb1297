"""The per-run connection pool and the ssh_command check's reading of plugin output."""

from __future__ import annotations

import threading

import pytest

from checks.errors import CheckUnavailable
from checks.plugin_output import parse_plugin_output
from checks.ssh.command import metric_name, perf_metrics
from checks.ssh.connection import SshError
from checks.ssh.pool import SshPool
from checks.target import Target


class Conn:
    def __init__(self):
        self.active = True

    def close(self):
        self.active = False


def test_one_connection_per_target_shared_by_concurrent_checks_and_closed_with_the_run():
    opened = []

    def opener(target, scrubber):
        conn = Conn()
        opened.append((target.name, conn))
        return conn

    pool = SshPool(opener=opener)
    a, b = Target("a"), Target("b")
    got = []
    threads = [threading.Thread(target=lambda t=t: got.append(pool.connection(t))) for t in [a] * 8 + [b] * 4]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(name for name, _ in opened) == ["a", "b"]
    assert len({id(c) for c in got}) == 2
    pool.close()
    assert not any(conn.active for _, conn in opened)
    with pytest.raises(CheckUnavailable, match="the run is over"):
        pool.connection(a)


def test_a_failed_connection_is_remembered_for_the_run():
    calls = []

    def opener(target, scrubber):
        calls.append(target.name)
        raise SshError(f"no SSH answer from {target.name}")

    pool = SshPool(opener=opener)
    for _ in range(3):
        with pytest.raises(SshError, match="no SSH answer from dead"):
            pool.connection(Target("dead"))
    assert calls == ["dead"]  # the timeout is paid once, not once per check


def test_nagios_plugin_output_long_text_and_perfdata():
    out = parse_plugin_output(
        "LOAD OK - load average: 0.20, 0.15, 0.10|load1=0.200;5.000;10.000;0; load5=0.150;4.000;6.000;0;\n"
        "second line\n"
        "third line | 'disk /var'=80%;90;95 bad=x;1\n"
        "more=1s\n"
    )
    assert out.text == "LOAD OK - load average: 0.20, 0.15, 0.10"
    assert out.long_text == "second line\nthird line"
    assert [(p.label, p.value, p.uom, p.warn, p.crit, p.min) for p in out.perfdata] == [
        ("load1", 0.2, "", "5.000", "10.000", "0"),
        ("load5", 0.15, "", "4.000", "6.000", "0"),
        ("disk /var", 80.0, "%", "90", "95", ""),
        ("more", 1.0, "s", "", "", ""),
    ]
    assert out.malformed == ("bad=x;1",)


def test_plain_output_without_perfdata():
    out = parse_plugin_output(" OK\n")
    assert (out.text, out.perfdata, out.malformed) == ("OK", (), ())


def test_perfdata_labels_become_metric_names_and_units_base_units():
    assert [metric_name(x) for x in ("/", "/var/log", "Time", "5min", "io wait")] == [
        "root", "var_log", "time", "m_5min", "io_wait",
    ]  # fmt: skip
    metrics = perf_metrics(parse_plugin_output("x|/=2MB a=1us b=3KB c=5 d=7zz /=1"))
    assert [(m.name, m.value, m.unit) for m in metrics] == [
        ("root", 2 * 1024**2, "B"), ("a", 1e-6, "s"), ("b", 3072, "B"), ("c", 5, ""), ("d", 7, ""), ("root_2", 1, ""),
    ]  # fmt: skip
    assert metrics[4].labels == {"label": "d", "uom": "zz"}
