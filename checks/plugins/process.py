"""Running a program with a hard deadline: the whole process group is killed when it expires.

A plugin is often a shell script whose children (``sleep``, ``curl``, ``ssh``) inherit its stdout; killing
only the script would leave them holding the pipe open and the read would hang on. So the program runs
in a session of its own and the deadline kills that process group.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

# Plugins answer in a few lines; a runaway one must not fill the collector's memory.
OUTPUT_LIMIT = 64 * 1024


@dataclass(frozen=True)
class Finished:
    exit_status: int  # negative: killed by that signal, as subprocess reports it
    stdout: str
    stderr: str


class ProcessTimedOut(TimeoutError):
    pass


def run_program(
    argv: Sequence[str], timeout: float, env: Mapping[str, str] | None = None, cwd: str | None = None
) -> Finished:
    """Run ``argv`` (no shell) and return its exit status and output; raise ProcessTimedOut on expiry."""
    proc = subprocess.Popen(  # noqa: S603 - argv is a list, never a shell string
        list(argv),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=dict(env) if env is not None else None,
        cwd=cwd,
        start_new_session=True,  # its own process group, so the deadline reaches its children too
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        proc.communicate()  # reap it; the pipes close once the whole group is gone
        raise ProcessTimedOut(f"{argv[0]} did not finish within {timeout:g} s and was killed") from None
    except BaseException:
        _kill_group(proc)
        proc.wait()
        raise
    return Finished(proc.returncode, _text(out), _text(err))


def _kill_group(proc: subprocess.Popen) -> None:
    # Only called before the plugin is reaped, so its pid (the group id) cannot have been reused.
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass  # already gone


def _text(data: bytes) -> str:
    return data[:OUTPUT_LIMIT].decode("utf-8", "replace")
