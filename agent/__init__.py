"""The Patrol host agent (``patrol-agent``): runs this host's share of the playbooks, spools every
result to disk and pushes batches to the collector. It imports ``checks`` and nothing from
``collector``; see docs/agent.md.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("patrol")
except PackageNotFoundError:  # a source tree that was never installed
    __version__ = "0+unknown"
