"""``patrol-agent``: the host agent arrives with the collector and agent issue.

Until then, a one-shot patrol of this machine is ``patrol run playbooks/daily-patrol.yaml``, and a
single check for Nagios-compatible schedulers is ``patrol check NAME --format nagios``.
"""

from __future__ import annotations

import sys

EX_UNAVAILABLE = 69


def main() -> None:
    print(
        "patrol-agent: the host agent (scheduled checks pushed to a collector, with an on-disk spool) is not "
        "built yet.\nFor a one-shot patrol of this machine run: patrol run playbooks/daily-patrol.yaml\n"
        "For one check in Nagios format run: patrol check NAME --format nagios",
        file=sys.stderr,
    )
    sys.exit(EX_UNAVAILABLE)
