"""Configuration problems, reported all at once with where they are and what was expected."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a configuration value.

    ``path`` locates the value inside its document (``("tasks", 0, "checks", 1, "disk", "warning")``);
    ``file`` and ``line`` are filled in by whoever knows the document the value came from.
    """

    path: Path
    message: str
    file: str | None = None
    line: int | None = None

    def located(self, file: str | None, line: int | None) -> Problem:
        return Problem(self.path, self.message, file, line)

    def __str__(self) -> str:
        where = ""
        if self.file:
            where = self.file + (f":{self.line}" if self.line else "") + ": "
        field_ = format_path(self.path)
        return f"{where}{field_ + ': ' if field_ else ''}{self.message}"


def format_path(path: Path) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


@dataclass
class ConfigError(Exception):
    """Raised with every problem found, never just the first."""

    problems: Sequence[Problem] = field(default_factory=list)

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)

    @classmethod
    def single(cls, message: str, file: str | None = None, line: int | None = None) -> ConfigError:
        return cls([Problem((), message, file, line)])


class CheckUnavailable(Exception):
    """A check exists but cannot run here (a missing optional dependency, an unsupported OS)."""
