"""A recorded shell for the platform checks: answers commands and files from fixtures, records the calls."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from checks.backup.shell import Completed, FileInfo
from checks.base import CheckContext
from checks.registry import default_registry
from checks.result import Result
from checks.target import Target

FIXTURES = Path(__file__).parents[2] / "fixtures" / "platform"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


class RecordedShell:
    """``answers`` maps a command line (joined by spaces) to a Completed; ``files`` a path to its bytes."""

    def __init__(self, answers: Mapping[str, Completed] | None = None, files: Mapping[str, bytes] | None = None):
        self.answers = dict(answers or {})
        self.files = dict(files or {})
        self.calls: list[tuple[list[str], dict]] = []

    def run(self, argv: Sequence[str], env: Mapping[str, str], timeout: float) -> Completed:
        self.calls.append((list(argv), dict(env)))
        key = " ".join(argv)
        if key not in self.answers:
            return Completed(127, b"", f"{argv[0]}: command not found".encode())
        return self.answers[key]

    def read_tail(self, path: str, max_bytes: int) -> tuple[FileInfo, bytes, float]:
        if path not in self.files:
            raise FileNotFoundError(2, "No such file or directory", path)
        data = self.files[path]
        return FileInfo(path, len(data), 0.0), data[-max_bytes:], 0.0


def ok(stdout: bytes | str, status: int = 0, stderr: bytes | str = b"") -> Completed:
    as_bytes = [x.encode() if isinstance(x, str) else x for x in (stdout, stderr)]
    return Completed(status, as_bytes[0], as_bytes[1])


def run(name: str, params: dict, shell: RecordedShell) -> list[Result]:
    check = default_registry().get(name)
    ctx = CheckContext(target=Target("host1", {"connection": "local"}), connections={"shell": lambda _t: shell})
    return check.execute(ctx, check.validate(params))


def by_item(results: list[Result]) -> dict[str, Result]:
    return {r.item: r for r in results}
