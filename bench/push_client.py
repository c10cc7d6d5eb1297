"""A lean HTTP/1.1 client on asyncio streams, for load generators that must not be the bottleneck.

Measured on this 2-core machine against `patrol serve`'s /healthz: httpx's AsyncClient costs about
2.3 ms of CPU per request on a new connection (1.4 ms on a kept one); this client 0.5 ms (0.2 ms).
With thousands of simulated agents on the same 2 cores as PostgreSQL and the replicas, that difference
is CPU taken from the system being measured. What goes over the wire is the same: one ``POST`` with
the agent's headers and a ``Content-Length`` body; answers are read by ``Content-Length`` (or chunked,
or to the end of the connection).

``HttpxClient`` has the same interface over httpx, to compare (``--client httpx``).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from urllib.parse import urlsplit


class PushTimeout(Exception):
    """Connecting or the answer took longer than the timeout."""


class PushConnectionError(Exception):
    """The connection could not be made or broke before a whole answer came; the message is a short kind
    (``ConnectionRefusedError``, ``closed before an answer (EOF)``, ``answer cut off`` ...)."""


class Answer:
    __slots__ = ("status", "headers", "body")

    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status, self.headers, self.body = status, headers, body


class RawClient:
    """POSTs to one base URL (``http://host:port``). ``keepalive``: idle connections are reused."""

    def __init__(self, base_url: str, *, connect_timeout: float = 10.0, read_timeout: float = 30.0,
                 keepalive: bool = False) -> None:
        parts = urlsplit(base_url)
        if parts.scheme != "http":
            raise ValueError(f"{base_url}: only http:// is supported")
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.connect_timeout, self.read_timeout, self.keepalive = connect_timeout, read_timeout, keepalive
        self.idle: deque[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = deque()

    async def post(self, path: str, body: bytes, headers: dict[str, str]) -> Answer:
        head = [f"POST {path} HTTP/1.1", f"Host: {self.host}:{self.port}", f"Content-Length: {len(body)}",
                "Connection: " + ("keep-alive" if self.keepalive else "close")]
        head += [f"{k}: {v}" for k, v in headers.items()]
        request = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body
        if self.idle:
            reader, writer = self.idle.popleft()
            try:
                return await self._exchange(reader, writer, request)
            except _Stale:
                pass  # the server closed it while idle: nothing was processed, try a new connection
        reader, writer = await self._connect()
        try:
            return await self._exchange(reader, writer, request)
        except _Stale as exc:
            raise PushConnectionError(f"closed before an answer ({exc})") from None

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        try:
            return await asyncio.wait_for(asyncio.open_connection(self.host, self.port), self.connect_timeout)
        except TimeoutError:
            raise PushTimeout(f"connect took over {self.connect_timeout:g} s") from None
        except OSError as exc:
            raise PushConnectionError(type(exc).__name__) from None

    async def _exchange(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes) -> Answer:
        keep = False
        try:
            writer.write(request)
            await asyncio.wait_for(writer.drain(), self.read_timeout)
            answer, keep = await asyncio.wait_for(self._read(reader), self.read_timeout)
            return answer
        except TimeoutError:
            raise PushTimeout(f"no answer within {self.read_timeout:g} s") from None
        except asyncio.IncompleteReadError as exc:
            if not exc.partial:
                raise _Stale("EOF") from None
            raise PushConnectionError("answer cut off") from None
        except (ConnectionResetError, BrokenPipeError) as exc:
            raise _Stale(type(exc).__name__) from None
        except (OSError, ValueError, asyncio.LimitOverrunError) as exc:
            raise PushConnectionError(type(exc).__name__) from None
        finally:
            if keep and self.keepalive:
                self.idle.append((reader, writer))
            else:
                writer.close()

    @staticmethod
    async def _read(reader: asyncio.StreamReader) -> tuple[Answer, bool]:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head[:-4].decode("latin-1").split("\r\n")
        version, status = lines[0].split(" ", 2)[:2]
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if "content-length" in headers:
            body = await reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            parts = []
            while size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16):
                parts.append(await reader.readexactly(size))
                await reader.readexactly(2)
            await reader.readuntil(b"\r\n")
            body = b"".join(parts)
        else:
            return Answer(int(status), headers, await reader.read()), False
        keep = version == "HTTP/1.1" and headers.get("connection", "").lower() != "close"
        return Answer(int(status), headers, body), keep

    async def close(self) -> None:
        while self.idle:
            _reader, writer = self.idle.popleft()
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()


class _Stale(Exception):
    """The connection ended before any byte of an answer."""


class HttpxClient:
    """The same interface over ``httpx.AsyncClient`` (for comparison)."""

    def __init__(self, base_url: str, *, connect_timeout: float = 10.0, read_timeout: float = 30.0,
                 keepalive: bool = False) -> None:
        import httpx

        self.httpx = httpx
        self.client = httpx.AsyncClient(
            base_url=base_url, follow_redirects=False, timeout=httpx.Timeout(read_timeout, connect=connect_timeout),
            limits=httpx.Limits(max_connections=None, max_keepalive_connections=None if keepalive else 0),
        )

    async def post(self, path: str, body: bytes, headers: dict[str, str]) -> Answer:
        try:
            answer = await self.client.post(path, content=body, headers=headers)
        except self.httpx.TimeoutException as exc:
            raise PushTimeout(type(exc).__name__) from None
        except self.httpx.TransportError as exc:
            raise PushConnectionError(type(exc).__name__) from None
        return Answer(answer.status_code, {k.lower(): v for k, v in answer.headers.items()}, answer.content)

    async def close(self) -> None:
        await self.client.aclose()


CLIENTS = {"raw": RawClient, "httpx": HttpxClient}
