"""SNMP connection settings of a target, read from its inventory variables.

Secrets (``snmp_community``, ``snmp_auth_key``, ``snmp_priv_key``) are references resolved through
``Target.secret`` so the scrubber knows them before any message is written; they are never part of
``repr`` or of an error message.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from checks.secrets import Scrubber
from checks.snmp.errors import SnmpConfigError
from checks.target import Target

VERSIONS = ("1", "2c", "3")
# Accepted spellings -> the canonical name used to pick the pysnmp protocol.
AUTH_PROTOCOLS = {
    "MD5": "MD5", "SHA": "SHA", "SHA1": "SHA", "SHA-1": "SHA",
    "SHA224": "SHA224", "SHA-224": "SHA224", "SHA256": "SHA256", "SHA-256": "SHA256",
    "SHA384": "SHA384", "SHA-384": "SHA384", "SHA512": "SHA512", "SHA-512": "SHA512",
}  # fmt: skip
PRIV_PROTOCOLS = {
    "DES": "DES", "3DES": "3DES", "AES": "AES", "AES128": "AES", "AES-128": "AES",
    "AES192": "AES192", "AES-192": "AES192", "AES256": "AES256", "AES-256": "AES256",
}  # fmt: skip

DEFAULT_PORT = 161
DEFAULT_TIMEOUT = 2.0  # seconds per request try
DEFAULT_RETRIES = 1
DEFAULT_MAX_REPETITIONS = 25  # snmp_exporter's default too


def is_snmp_device(target: Target) -> bool:
    """A target polled by SNMP only: ``connection: snmp``, or SNMP variables without another connection.

    ``snmp_version`` or ``snmp_community`` mark a network device (switch, router, UPS): such targets are
    not reached over SSH unless the inventory sets ``connection: ssh`` (or ``local``) explicitly, so a
    host that is both polled over SNMP and checked over SSH keeps working.
    """
    explicit = target.vars.get("connection") or target.vars.get("ansible_connection")
    if explicit:
        return explicit == "snmp"
    return target.vars.get("snmp_version") is not None or target.vars.get("snmp_community") is not None


@dataclass(frozen=True)
class SnmpSettings:
    address: str
    port: int = DEFAULT_PORT
    version: str = "2c"
    community: str | None = field(default=None, repr=False)
    user: str | None = None
    auth_protocol: str | None = None
    auth_key: str | None = field(default=None, repr=False)
    priv_protocol: str | None = None
    priv_key: str | None = field(default=None, repr=False)
    context: str = ""
    timeout: float = DEFAULT_TIMEOUT
    retries: int = DEFAULT_RETRIES
    max_repetitions: int = DEFAULT_MAX_REPETITIONS

    @property
    def endpoint(self) -> str:
        return f"{self.address}:{self.port}"

    @property
    def security_level(self) -> str:
        if self.version != "3":
            return "community"
        if self.priv_key:
            return "authPriv"
        return "authNoPriv" if self.auth_key else "noAuthNoPriv"

    def credential_key(self) -> str:
        """Identifies a v3 credential set without revealing it (one pysnmp engine per set, see loop.py)."""
        material = "\0".join(str(x) for x in (self.user, self.auth_protocol, self.auth_key, self.priv_protocol,
                                               self.priv_key))
        return hashlib.sha256(material.encode()).hexdigest()[:16]

    def describe(self) -> str:
        if self.version == "3":
            return f"SNMPv3 {self.security_level} user {self.user!r} at {self.endpoint}"
        return f"SNMPv{self.version} at {self.endpoint}"

    @classmethod
    def from_target(cls, target: Target, scrubber: Scrubber | None = None) -> SnmpSettings:
        """Read and check every snmp_* variable; raise SnmpConfigError listing each bad one by name."""
        v = target.vars
        problems: list[str] = []

        def number(key: str, default: float, kind: type, low: float, high: float) -> Any:
            raw = v.get(key)
            if raw is None:
                return default
            try:
                value = kind(raw)
                if isinstance(raw, bool) or not low <= value <= high or (kind is int and float(raw) != value):
                    raise ValueError
            except (TypeError, ValueError):
                problems.append(f"{key}: expected a number from {low:g} to {high:g}, got {raw!r}")
                return default
            return value

        version = str(v.get("snmp_version") or "2c")
        if version not in VERSIONS:
            problems.append(f"snmp_version: expected one of '1', '2c', '3', got {v.get('snmp_version')!r}")
        port = number("snmp_port", DEFAULT_PORT, int, 1, 65535)
        timeout = number("snmp_timeout", DEFAULT_TIMEOUT, float, 0.05, 120)
        retries = number("snmp_retries", DEFAULT_RETRIES, int, 0, 10)
        repetitions = number("snmp_max_repetitions", DEFAULT_MAX_REPETITIONS, int, 1, 200)
        context = str(v.get("snmp_context") or "")
        community = user = auth_protocol = auth_key = priv_protocol = priv_key = None
        if version in ("1", "2c"):
            if v.get("snmp_community") is None:
                problems.append(f"snmp_community: required for SNMPv{version} (a secret reference such as "
                                "{env: SNMP_COMMUNITY})")
            else:
                community = target.secret("snmp_community", scrubber)
        elif version == "3":
            user = v.get("snmp_user")
            if not isinstance(user, str) or not user.strip():
                problems.append("snmp_user: required for SNMPv3")
            if v.get("snmp_auth_key") is not None:
                auth_key = target.secret("snmp_auth_key", scrubber)
                auth_protocol = _protocol(v, "snmp_auth_protocol", AUTH_PROTOCOLS, "SHA", problems)
            elif v.get("snmp_auth_protocol") is not None:
                problems.append("snmp_auth_key: required when snmp_auth_protocol is set")
            if v.get("snmp_priv_key") is not None:
                if auth_key is None:
                    problems.append("snmp_auth_key: SNMPv3 privacy (snmp_priv_key) needs authentication too")
                priv_key = target.secret("snmp_priv_key", scrubber)
                priv_protocol = _protocol(v, "snmp_priv_protocol", PRIV_PROTOCOLS, "AES", problems)
            elif v.get("snmp_priv_protocol") is not None:
                problems.append("snmp_priv_key: required when snmp_priv_protocol is set")
            for key, secret in (("snmp_auth_key", auth_key), ("snmp_priv_key", priv_key)):
                if secret is not None and len(secret) < 8:  # RFC 3414: pysnmp and net-snmp refuse shorter keys
                    problems.append(f"{key}: SNMPv3 pass phrases must be at least 8 characters")
        if problems:
            raise SnmpConfigError(f"{target.name}: " + "; ".join(problems))
        return cls(
            address=target.address, port=port, version=version, community=community, user=user,
            auth_protocol=auth_protocol, auth_key=auth_key, priv_protocol=priv_protocol, priv_key=priv_key,
            context=context, timeout=timeout, retries=retries, max_repetitions=repetitions,
        )  # fmt: skip


def _protocol(v: Any, key: str, known: dict[str, str], default: str, problems: list[str]) -> str:
    raw = v.get(key)
    if raw is None:
        return default
    name = known.get(str(raw).strip().upper())
    if name is None:
        problems.append(f"{key}: expected one of {', '.join(sorted(set(known.values())))}, got {raw!r}")
        return default
    return name
