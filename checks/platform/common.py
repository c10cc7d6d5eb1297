"""What the platform checks share: running a tool on the host (optionally under ``sudo -n``)."""

from __future__ import annotations

import os
from collections.abc import Sequence

from checks.backup.shell import Completed, Shell
from checks.base import CheckContext
from checks.errors import CheckUnavailable

# Tools answer in English and with '.' decimals whatever the host's locale.
_ENV = {"LC_ALL": "C"}


def shell_for(ctx: CheckContext) -> Shell:
    return ctx.connection("shell")


def run_tool(ctx: CheckContext, argv: Sequence[str], sudo: bool = False) -> Completed:
    """Run ``argv`` on the host within what is left of the check's time.

    CheckUnavailable when the program is not installed, or when ``sudo -n`` refuses (no sudoers rule:
    sudo would have to ask for a password, which a patrol never types).
    """
    program = os.path.basename(argv[0])
    full = ["sudo", "-n", *argv] if sudo else list(argv)
    left = max(0.1, ctx.remaining() - 1.0)  # keep a moment to report the timeout as this check's own
    done = shell_for(ctx).run(full, _ENV, left)
    error = done.error_text()
    if done.exit_status == 127:
        what = "sudo" if sudo and "sudo" in error.split(":")[0] else program
        where = "" if "/" in argv[0] else " or not on the patrol user's PATH"
        raise CheckUnavailable(f"{what} is not installed on the host{where} ({error or 'command not found'})")
    if sudo and done.exit_status == 1 and error.startswith("sudo:"):
        raise CheckUnavailable(
            f"sudo -n refused to run {program} (add a sudoers rule for the patrol user, see docs/hardware.md): {error}"
        )
    return done

