"""Host-side hardware and platform checks: SMART, software RAID, HA clusters, systemd units, the clock.

Each runs commands or reads files through the "shell" connection (checks/backup/shell.py): on this
machine for an agent or a ``connection: local`` target, over SSH for an agentless one. The parsing
is in pure functions, tested on recorded outputs.
"""
