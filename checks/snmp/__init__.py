"""SNMP polling: settings from inventory variables, an asyncio client on pysnmp 7, and the snmp_* checks.

pysnmp is an optional dependency (the ``snmp`` extra): only ``client`` and ``loop`` import it, so the
pure parts (settings, OID helpers, profiles, counter logic) load and test without it.
"""
