"""A private two-namespace network for the link checks' tests, and a way to run a check inside it.

    with NetnsPair() as net:                  # namespaces "<prefix>a" and "<prefix>b", a veth pair between
        net.a, net.b                          # their names; addresses A_ADDR / B_ADDR (10.201.0.0/24)
        net.nft(net.b, "ip protocol icmp numgen random mod 100 < 30 drop")   # on b's input
        net.start(net.b, [python, "-c", ...]) # a server inside b, stopped when the pair is deleted
        run_check(net.a, "ping", {...})       # the check run by a patrol process inside a

Every address lives inside namespaces the test made; nothing is sent outside them. The namespaces
are deleted on exit, even after a failure, and processes started in them are killed first.
The kernel here has no netem: loss is an nftables rule with a random number per packet.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
A_ADDR, B_ADDR = "10.201.0.1", "10.201.0.2"
A_ADDR6, B_ADDR6 = "fd00:201::1", "fd00:201::2"
DEV_A, DEV_B = "pveth-a", "pveth-b"
REQUIRED = {"ip": "iproute2", "nft": "nftables", "setpriv": "util-linux"}


class NetnsError(RuntimeError):
    pass


def missing_tools() -> list[str]:
    return [f"{tool} (Debian package {pkg})" for tool, pkg in REQUIRED.items() if shutil.which(tool) is None]


def sh(*argv: str, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    if check and done.returncode != 0:
        raise NetnsError(f"{' '.join(argv)}: exit {done.returncode}: {done.stderr.strip()}")
    return done


class NetnsPair:
    def __init__(self) -> None:
        prefix = f"ptl{os.getpid() % 10000}{secrets.token_hex(2)}"
        self.a, self.b = prefix + "a", prefix + "b"
        self.processes: list[subprocess.Popen] = []

    def __enter__(self) -> NetnsPair:
        try:
            self._create()
        except BaseException:
            self.delete()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.delete()

    def _create(self) -> None:
        for ns in (self.a, self.b):
            sh("ip", "netns", "add", ns)
            # No duplicate address detection on the new link: its link-local address would otherwise
            # be unusable for about a second, and the first IPv6 probes would wait for it.
            sh("ip", "netns", "exec", ns, "sysctl", "-q", "-w", "net.ipv6.conf.default.accept_dad=0")
        sh("ip", "link", "add", DEV_A, "netns", self.a, "type", "veth", "peer", "name", DEV_B, "netns", self.b)
        for ns, dev, addr, addr6 in ((self.a, DEV_A, A_ADDR, A_ADDR6), (self.b, DEV_B, B_ADDR, B_ADDR6)):
            sh("ip", "-n", ns, "addr", "add", f"{addr}/24", "dev", dev)
            sh("ip", "-n", ns, "-6", "addr", "add", f"{addr6}/64", "dev", dev, "nodad")  # usable at once
            sh("ip", "-n", ns, "link", "set", "lo", "up")
            sh("ip", "-n", ns, "link", "set", dev, "up")

    def settle(self) -> None:
        """Wait until both ends know each other: neighbour discovery on a fresh link may take a
        retransmission (a second) for the first IPv6 packet, which would show in the first measurement."""
        for ns, peers in ((self.a, [B_ADDR, B_ADDR6]), (self.b, [A_ADDR, A_ADDR6])):
            for result in run_check(ns, "ping", {"hosts": peers, "count": 1, "reply_timeout": 5}):
                if result["status"] != "OK":
                    raise NetnsError(f"the test link does not work: {result['item']}: {result['summary']}")

    def delete(self) -> None:
        for proc in self.processes:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)
        for ns in (self.a, self.b):
            sh("ip", "netns", "del", ns, check=False)  # takes its end of the veth pair with it

    def exec(self, ns: str, *argv: str, check: bool = True) -> subprocess.CompletedProcess:
        return sh("ip", "netns", "exec", ns, *argv, check=check)

    def sysctl(self, ns: str, setting: str) -> None:
        self.exec(ns, "sysctl", "-q", "-w", setting)

    def nft(self, ns: str, rule: str) -> None:
        """Add ``rule`` to an input filter chain of ``ns`` (created on first use)."""
        self.exec(ns, "nft", "add", "table", "inet", "patrol")
        self.exec(ns, "nft", "add", "chain", "inet", "patrol", "input",
                  "{ type filter hook input priority 0 ; policy accept ; }")  # fmt: skip
        self.exec(ns, "nft", "add", "rule", "inet", "patrol", "input", *rule.split())

    def nft_flush(self, ns: str) -> None:
        self.exec(ns, "nft", "flush", "ruleset")

    def link(self, ns: str, state: str) -> None:
        dev = DEV_A if ns == self.a else DEV_B
        sh("ip", "-n", ns, "link", "set", dev, state)

    def start(self, ns: str, argv: list[str]) -> subprocess.Popen:
        proc = subprocess.Popen(["ip", "netns", "exec", ns, *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.processes.append(proc)
        return proc


def run_check(
    ns: str,
    check: str,
    params: dict,
    target: dict | None = None,
    prefix: tuple[str, ...] = (),
    timeout: float = 120,
) -> list[dict]:
    """Run ``check`` with ``params`` through the collector's Runner in a patrol process inside ``ns``.

    ``target`` is ``{"name": ..., "vars": {...}}`` (default: a host named "peer" with no variables);
    ``prefix`` wraps the process (e.g. setpriv to drop CAP_NET_RAW). Returns the results as JSON dicts.
    """
    request = json.dumps({"check": check, "params": params, "target": target or {"name": "peer", "vars": {}}})
    argv = ["ip", "netns", "exec", ns, *prefix, sys.executable, "-m", "tests.integration.netns"]
    done = subprocess.run(argv, input=request, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    if done.returncode != 0:
        raise NetnsError(f"check process failed (exit {done.returncode}): {done.stderr.strip()[-2000:]}")
    return json.loads(done.stdout)


def _main() -> None:
    from checks.registry import default_registry
    from checks.target import Target
    from collector.planner import Assignment
    from collector.runner import Runner

    request = json.load(sys.stdin)
    check = default_registry().get(request["check"])
    target = Target(request["target"]["name"], request["target"]["vars"])
    results = Runner().run([Assignment("test", target, check, check.validate(request["params"]))])
    json.dump([r.to_json_dict() for r in results], sys.stdout)


if __name__ == "__main__":
    _main()
