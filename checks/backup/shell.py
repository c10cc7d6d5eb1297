"""Where the backup checks look: a ``Shell`` on the host that holds the backups.

A shell lists files, reads the tail of a file and runs a command with extra environment variables.
``LocalShell`` does it on this machine (an agent, or a ``connection: local`` target); ``SshShell``
does the same over the run's SSH connection to an agentless target. Both return the same plain
records, so a backup check never knows which one it uses, and tests can feed either.

Secrets (repository passwords) travel only in the environment of the command: locally through
``Popen(env=...)``; over SSH on the command's stdin, read by ``sh`` into its environment before it
execs the tool, because sshd accepts only the environment variables its ``AcceptEnv`` names and a
command line is visible to every user of the host (``ps``).
"""

from __future__ import annotations

import fnmatch
import os
import re
import shlex
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from checks.target import Target


@dataclass(frozen=True)
class FileInfo:
    path: str
    size: int  # bytes
    mtime: float  # seconds since the epoch, the clock of the host holding the file


@dataclass(frozen=True)
class Listing:
    files: list[FileInfo]
    now: float  # that host's clock when it listed them: ages never mix two machines' clocks


@dataclass(frozen=True)
class Completed:
    exit_status: int  # 127 when the program does not exist, as a shell says
    stdout: bytes
    stderr: bytes

    def error_text(self, limit: int = 500) -> str:
        """stderr as one readable line, without the stack traces Go tools (restic) print after their error."""
        lines = [
            line.strip()
            for line in self.stderr.decode("utf-8", "replace").splitlines()
            if line.strip() and not line[:1].isspace() and not _GO_FRAME.match(line.strip())
        ]
        text = " ".join(lines)
        return text if len(text) <= limit else text[: limit - 3] + "..."


# A Go stack frame's function line ("main.open", "github.com/spf13/cobra.(*Command).execute"); its
# location line ("\tgithub.com/.../global.go:760") starts with a tab.
_GO_FRAME = re.compile(r"^[\w][\w.\-/]*\.[\w.*()\-]+$")


class CommandTimedOut(TimeoutError):
    def __init__(self, program: str, timeout: float) -> None:
        super().__init__(f"{program} did not finish within {timeout:g} s")


class Shell(Protocol):
    def list_files(self, directory: str, pattern: str, recursive: bool = False) -> Listing:
        """Regular files under ``directory`` whose name matches the glob ``pattern``.

        Raises FileNotFoundError when the directory does not exist, PermissionError when it cannot be read.
        """

    def read_tail(self, path: str, max_bytes: int) -> tuple[FileInfo, bytes, float]:
        """The file's details, its last ``max_bytes`` bytes, and the host's clock."""

    def run(self, argv: Sequence[str], env: Mapping[str, str], timeout: float) -> Completed:
        """Run ``argv`` with ``env`` added to its environment; CommandTimedOut after ``timeout`` seconds."""


# -- on this machine -----------------------------------------------------------------------------


class LocalShell:
    def list_files(self, directory: str, pattern: str, recursive: bool = False) -> Listing:
        if not os.path.isdir(directory):
            if os.path.exists(directory):
                raise NotADirectoryError(20, "Not a directory", directory)
            raise FileNotFoundError(2, "No such file or directory", directory)
        files = []
        def unreadable(exc: OSError) -> None:
            if exc.filename == directory:  # the job's own directory; a subdirectory is skipped, as find does
                raise exc

        for root, dirs, names in os.walk(directory, onerror=unreadable):
            for name in names:
                if not fnmatch.fnmatchcase(name, pattern):
                    continue
                path = os.path.join(root, name)
                try:
                    st = os.stat(path, follow_symlinks=False)
                except FileNotFoundError:
                    continue  # removed while we listed (rotation): not a backup any more
                if _is_regular(st.st_mode):
                    files.append(FileInfo(path, st.st_size, st.st_mtime))
            if not recursive:
                dirs.clear()
        return Listing(files, time.time())

    def read_tail(self, path: str, max_bytes: int) -> tuple[FileInfo, bytes, float]:
        with open(path, "rb") as fh:
            st = os.fstat(fh.fileno())
            if st.st_size > max_bytes:
                fh.seek(st.st_size - max_bytes)
            data = fh.read(max_bytes)
        return FileInfo(path, st.st_size, st.st_mtime), data, time.time()

    def run(self, argv: Sequence[str], env: Mapping[str, str], timeout: float) -> Completed:
        try:
            proc = subprocess.Popen(
                list(argv),
                env={**os.environ, **env},
                stdin=subprocess.DEVNULL,  # never a prompt: a tool asking for a password fails instead
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,  # its own process group, so a timeout kills its children too
            )
        except FileNotFoundError:
            return Completed(127, b"", f"{argv[0]}: command not found".encode())
        except PermissionError:
            return Completed(126, b"", f"{argv[0]}: permission denied".encode())
        try:
            stdout, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            raise CommandTimedOut(os.path.basename(argv[0]), timeout) from None
        return Completed(proc.returncode, stdout, stderr)


