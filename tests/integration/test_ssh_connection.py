"""SSH connections against a real OpenSSH server on loopback: host keys, authentication, timeouts."""

from __future__ import annotations

import re
import socket
import subprocess
import threading
import time
from pathlib import Path

import paramiko
import pytest

from checks.registry import default_registry
from checks.ssh.connection import HostKeyError, SshConnection, SshError
from checks.status import Status
from checks.target import Target
from collector.planner import Assignment
from collector.runner import Runner

from .sshd import keygen, lock_password, set_password, start_sshd

pytestmark = pytest.mark.integration


def wait_for_log(server, start: int, text: str, timeout: float = 10.0) -> str:
    """sshd's log written since offset ``start``, once it holds ``text`` (sshd writes it asynchronously)."""
    deadline = time.monotonic() + timeout
    while True:
        new = server.log()[start:]
        if text in new or time.monotonic() > deadline:
            return new
        time.sleep(0.05)


def new_connection_log(server, start: int, timeout: float = 10.0) -> str:
    """The log lines of the one connection made since offset ``start``, once sshd has closed it.

    Other connections' late lines (a previous test's session closing) are left out by port.
    """
    deadline = time.monotonic() + timeout
    while True:
        new = server.log()[start:]
        ports = re.findall(r"Connection from 127\.0\.0\.1 port (\d+)", new)
        if len(ports) == 1 and re.search(
            rf"(Connection (closed|reset) by|Disconnected from|Read error from remote host).* port {ports[0]}\b", new
        ):
            return "\n".join(line for line in new.splitlines() if f"port {ports[0]}" in line)
        if time.monotonic() > deadline:
            raise AssertionError(f"expected one closed connection in the sshd log, got: {new}")
        time.sleep(0.05)


def assignment(target: Target, check: str, **params) -> Assignment:
    c = default_registry().get(check)
    return Assignment("test", target, c, c.validate(params))


def test_command_runs_as_the_unprivileged_user_with_exit_status_and_both_streams(sshd, known_hosts):
    conn = SshConnection.open(Target("t", sshd.target_vars(known_hosts)))
    try:
        done = conn.run("id -un; id -u; echo oops >&2; exit 7")
    finally:
        conn.close()
    user, uid = done.stdout.decode().split()
    assert user == sshd.account.user and uid != "0"
    assert done.stderr == b"oops\n" and done.exit_status == 7


def test_changed_host_key_is_refused_before_any_authentication(sshd, tmp_path):
    other = tmp_path / "other_key"
    keygen(other)
    known = tmp_path / "known_hosts"
    known.write_text(f"[127.0.0.1]:{sshd.port} ssh-ed25519 {Path(f'{other}.pub').read_text().split()[1]}\n")
    start = len(sshd.log())
    with pytest.raises(HostKeyError) as refused:
        SshConnection.open(Target("t", sshd.target_vars(known)))
    message = str(refused.value)
    assert f"host key mismatch for [127.0.0.1]:{sshd.port}" in message and "refusing to authenticate" in message
    assert paramiko.PKey.from_path(sshd.host_key).fingerprint in message  # names the key it was shown
    # sshd names the user only once a client asks to authenticate: it never heard of ours.
    assert sshd.account.user not in new_connection_log(sshd, start)
    # ... whereas a login with the right key does name it, so the assertion above can fail.
    start = len(sshd.log())
    known.write_text(sshd.known_hosts_line())
    SshConnection.open(Target("t", sshd.target_vars(known))).close()
    assert f"Accepted publickey for {sshd.account.user}" in new_connection_log(sshd, start)


@pytest.mark.parametrize(
    "content",
    [None, "", "[127.0.0.1]:1 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBadKeyNotThisHostsKeyAtAll0000000000000\n"],
)
def test_unknown_host_is_refused_before_authentication(sshd, tmp_path, content):
    known = tmp_path / "known_hosts"
    if content is not None:
        known.write_text(content)
    start = len(sshd.log())
    with pytest.raises(HostKeyError, match=r"unknown host key for \[127\.0\.0\.1\]:\d+ .*ssh_host_key_policy: tofu"):
        SshConnection.open(Target("t", sshd.target_vars(known)))
    assert sshd.account.user not in new_connection_log(sshd, start)
    assert known.exists() == (content is not None)  # strict never writes the file


def test_trust_on_first_use_records_the_key_then_holds_to_it(sshd, tmp_path):
    known = tmp_path / "ssh" / "known_hosts"  # not there yet: created with its directory
    target = Target("t", sshd.target_vars(known, ssh_host_key_policy="tofu"))
    SshConnection.open(target).close()
    assert known.read_text() == sshd.known_hosts_line()
    assert oct(known.stat().st_mode & 0o777) == "0o600"
    # The recorded key is now what strict checking compares against.
    SshConnection.open(Target("t", sshd.target_vars(known))).close()
    # A different key later is refused even under tofu: trust is for the first use only.
    other = tmp_path / "other_key"
    keygen(other)
    known.write_text(f"[127.0.0.1]:{sshd.port} ssh-ed25519 {Path(f'{other}.pub').read_text().split()[1]}\n")
    with pytest.raises(HostKeyError, match="host key mismatch"):
        SshConnection.open(target)


