"""SNMPv1/v2c over asyncio UDP with the BER codec in ``ber``: one connected socket per device poll."""

from __future__ import annotations

import asyncio
import random

from checks.snmp import ber
from checks.snmp.errors import SnmpUnreachable
from checks.snmp.oids import OID
from checks.snmp.settings import SnmpSettings

Answer = tuple[int, int, list[tuple[OID, object, str]]]  # error status, error index, varbinds


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.waiting: dict[int, asyncio.Future] = {}

    def datagram_received(self, data: bytes, addr) -> None:
        try:
            request_id, status, index, varbinds = ber.decode_response(data)
        except ber.BerError:
            return  # not an answer of ours: ignore it, as an agent's stray packet must not fail the poll
        future = self.waiting.get(request_id)
        if future is not None and not future.done():
            future.set_result((status, index, varbinds))

    def error_received(self, exc: Exception) -> None:
        pass  # ICMP errors (port unreachable) are not trusted alone: the timeout decides


class CommunityChannel:
    def __init__(self, settings: SnmpSettings) -> None:
        self.settings = settings
        self.version = 0 if settings.version == "1" else 1
        self.community = (settings.community or "").encode()
        self._transport: asyncio.DatagramTransport | None = None
        self._protocol: _Protocol | None = None

    async def open(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            self._transport, self._protocol = await loop.create_datagram_endpoint(
                _Protocol, remote_addr=(self.settings.address, self.settings.port)
            )
        except OSError as exc:
            raise SnmpUnreachable(f"cannot reach {self.settings.endpoint}: {exc.strerror or exc}") from None

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()
            self._transport = None

    async def request(self, pdu: int, oids: list[OID], non_repeaters: int = 0, max_repetitions: int = 0) -> Answer:
        """Send one request; resend it after each timeout, ``retries`` times; raise SnmpUnreachable at the end."""
        if self._transport is None:
            await self.open()
        assert self._transport is not None and self._protocol is not None
        request_id = random.randint(1, 2**31 - 1)
        message = ber.encode_request(self.version, self.community, pdu, request_id, oids, non_repeaters,
                                     max_repetitions)  # fmt: skip
        loop = asyncio.get_running_loop()
        tries = self.settings.retries + 1
        try:
            for _ in range(tries):
                future = loop.create_future()
                self._protocol.waiting[request_id] = future
                self._transport.sendto(message)
                try:
                    return await asyncio.wait_for(future, self.settings.timeout)
                except TimeoutError:
                    continue  # the same request again: an answer to either try is the same answer
        finally:
            self._protocol.waiting.pop(request_id, None)
        raise SnmpUnreachable(
            f"no SNMP answer from {self.settings.endpoint} ({tries} tr{'y' if tries == 1 else 'ies'} of "
            f"{self.settings.timeout:g} s)"
        )
