"""A real Redfish service for the tests: OpenStack's sushy-emulator with its fake driver, on loopback.

It serves a chassis with a Thermal resource (two temperatures with thresholds, two fans in RPM), one
system with a health rollup, and the storage controllers and drives its configuration describes. It
runs over HTTPS with a certificate the test makes (signed by a test CA the client does not trust unless
told to), with HTTP basic auth from a bcrypt htpasswd file. It has no power supplies and no session
service: those are tested with recorded responses (tests/fixtures/redfish/).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import bcrypt
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

SYSTEM_UUID = "27946b59-9e44-4fa7-8e91-f3527a1ef094"  # the fake driver's default system
USER = "patrol-ro"
PASSWORD = "test-only-bmc-password"  # a test-only value, written to the htpasswd file as a bcrypt hash
DRIVE_ID = "32ADF365C6C1B7BD"

STORAGE = {SYSTEM_UUID: [{"Id": "1", "Name": "Local Storage Controller",
                           "StorageControllers": [{"MemberId": "0", "Name": "Contoso Integrated RAID",
                                                   "SpeedGbps": 12}],
                           "Drives": [DRIVE_ID]}]}  # fmt: skip
DRIVES = {(SYSTEM_UUID, "1"): [{"Id": DRIVE_ID, "Name": "Drive Sample", "CapacityBytes": 899527000000,
                                "Protocol": "SAS"}]}  # fmt: skip


def emulator_config(auth_file: Path) -> str:
    """The emulator's configuration file (Python, read by Flask's from_pyfile)."""
    return "\n".join([
        "SUSHY_EMULATOR_FAKE_DRIVER = True",
        f"SUSHY_EMULATOR_AUTH_FILE = {str(auth_file)!r}",
        f"SUSHY_EMULATOR_STORAGE = {STORAGE!r}",
        f"SUSHY_EMULATOR_DRIVES = {DRIVES!r}",
    ]) + "\n"  # fmt: skip


class RedfishServerError(RuntimeError):
    pass


@dataclass
class Pki:
    ca_file: Path
    cert_file: Path
    key_file: Path
    fingerprint: str  # SHA-256 of the server certificate's DER form, hex
    fingerprint_colons: str  # the same as openssl prints it: AB:CD:...


def make_pki(directory: Path) -> Pki:
    """A test CA and a server certificate for 127.0.0.1 signed by it."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Patrol test BMC CA")])
    ca = (
        x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(ca_key, hashes.SHA256())
    )  # fmt: skip
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "bmc.test")]))
        .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                       critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )  # fmt: skip
    pki = Pki(directory / "ca.pem", directory / "bmc.pem", directory / "bmc.key", "", "")
    pki.ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    pki.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    pki.key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))  # fmt: skip
    digest = hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()
    pki.fingerprint = digest
    pki.fingerprint_colons = ":".join(digest[i:i + 2] for i in range(0, 64, 2)).upper()
    return pki


@dataclass
class Emulator:
    port: int
    directory: Path
    proc: subprocess.Popen
    pki: Pki

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        shutil.rmtree(self.directory, ignore_errors=True)


def free_tcp_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_emulator() -> Emulator:
    emulator_bin = Path(sys.executable).with_name("sushy-emulator")
    if not emulator_bin.exists():
        raise RedfishServerError(f"{emulator_bin} is missing: install the test extra (pip install sushy-tools)")
    directory = Path(tempfile.mkdtemp(prefix="patrol-redfish-"))
    pki = make_pki(directory)
    auth_file = directory / "htpasswd"
    auth_file.write_text(f"{USER}:{bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()}\n")
    config = directory / "emulator.conf"
    config.write_text(emulator_config(auth_file))
    port = free_tcp_port()
    log = directory / "log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [str(emulator_bin), "--config", str(config), "--fake", "-i", "127.0.0.1", "-p", str(port),
             "--ssl-certificate", str(pki.cert_file), "--ssl-key", str(pki.key_file)],
            stdout=out, stderr=subprocess.STDOUT, env={**os.environ, "SUSHY_EMULATOR_CONFIG": str(config)},
        )  # fmt: skip
    server = Emulator(port, directory, proc, pki)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        try:
            if requests.get(f"{server.url}/redfish/v1/", verify=str(pki.ca_file), timeout=1).status_code == 200:
                return server
        except requests.RequestException:
            pass
        time.sleep(0.2)
    tail = log.read_text(errors="replace")[-2000:]
    server.stop()
    raise RedfishServerError(f"sushy-emulator did not answer on 127.0.0.1:{port} within 30 s\n{tail}")
