"""Real SNMP agents for the tests: net-snmp snmpd and snmpsim on loopback, plus snmpbulkwalk to compare.

Both are started on a free UDP port in a temporary directory and stopped by PID. Nothing is skipped:
a missing Debian package is installed (as root) or the test fails saying what is missing.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

SNMPSIM_DATA = Path(__import__("snmpsim").__file__).parent / "data"


class SnmpServerError(RuntimeError):
    pass


def ensure_debian_packages() -> None:
    """snmpd and the net-snmp tools; installed here when missing so a new machine runs the tests too."""
    need = [pkg for pkg, tool in (("snmpd", "snmpd"), ("snmp", "snmpbulkwalk")) if not shutil.which(tool)]
    if not need:
        return
    if os.geteuid() != 0:
        raise SnmpServerError(f"missing Debian packages {need}: apt-get install {' '.join(need)}")
    subprocess.run(["apt-get", "update", "-qq"], check=True, capture_output=True)
    subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *need], check=True,
                   capture_output=True, env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})  # fmt: skip


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_answer(port: int, community: str, timeout: float = 20.0, log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = subprocess.run(
            ["snmpget", "-v2c", "-c", community, "-m", "", "-On", "-t", "0.5", "-r", "0", f"127.0.0.1:{port}",
             "1.3.6.1.2.1.1.3.0"], capture_output=True, text=True,
        )  # fmt: skip
        if r.returncode == 0:
            return
        time.sleep(0.2)
    tail = log.read_text(errors="replace")[-2000:] if log and log.exists() else ""
    raise SnmpServerError(f"no SNMP answer on 127.0.0.1:{port} within {timeout:g} s\n{tail}")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


# -- net-snmp snmpd ------------------------------------------------------------------------------

SNMPD_USERS = {
    # user: (auth protocol, auth key, priv protocol, priv key); the keys are test-only values
    "shaaes": ("SHA", "authpass123", "AES", "privpass123"),
    "md5des": ("MD5", "authpass456", "DES", "privpass456"),
    "sha256": ("SHA-256", "authpass789", None, None),
    "sha512aes256": ("SHA-512", "authpass999", "AES-256", "privpass999"),
    "sha224aes192": ("SHA-224", "authpass000", "AES-192", "privpass000"),
    "noauth": (None, None, None, None),
}
SNMPD_COMMUNITY = "testcomm"


@dataclass
class Snmpd:
    port: int
    directory: Path
    proc: subprocess.Popen
    community: str = SNMPD_COMMUNITY
    users: dict = field(default_factory=lambda: dict(SNMPD_USERS))

    def stop(self) -> None:
        stop(self.proc)
        shutil.rmtree(self.directory, ignore_errors=True)


def start_snmpd() -> Snmpd:
    ensure_debian_packages()
    directory = Path(tempfile.mkdtemp(prefix="patrol-snmpd-"))
    os.chmod(directory, 0o755)
    port = free_udp_port()
    lines = [f"agentaddress udp:127.0.0.1:{port}", f"rocommunity {SNMPD_COMMUNITY} 127.0.0.1"]
    for user, (auth, akey, priv, pkey) in SNMPD_USERS.items():
        spec = f"createUser {user}" + (f' {auth} "{akey}"' if auth else "") + (f' {priv} "{pkey}"' if priv else "")
        level = "priv" if priv else ("auth" if auth else "noauth")
        lines += [spec, f"rouser {user} {level}"]
    (directory / "snmpd.conf").write_text("\n".join(lines) + "\n")
    persist = directory / "persist"
    persist.mkdir()
    shutil.chown(persist, "Debian-snmp", "Debian-snmp")
    log = directory / "log"
    proc = subprocess.Popen(
        ["snmpd", "-f", "-C", "-c", str(directory / "snmpd.conf"), "-Lf", str(log), "-u", "Debian-snmp",
         "-g", "Debian-snmp", "-I", "-smux,mteTrigger,mteTriggerConf"],
        env={**os.environ, "MIBS": "", "MIBDIRS": "/nonexistent", "SNMP_PERSISTENT_DIR": str(persist)},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    server = Snmpd(port, directory, proc)
    try:
        wait_for_answer(port, SNMPD_COMMUNITY, log=log)
    except SnmpServerError:
        server.stop()
        raise
    return server


# -- snmpsim ---------------------------------------------------------------------------------------


@dataclass
class SnmpSim:
    port: int
    data_dir: Path
    proc: subprocess.Popen
    directory: Path

    def stop(self) -> None:
        stop(self.proc)
        shutil.rmtree(self.directory, ignore_errors=True)


def start_snmpsim(recordings: dict[str, Iterable[str]], bundled: Iterable[str] = ()) -> SnmpSim:
    """snmpsim on a free port serving ``recordings`` (name -> .snmprec lines) and bundled recordings.

    snmpsim indexes its data directory at start, so every recording is written before it starts.
    It refuses to run as root unless SNMPSIM_ALLOW_ROOT=true (it would otherwise drop to a user who
    cannot read a Python installed under /root).
    """
    directory = Path(tempfile.mkdtemp(prefix="patrol-snmpsim-"))
    data = directory / "data"
    data.mkdir()
    port = free_udp_port()
    for name, lines in recordings.items():
        path = data / f"{name}.snmprec"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(lines) + "\n")
    for name in bundled:
        shutil.copy(SNMPSIM_DATA / "recorded" / f"{name}.snmprec", data / f"{name}.snmprec")
    log = directory / "log"
    responder = Path(sys.executable).with_name("snmpsim-command-responder")
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [str(responder), f"--data-dir={data}", f"--cache-dir={directory / 'cache'}",
             f"--agent-udpv4-endpoint=127.0.0.1:{port}", "--log-level=error", "--logging-method=null"],
            env={**os.environ, "SNMPSIM_ALLOW_ROOT": "true"}, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    sim = SnmpSim(port, data, proc, directory)
    first = next(iter(recordings), None) or next(iter(bundled))
    try:
        wait_for_answer(port, first, timeout=60, log=log)
    except SnmpServerError:
        sim.stop()
        raise
    return sim


# -- a generated 48-port switch ------------------------------------------------------------------

CISCO_SWITCH = "1.3.6.1.4.1.9.1.2066"
HUAWEI_SWITCH = "1.3.6.1.4.1.2011.2.23.96"
H3C_SWITCH = "1.3.6.1.4.1.25506.1.1038"


def switch_records(
    ports: int = 48, step: int = 0, uptime_ticks: int = 360_000_00, sys_object_id: str = CISCO_SWITCH,
    hc: bool = True, octets32_start: int = 4_000_000_000, name: str = "sw-test",
) -> list[str]:  # fmt: skip
    """A switch's walk at poll ``step``: counters grow by known amounts per step (see port_rates).

    Ports 1..(ports-8) are up; the next 4 are admin up but oper down; the last 4 are admin down. Ports
    1-2 are 10G (ifSpeed saturated, the speed only in ifHighSpeed). Index 1000 is a loopback and 1001 a
    VLAN interface. ``hc=False`` leaves out ifXTable (an old device): 32-bit octets, which start near
    2**32 so they wrap within a step or two.
    """
    rec: dict[str, tuple[int, object]] = {}

    def put(oid: str, kind: int, value: object) -> None:
        rec[oid] = (kind, value)

    put("1.3.6.1.2.1.1.1.0", 4, f"Simulated {ports}-port switch for Patrol tests")
    put("1.3.6.1.2.1.1.2.0", 6, sys_object_id)
    put("1.3.6.1.2.1.1.3.0", 67, uptime_ticks + step * 6000)
    put("1.3.6.1.2.1.1.5.0", 4, name)
    put("1.3.6.1.2.1.2.1.0", 2, ports + 2)
    indexes = list(range(1, ports + 1)) + [1000, 1001]
    for i in indexes:
        p = "1.3.6.1.2.1.2.2.1"
        x = "1.3.6.1.2.1.31.1.1.1"
        loop, vlan = i == 1000, i == 1001
        descr = "Null0" if loop else "Vlan1" if vlan else f"GigabitEthernet1/0/{i}"
        short = "Nu0" if loop else "Vl1" if vlan else f"Gi1/0/{i}"
        kind = 24 if loop else 53 if vlan else 6
        ten_g = i in (1, 2)
        admin = 2 if (not loop and not vlan and i > ports - 4) else 1
        oper = 1 if (loop or vlan or i <= ports - 8) else 2
        rates = port_rates(i) if oper == 1 else {k: 0 for k in port_rates(i)}
        put(f"{p}.1.{i}", 2, i)
        put(f"{p}.2.{i}", 4, descr)
        put(f"{p}.3.{i}", 2, kind)
        put(f"{p}.5.{i}", 66, 4294967295 if ten_g else 1_000_000_000)
        put(f"{p}.7.{i}", 2, admin)
        put(f"{p}.8.{i}", 2, oper)
        put(f"{p}.10.{i}", 65, (octets32_start + step * rates["in_octets"]) % 2**32)
        put(f"{p}.13.{i}", 65, 10 + step * rates["in_discards"])
        put(f"{p}.14.{i}", 65, 20 + step * rates["in_errors"])
        put(f"{p}.16.{i}", 65, (octets32_start + step * rates["out_octets"]) % 2**32)
        put(f"{p}.19.{i}", 65, 30 + step * rates["out_discards"])
        put(f"{p}.20.{i}", 65, 40 + step * rates["out_errors"])
        if hc:
            put(f"{x}.1.{i}", 4, short)
            put(f"{x}.6.{i}", 70, 2**40 + step * rates["in_octets"])
            put(f"{x}.10.{i}", 70, 2**41 + step * rates["out_octets"])
            put(f"{x}.15.{i}", 66, 10_000 if ten_g else 1000)
            put(f"{x}.18.{i}", 4, f"uplink {i}" if ten_g else "")
    if sys_object_id.startswith("1.3.6.1.4.1.9."):
        put("1.3.6.1.4.1.9.9.109.1.1.1.1.8.1", 66, 23)
        put("1.3.6.1.4.1.9.9.109.1.1.1.1.8.2", 66, 41)
        put("1.3.6.1.4.1.9.9.48.1.1.1.5.1", 66, 400_000_000)
        put("1.3.6.1.4.1.9.9.48.1.1.1.5.2", 66, 100_000_000)
        put("1.3.6.1.4.1.9.9.48.1.1.1.6.1", 66, 600_000_000)
        put("1.3.6.1.4.1.9.9.48.1.1.1.6.2", 66, 100_000_000)
    if sys_object_id.startswith("1.3.6.1.4.1.2011."):
        for entity, cpu, mem in ((67108867, 0, 0), (67108873, 35, 60), (67108874, 12, 48)):
            put(f"1.3.6.1.4.1.2011.5.25.31.1.1.1.1.5.{entity}", 2, cpu)
            put(f"1.3.6.1.4.1.2011.5.25.31.1.1.1.1.7.{entity}", 2, mem)
    if sys_object_id.startswith("1.3.6.1.4.1.25506."):
        for entity, cpu, mem in ((1, 0, 0), (212, 17, 71), (213, 93, 30)):
            put(f"1.3.6.1.4.1.25506.2.6.1.1.1.1.6.{entity}", 2, cpu)
            put(f"1.3.6.1.4.1.25506.2.6.1.1.1.1.8.{entity}", 2, mem)
    ordered = sorted(rec, key=lambda oid: tuple(int(n) for n in oid.split(".")))
    return [f"{oid}|{rec[oid][0]}|{rec[oid][1]}" for oid in ordered]


def port_rates(index: int) -> dict[str, int]:
    """How much each counter of port ``index`` grows per step (a step is 60 s of sysUpTime)."""
    return {
        "in_octets": 600_000 * index,  # 10 kB/s per index
        "out_octets": 1_200_000 * index,
        "in_errors": 120 if index == 3 else 0,  # port 3: 2 errors/s in (warning above 1/s)
        "out_errors": 0,
        "in_discards": 6 * index if index == 5 else 0,
        "out_discards": 0,
    }


def snmpbulkwalk(args: list[str], oid: str) -> dict[str, str]:
    """``snmpbulkwalk -m '' -On`` output as {numeric OID without leading dot: value text}."""
    r = subprocess.run(["snmpbulkwalk", "-m", "", "-On", "-Oq", "-Ot", *args, oid], capture_output=True, text=True,
                       timeout=60)  # fmt: skip
    if r.returncode != 0:
        raise SnmpServerError(f"snmpbulkwalk {oid} failed: {r.stderr.strip()}")
    out = {}
    for line in r.stdout.splitlines():
        name, _, value = line.partition(" ")
        if value.startswith(("No more variables", "No Such")):
            continue  # snmpsim answers past the end of its data with endOfMibView, which net-snmp prints
        out[name.lstrip(".")] = value.strip().strip('"')
    return out
