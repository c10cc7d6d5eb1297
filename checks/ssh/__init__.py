"""Agentless access to Linux hosts over SSH (paramiko, the ``ssh`` extra).

- ``settings``: the inventory variables of a target, validated, every problem named by its variable;
- ``connection``: one verified, authenticated connection (host key checked before authentication);
- ``pool``: the connections of one run, one per target, closed when the run ends;
- ``procfs``: a HostSource reading /proc and ``df -P`` over a connection, so host checks run unchanged;
- ``command``: the ``ssh_command`` check (Nagios-style exit codes and performance data).

paramiko is imported only by ``connection``, so the rest loads where the extra is not installed.
"""
