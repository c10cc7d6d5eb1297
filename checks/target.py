"""A target: one inventory host with its merged variables, as a check sees it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from checks import secrets
from checks.secrets import Scrubber, SecretError

LOCAL = "local"


@dataclass(frozen=True)
class Target:
    name: str
    vars: Mapping[str, Any] = field(default_factory=dict)
    groups: tuple[str, ...] = ()

    @property
    def connection(self) -> str:
        """How the target is reached: ``local`` (in process), or ``ssh`` (the default, as in Ansible)."""
        return str(self.vars.get("connection") or self.vars.get("ansible_connection") or "ssh")

    @property
    def is_local(self) -> bool:
        return self.connection == LOCAL

    @property
    def has_agent(self) -> bool:
        return self.vars.get("patrol_agent") is True

    @property
    def address(self) -> str:
        return str(self.vars.get("ansible_host") or self.name)

    def port(self, default: int) -> int:
        return int(self.vars.get("ansible_port") or default)

    def secret_keys(self) -> list[str]:
        return [key for key, value in self.vars.items() if secrets.is_reference(value)]

    def secret(self, key: str, scrubber: Scrubber | None = None) -> str | None:
        """Resolve the secret in variable ``key`` (None if the variable is unset)."""
        value = self.vars.get(key)
        if value is None:
            return None
        try:
            resolved = secrets.resolve(value)
        except SecretError as exc:
            raise SecretError(f"{self.name}: {key}: {exc}") from None
        if scrubber is not None:
            scrubber.add(resolved)
        return resolved


LOCALHOST = Target("localhost", {"connection": LOCAL})
