"""Network link checks: ICMP echo (ping), TCP connect and HTTP(S) probes, measured from where they run.

They need no connection to the target (``connection_kind`` is None): the poller runs them for agentless
targets, an agent runs them on its own host, so a link is measured from the side that matters.
"""
