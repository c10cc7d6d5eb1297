"""How an SNMP poll can fail, in the two kinds a patrol distinguishes.

``SnmpUnreachable``: nothing answered (timeout, no route): the device is down or cut off, CRITICAL.
``SnmpError``: the device answered, but not with the data (wrong community or v3 credentials,
noSuchName, authorization errors): the check could not be done, UNKNOWN.
"""

from __future__ import annotations


class SnmpError(Exception):
    """The device answered with an error, or the request could not be made."""


class SnmpUnreachable(SnmpError):
    """No answer from the device within its timeout and retries."""


class SnmpConfigError(SnmpError):
    """An inventory variable of the target is invalid; the message names the variable."""
