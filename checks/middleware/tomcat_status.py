"""Tomcat's manager status page (``/manager/status?XML=true``), fetched and parsed.

The page needs a user with the ``manager-status`` role. Its XML is read with the standard library's
parser after refusing any DOCTYPE: a status page never has one, and without a DTD there are no
entities to expand or fetch (what defusedxml's ``forbid_dtd`` does, without a dependency on the agent).
The expat bundled with Python 3.11+ (2.4.1 and later) also caps entity amplification itself.
"""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from checks.middleware.http import EndpointError, HttpClient, join

STATUS_PATH = "/manager/status?XML=true"
ROLE = "manager-status"


@dataclass(frozen=True)
class Connector:
    name: str  # "http-nio-8080", without the quotes Tomcat puts around it
    max_threads: int
    current_threads: int
    busy_threads: int


@dataclass(frozen=True)
class MemoryPool:
    name: str
    type: str  # "Heap memory" or "Non-heap memory"
    used: int
    committed: int
    max: int  # -1: unbounded


@dataclass(frozen=True)
class TomcatStatus:
    free: int
    total: int
    max: int
    pools: tuple[MemoryPool, ...]
    connectors: tuple[Connector, ...]

    @property
    def used(self) -> int:
        return self.total - self.free


def fetch(client: HttpClient, status_path: str = STATUS_PATH) -> TomcatStatus:
    url = join(client.endpoint.url, status_path)
    try:
        response = client.get(url, role_hint=ROLE)
    except EndpointError as exc:
        # The servlet walks each connector's request processors unlocked while they serve; one that
        # finishes under it fails the page with HTTP 500 (the status XML half written). The next
        # look is sound, so a 500 is asked again once, if the check's time allows.
        if exc.http_status != 500 or client.ctx.remaining() < 1.0:
            raise
        time.sleep(0.1)
        response = client.get(url, role_hint=ROLE)
    return parse(response.content, url)


def parse(body: bytes, source: str = "status page") -> TomcatStatus:
    if b"<!DOCTYPE" in body[:4096].upper():
        raise EndpointError(f"{source}: the answer has a DOCTYPE, which a Tomcat status page never has; refused")
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        start = " ".join(body[:60].decode("utf-8", "replace").split())
        raise EndpointError(f"{source}: not the manager's XML status ({exc}; starts with {start!r})") from None
    if root.tag != "status":
        raise EndpointError(f"{source}: expected a <status> document, got <{root.tag}>")
    memory = root.find("jvm/memory")
    if memory is None:
        raise EndpointError(f"{source}: no <jvm><memory> element")
    pools = tuple(
        MemoryPool(p.get("name", "?"), p.get("type", ""), _int(p, "usageUsed", source),
                   _int(p, "usageCommitted", source), _int(p, "usageMax", source))
        for p in root.iterfind("jvm/memorypool")
    )  # fmt: skip
    connectors = []
    for c in root.iterfind("connector"):
        info = c.find("threadInfo")
        if info is None:
            raise EndpointError(f"{source}: connector {c.get('name')} has no <threadInfo>")
        connectors.append(Connector(
            name=c.get("name", "?").strip('"'),
            max_threads=_int(info, "maxThreads", source),
            current_threads=_int(info, "currentThreadCount", source),
            busy_threads=_int(info, "currentThreadsBusy", source),
        ))  # fmt: skip
    return TomcatStatus(_int(memory, "free", source), _int(memory, "total", source), _int(memory, "max", source),
                        pools, tuple(connectors))  # fmt: skip


def _int(element: ET.Element, attribute: str, source: str) -> int:
    value = element.get(attribute)
    try:
        return int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise EndpointError(f"{source}: <{element.tag}> {attribute}={value!r} is not a number") from None
