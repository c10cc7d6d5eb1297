"""Checks on inventory variables: the connection vocabulary Patrol reads, and secrets by reference only.

Variables we do not know pass untouched: Ansible inventories carry many for other tools. A null
value means "not set" (as ``Target`` reads it) and is always accepted.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from checks.errors import Path, Problem
from checks.redfish.client import AUTH_MODES, fingerprint_problem
from checks.secrets import is_secret, reference_problem

# The report's sections, in the order it shows them (inventory variable ``patrol_category``).
REPORT_CATEGORIES = ("hosts", "hardware", "network", "databases", "middleware", "backups", "links")

Rule = Callable[[Any], "str | None"]


def check_vars(variables: Mapping[Any, Any], path: Path, problems: list[Problem]) -> None:
    """Append a problem for every variable in ``variables`` that breaks the vocabulary."""
    for name, value in variables.items():
        where = path + (name,)
        if not isinstance(name, str):
            problems.append(Problem(where, f"variable names must be text, got {name!r}"))
            continue
        if value is None:
            continue
        if is_secret(name):
            # Never echo the value: it may be the very secret that should not be in the file.
            message = reference_problem(value)
        else:
            rule = RULES.get(name)
            message = rule(value) if rule else None
            if message:
                message += f" (got {value!r})"
        if message:
            problems.append(Problem(where, message))


def _text(value: Any) -> str | None:
    return None if isinstance(value, str) and value.strip() else "expected a non-empty string"


def _port(value: Any) -> str | None:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)  # Ansible inventories often quote ports; Target.port reads them as int
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        return "expected a port number from 1 to 65535"
    return None


def _count(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return "expected a whole number, 0 or more"
    return None


def _flag(value: Any) -> str | None:
    return None if isinstance(value, bool) else "expected true or false"


def _one_of(*options: str) -> Rule:
    def rule(value: Any) -> str | None:
        if value in options and isinstance(value, str):
            return None
        return "expected one of " + ", ".join(repr(option) for option in options)

    return rule


def _seconds(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 600:
        return "expected a number of seconds, more than 0 and at most 600"
    return None


def _snmp_version(value: Any) -> str | None:
    # YAML reads an unquoted 1 or 3 as a number; take it as the version it obviously means.
    if value in ("1", "2c", "3") and isinstance(value, str):
        return None
    if value in (1, 3) and isinstance(value, int) and not isinstance(value, bool):
        return None
    return "expected one of '1', '2c', '3'"


def _url(value: Any) -> str | None:
    if isinstance(value, str) and value.startswith(("http://", "https://")) and len(value) > len("https://"):
        return None
    return "expected an http:// or https:// URL"


def _names(value: Any) -> str | None:
    if isinstance(value, str) and value.strip():
        return None
    if isinstance(value, list) and value and all(isinstance(v, str) and v.strip() for v in value):
        return None
    return "expected a host name or a list of host names"


RULES: dict[str, Rule] = {
    "ansible_host": _text,
    "ansible_port": _port,
    "ansible_user": _text,
    "connection": _one_of("local", "ssh", "snmp", "http"),
    # Ansible's own variable: existing inventories use winrm, network_cli ... and must load as they are.
    "ansible_connection": _text,
    "patrol_category": _one_of(*REPORT_CATEGORIES),
    "patrol_agent": _flag,
    "patrol_parents": _names,  # the targets this one depends on (events: a down parent suppresses)
    "ssh_private_key_file": _text,
    "ssh_known_hosts": _text,
    # "tofu" and OpenSSH's name for it, "accept-new": trust an unknown host's key on first use.
    "ssh_host_key_policy": _one_of("strict", "tofu", "accept-new"),
    "ssh_timeout": _seconds,
    "ssh_jump_host": _text,
    "snmp_version": _snmp_version,
    "snmp_port": _port,
    "snmp_user": _text,
    "snmp_auth_protocol": _text,
    "snmp_priv_protocol": _text,
    "snmp_context": _text,
    "snmp_timeout": _seconds,
    "snmp_retries": _count,
    "snmp_max_repetitions": _count,
    "http_user": _text,  # basic auth user of the http check (its password: http_password, a secret reference)
    **{f"{engine}_port": _port for engine in ("postgres", "mysql", "oracle")},
    # Middleware management endpoints (checks.middleware.http): base URL, user, CA file, timeout.
    **{f"{kind}_{key}": rule for kind in ("tomcat", "jolokia", "weblogic")
       for key, rule in (("url", _url), ("user", _text), ("ca_file", _text), ("timeout", _seconds))},
    # A BMC's Redfish service (checks.redfish): like the middleware endpoints, plus how it logs in and the
    # SHA-256 fingerprint pinning its self-signed certificate (redfish_password: a secret reference).
    **{f"redfish_{key}": rule for key, rule in (("url", _url), ("user", _text), ("ca_file", _text),
                                                ("timeout", _seconds))},
    "redfish_auth": _one_of(*AUTH_MODES),
    "redfish_fingerprint": fingerprint_problem,
    **{f"{engine}_{key}": _text for engine in ("postgres", "mysql", "oracle") for key in ("host", "user")},
}