def test_password_from_a_secret_reference_and_never_in_a_message(sshd, known_hosts, monkeypatch):
    password = set_password(sshd.account.user)
    try:
        vars_ = sshd.target_vars(known_hosts, ssh_password={"env": "PATROL_TEST_SSH_PASSWORD"})
        del vars_["ssh_private_key_file"]
        monkeypatch.setenv("PATROL_TEST_SSH_PASSWORD", password)
        start = len(sshd.log())
        target = Target("pw", vars_)
        [ok] = Runner().run([assignment(target, "ssh_command", command="echo logged-in")])
        assert ok.status is Status.OK and ok.summary == "logged-in", ok.summary
        assert f"Accepted password for {sshd.account.user}" in wait_for_log(sshd, start, "Accepted password")
        monkeypatch.setenv("PATROL_TEST_SSH_PASSWORD", password + "-wrong")
        [bad] = Runner().run([assignment(target, "ssh_command", command=f"echo {password}")])
        assert bad.status is Status.UNKNOWN and not bad.collected
        assert f"cannot log in to 127.0.0.1:{sshd.port} as {sshd.account.user}: password authentication failed" in (
            bad.summary
        )
        assert password not in bad.summary and password not in sshd.log()
    finally:
        lock_password(sshd.account.user)


def test_one_connection_per_target_per_run_closed_when_the_run_ends(sshd, known_hosts):
    target = Target("reuse", sshd.target_vars(known_hosts))
    host_checks = ["cpu", "load", "memory", "swap", "disk", "processes", "uptime", "network_interfaces"]
    work = [assignment(target, name) for name in host_checks if name not in ("cpu", "network_interfaces")]
    work += [assignment(target, "cpu", interval=0.5), assignment(target, "network_interfaces", interval=0.5)]
    work += [assignment(target, "ssh_command", command=f"echo {i}", item=f"c{i}") for i in range(3)]
    start = len(sshd.log())
    results = Runner(max_workers=8).run(work)
    assert all(r.collected for r in results), [r.summary for r in results if not r.collected]
    log = wait_for_log(sshd, start, "Closing connection to")
    assert log.count("Accepted publickey") == 1, log
    assert "Closing connection to" in log  # the run closed it (the server saw the end of the session)


def blackhole() -> socket.socket:
    """A port that accepts TCP connections (the kernel completes them) and never says a word."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    return server


def test_blackholed_target_times_out_within_its_timeout_without_delaying_others(sshd, known_hosts):
    with blackhole() as hole:
        port = hole.getsockname()[1]
        dead = Target("dead", sshd.target_vars(known_hosts, ansible_port=port, ssh_timeout=4))
        alive = Target("alive", sshd.target_vars(known_hosts))
        work = [assignment(dead, name) for name in ("load", "memory", "uptime")]
        work += [assignment(alive, name) for name in ("load", "memory", "uptime")]
        order: list[tuple[str, float]] = []
        start = time.monotonic()
        results = Runner(max_workers=6).run(work, on_done=lambda a, r: order.append((a.target.name, time.monotonic())))
    elapsed = time.monotonic() - start
    dead_results = [r for r in results if r.target == "dead"]
    assert len(dead_results) == 3
    for r in dead_results:
        assert r.status is Status.UNKNOWN and not r.collected
        assert f"no SSH answer from 127.0.0.1:{port} within 4 s" in r.summary, r.summary
    assert all(r.status is not Status.UNKNOWN for r in results if r.target == "alive")
    # The live target finished while the dead one was still waiting for its banner...
    assert [name for name, _ in order[:3]] == ["alive"] * 3, order
    # ... and the dead one cost its timeout once (the connection failure is shared by its checks).
    assert 3.5 < elapsed < 30, elapsed


def test_jump_host(ssh_account, sshd, tmp_path):
    jump = start_sshd(ssh_account, log_level="DEBUG1")
    try:
        known = tmp_path / "known_hosts"
        known.write_text(sshd.known_hosts_line() + jump.known_hosts_line())
        target = Target("behind", sshd.target_vars(known, ssh_jump_host=f"{ssh_account.user}@127.0.0.1:{jump.port}"))
        start = len(jump.log())
        [r] = Runner().run([assignment(target, "ssh_command", command="echo through")])
        assert r.status is Status.OK and r.summary == "through", r.summary
        log = wait_for_log(jump, start, "direct-tcpip")
        assert f"target 127.0.0.1 port {sshd.port}" in log, log  # the jump host opened the hop
        # The jump host's own key is verified too.
        known.write_text(sshd.known_hosts_line())
        with pytest.raises(HostKeyError, match=rf"unknown host key for \[127\.0\.0\.1\]:{jump.port}"):
            SshConnection.open(target)
    finally:
        jump.stop()


def test_connection_refused_and_bad_key_file_are_clear(sshd, known_hosts, tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(SshError, match=rf"cannot connect to 127\.0\.0\.1:{port}: Connection refused"):
        SshConnection.open(Target("t", sshd.target_vars(known_hosts, ansible_port=port)))
    junk = tmp_path / "junk_key"
    junk.write_text("not a key\n")
    with pytest.raises(SshError, match="ssh_private_key_file: cannot load"):
        SshConnection.open(Target("t", sshd.target_vars(known_hosts, ssh_private_key_file=str(junk))))


def test_concurrent_commands_share_one_connection(sshd, known_hosts):
    conn = SshConnection.open(Target("t", sshd.target_vars(known_hosts)))
    out: dict[int, bytes] = {}

    def work(i: int) -> None:
        out[i] = conn.run(f"sleep 0.2; echo {i}").stdout

    try:
        threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
    finally:
        conn.close()
    assert out == {i: f"{i}\n".encode() for i in range(8)}


def test_hashed_known_hosts_entries_are_recognised(sshd, known_hosts):
    subprocess.run(["ssh-keygen", "-q", "-H", "-f", str(known_hosts)], check=True, capture_output=True)
    assert known_hosts.read_text().startswith("|1|")  # no host name left in clear
    SshConnection.open(Target("t", sshd.target_vars(known_hosts))).close()