def _is_regular(mode: int) -> bool:
    import stat

    return stat.S_ISREG(mode)


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    try:
        proc.communicate(timeout=5)
    except subprocess.TimeoutExpired:  # stuck in the kernel (a hung mount): leave it, do not wait
        pass


_local = LocalShell()


def local_shell(_target: object = None) -> LocalShell:
    """A ``CheckContext.connections['shell']`` factory for the machine this process runs on."""
    return _local


# -- over SSH ------------------------------------------------------------------------------------

# Exit codes our wrapper scripts use for "missing" and "not readable": distinct from the tools' own.
_MISSING, _UNREADABLE, _NOT_DIR = 64, 65, 66
_CHECKS = f'[ -e "$1" ] || exit {_MISSING}; [ -r "$1" ] || exit {_UNREADABLE}; '
# Reads NAME=value lines from stdin into the environment, then runs the tool under coreutils
# timeout: closing the SSH channel alone does not stop a remote command that hangs.
_WITH_ENV = 'while IFS= read -r kv; do export "$kv"; done; t=$1; shift; exec timeout -k 2 "$t" "$@"'


class SshShell:
    def __init__(self, conn: Any, timeout: float = 30.0) -> None:
        self._conn = conn
        self.timeout = timeout  # for listings and reads, which are quick unless the host is in trouble

    def list_files(self, directory: str, pattern: str, recursive: bool = False) -> Listing:
        depth = "" if recursive else "-maxdepth 1 "
        script = (
            f'date +%s.%N; {_CHECKS}[ -d "$1" ] || exit {_NOT_DIR}; '
            f'find "$1"/ -mindepth 1 {depth}-type f -name "$2" -printf "%T@ %s %p\\0"'
        )
        done = self._sh(script, [directory, pattern])
        self._raise_for(done, directory)
        head, _, body = done.stdout.partition(b"\n")
        files = []
        for entry in body.split(b"\0"):
            if not entry.strip():
                continue
            mtime, size, path = entry.decode("utf-8", "surrogateescape").split(" ", 2)
            files.append(FileInfo(os.path.normpath(path), int(size), float(mtime)))
        if done.exit_status != 0 and not files:
            raise OSError(f"cannot list {directory}: {done.error_text() or f'exit {done.exit_status}'}")
        return Listing(files, float(head))

    def read_tail(self, path: str, max_bytes: int) -> tuple[FileInfo, bytes, float]:
        script = f'date +%s.%N; {_CHECKS}stat -L -c "%s %Y" -- "$1" && tail -c "$2" -- "$1"'
        done = self._sh(script, [path, str(int(max_bytes))])
        self._raise_for(done, path)
        if done.exit_status != 0:
            raise OSError(f"cannot read {path}: {done.error_text() or f'exit {done.exit_status}'}")
        now, _, rest = done.stdout.partition(b"\n")
        details, _, data = rest.partition(b"\n")
        size, mtime = details.split()
        return FileInfo(path, int(size), float(mtime)), data, float(now)

    def run(self, argv: Sequence[str], env: Mapping[str, str], timeout: float) -> Completed:
        stdin = "".join(f"{name}={value}\n" for name, value in env.items()).encode()
        command = "sh -c " + shlex.quote(_WITH_ENV) + " sh " + shlex.join([f"{timeout:g}", *argv])
        try:
            # A little longer than the remote timeout, so the remote side reports first when it can.
            done = self._conn.run(command, timeout=timeout + 3, stdin=stdin)
        except TimeoutError:
            raise CommandTimedOut(os.path.basename(argv[0]), timeout) from None
        if done.exit_status in (124, 137):  # coreutils timeout: TERM (124), or KILL after the grace
            raise CommandTimedOut(os.path.basename(argv[0]), timeout)
        return Completed(done.exit_status, done.stdout, done.stderr)

    def _sh(self, script: str, args: list[str]) -> Completed:
        command = "LC_ALL=C sh -c " + shlex.quote(script) + " sh " + shlex.join(args)
        done = self._conn.run(command, timeout=self.timeout)
        return Completed(done.exit_status, done.stdout, done.stderr)

    @staticmethod
    def _raise_for(done: Completed, path: str) -> None:
        if done.exit_status == _MISSING:
            raise FileNotFoundError(2, "No such file or directory", path)
        if done.exit_status == _UNREADABLE:
            raise PermissionError(13, "Permission denied", path)
        if done.exit_status == _NOT_DIR:
            raise NotADirectoryError(20, "Not a directory", path)


def ssh_shell(connect: Any):
    """A ``connections['shell']`` factory over ``connect(target)`` (the run's SSH connection)."""

    def factory(target: Target) -> SshShell:
        return SshShell(connect(target), timeout=float(target.vars.get("ssh_timeout") or 30.0))

    return factory
