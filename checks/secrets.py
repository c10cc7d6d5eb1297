"""Secrets by reference: ``{env: NAME}`` or ``{file: PATH}``, resolved at run time, never logged or stored.

Anything holding a resolved secret registers it with a Scrubber, which removes it from every
message a check produces.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

REDACTED = "***"


class SecretError(Exception):
    """A secret reference that cannot be resolved (unset variable, unreadable file)."""


# A variable is secret by its name, so a password is caught even in a variable Patrol does not know.
SECRET_SUFFIXES = ("_password", "_community", "_auth_key", "_priv_key", "_token", "_secret")
SECRET_NAMES = frozenset({"ssh_password", "snmp_community"})


def is_secret(name: str) -> bool:
    return name in SECRET_NAMES or name.endswith(SECRET_SUFFIXES)


def is_reference(value: Any) -> bool:
    return isinstance(value, Mapping) and len(value) == 1 and next(iter(value)) in ("env", "file")


def reference_problem(value: Any) -> str | None:
    """What is wrong with a value that should be a secret reference, or None if it is one."""
    if is_reference(value):
        inner = next(iter(value.values()))
        if not isinstance(inner, str) or not inner.strip():
            return f"the {next(iter(value))!r} of a secret reference must be a non-empty string"
        return None
    if isinstance(value, str):
        return "secrets may not be written inline: use {env: VARIABLE} or {file: /path/to/secret}"
    return "expected a secret reference: {env: VARIABLE} or {file: /path/to/secret}"


def describe(reference: Mapping[str, str]) -> str:
    kind, where = next(iter(reference.items()))
    return f"environment variable {where}" if kind == "env" else f"file {where}"


def resolve(reference: Mapping[str, str], environ: Mapping[str, str] | None = None) -> str:
    """Return the secret a reference points at. Trailing newlines of a file are dropped."""
    problem = reference_problem(reference)
    if problem:
        raise SecretError(problem)
    kind, where = next(iter(reference.items()))
    if kind == "env":
        env = os.environ if environ is None else environ
        value = env.get(where)
        if value is None:
            raise SecretError(f"environment variable {where} is not set")
        if value == "":
            raise SecretError(f"environment variable {where} is empty")
        return value
    path = Path(where).expanduser()
    try:
        value = path.read_text(encoding="utf-8").rstrip("\r\n")
    except FileNotFoundError:
        raise SecretError(f"secret file {path} does not exist") from None
    except PermissionError:
        raise SecretError(f"secret file {path} is not readable by this user") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SecretError(f"secret file {path} cannot be read: {exc.__class__.__name__}") from None
    if not value:
        raise SecretError(f"secret file {path} is empty")
    return value


# Credentials that show up in connection strings and error texts even when we never resolved them.
_INLINE = re.compile(r"(?i)\b(password|passwd|pwd|secret|token|community|auth_key|priv_key)(\s*[=:]\s*)([^\s,;&'\"]+)")
_URL_CREDENTIALS = re.compile(r"(?i)([a-z][a-z0-9+.-]*://[^:/@\s]+:)([^@\s]+)(@)")


class Scrubber:
    """Removes known secret values and credential-looking fragments from text."""

    def __init__(self) -> None:
        self._secrets: set[str] = set()
        self._lock = threading.Lock()

    def add(self, secret: str) -> None:
        if secret and len(secret) >= 3:  # shorter strings would mangle ordinary words
            with self._lock:
                self._secrets.add(secret)

    def scrub(self, text: str) -> str:
        with self._lock:
            secrets = sorted(self._secrets, key=len, reverse=True)
        for secret in secrets:
            text = text.replace(secret, REDACTED)
        text = _URL_CREDENTIALS.sub(lambda m: m.group(1) + REDACTED + m.group(3), text)
        return _INLINE.sub(lambda m: m.group(1) + m.group(2) + REDACTED, text)
