"""What every middleware check shares: the endpoint from the inventory and the failure mapping.

A server that refuses, resets or stays silent is CRITICAL, ``collected: false`` (as an unreachable
host is); a server that answers but refuses our credentials, or answers something unusable, is
UNKNOWN with the reason: it is up, the check could not be done. A missing or wrong inventory
variable is UNKNOWN naming the variable.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, ClassVar

from checks.base import Check, CheckContext, Outcome
from checks.middleware.http import (
    EndpointConfigError,
    EndpointDenied,
    EndpointError,
    EndpointUnreachable,
    HttpClient,
    endpoint,
)
from checks.status import Status


class MiddlewareCheck(Check):
    prefix: ClassVar[str]  # the inventory variables' prefix: "tomcat" reads tomcat_url, tomcat_user ...
    default_timeout: ClassVar[float] = 30.0
    # It reaches the server itself over HTTP: a host that does not answer SSH does not hold it back.
    own_connection: ClassVar[bool] = True

    def run(self, ctx: CheckContext, params: Any) -> Iterable[Outcome]:
        try:
            ep = endpoint(ctx, self.prefix)
        except EndpointConfigError as exc:
            yield Outcome(summary=f"cannot check: {exc}", status=Status.UNKNOWN, collected=False)
            return
        with HttpClient(ctx, ep) as client:
            try:
                yield from self.poll(ctx, client, params)
            except EndpointConfigError as exc:  # a profile or parameter only the run can check
                yield Outcome(summary=f"cannot check: {exc}", status=Status.UNKNOWN, collected=False)
            except EndpointUnreachable as exc:
                yield Outcome(summary=f"unreachable: {exc}", status=Status.CRITICAL, collected=False)
            except EndpointDenied as exc:
                yield Outcome(summary=f"access denied: {exc}", status=Status.UNKNOWN, collected=False)
            except EndpointError as exc:
                yield Outcome(summary=f"unusable answer: {exc}", status=Status.UNKNOWN, collected=False)

    def poll(self, ctx: CheckContext, client: HttpClient, params: Any) -> Iterator[Outcome]:
        raise NotImplementedError


def percent(part: float, whole: float) -> float | None:
    """part of whole in %, rounded; None where the whole is unknown (-1 or 0 from a JVM means unbounded)."""
    if whole <= 0:
        return None
    return round(100.0 * part / whole, 2)
