"""Backup job checks: backup files, job logs, restic, borg and pgBackRest.

They all look at the host that holds the backups through a ``Shell`` (``checks.backup.shell``): the
local machine (an agent, or a ``connection: local`` target) or the same host over SSH, so one logic
serves both.
"""
