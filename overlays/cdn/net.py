"""What every role shares: the control channel (the report file is overlays.agent.Reporter).

The control channel is one UDP socket per member on `ports.control`, JSON messages with an
`op`: `ping` (answered at once: the edges' RTT probes), `report` (edge -> router: alive,
load, RTTs) and the DHT's `put`/`get` (edge -> edge). A message with an `id` expects a
`reply` with the same id; `call` awaits it or times out.
"""
from __future__ import annotations

import asyncio
import itertools
import json
import time
from typing import Any, Awaitable, Callable, Dict, Optional, Tuple

Handler = Callable[[Dict[str, Any], Tuple[str, int]], Awaitable[Optional[Dict[str, Any]]]]
MAX_DATAGRAM = 60_000


class Control(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.handlers: Dict[str, Handler] = {"ping": self._pong}
        self.pending: Dict[int, "asyncio.Future[Dict[str, Any]]"] = {}
        self.ids = itertools.count(1)
        self.transport: Optional[asyncio.DatagramTransport] = None

    async def open(self, ip: str, port: int) -> "Control":
        loop = asyncio.get_running_loop()
        await loop.create_datagram_endpoint(lambda: self, local_addr=(ip, port))
        return self

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    def send(self, message: Dict[str, Any], addr: Tuple[str, int]) -> None:
        data = json.dumps(message).encode()
        if self.transport is not None and len(data) <= MAX_DATAGRAM:
            self.transport.sendto(data, addr)

    async def call(self, message: Dict[str, Any], addr: Tuple[str, int],
                   timeout: float) -> Optional[Dict[str, Any]]:
        """Send and await the reply; None on timeout."""
        mid = next(self.ids)
        future = asyncio.get_running_loop().create_future()
        self.pending[mid] = future
        self.send({**message, "id": mid}, addr)
        try:
            return await asyncio.wait_for(future, timeout)
        except asyncio.TimeoutError:
            return None
        finally:
            self.pending.pop(mid, None)

    def datagram_received(self, data: bytes, addr: Tuple[str, int]) -> None:
        try:
            message = json.loads(data)
        except ValueError:
            return
        if not isinstance(message, dict):
            return
        if message.get("op") == "reply":
            future = self.pending.get(message.get("id"))  # type: ignore[arg-type]
            if future is not None and not future.done():
                future.set_result(message)
            return
        handler = self.handlers.get(message.get("op"))  # type: ignore[arg-type]
        if handler is not None:
            asyncio.ensure_future(self._answer(handler, message, addr))

    async def _answer(self, handler: Handler, message: Dict[str, Any],
                      addr: Tuple[str, int]) -> None:
        answer = await handler(message, addr)
        if answer is not None and "id" in message:
            self.send({**answer, "op": "reply", "id": message["id"]}, addr)

    async def _pong(self, message: Dict[str, Any], addr: Tuple[str, int]) -> Dict[str, Any]:
        return {}


async def wait_for(ip: str, port: int, patience: float = 15.0) -> None:
    """Until something listens on ip:port (members start within moments of each other)."""
    deadline = time.monotonic() + patience
    while True:
        try:
            _, writer = await asyncio.open_connection(ip, port)
            writer.close()
            return
        except OSError:
            if time.monotonic() > deadline:
                return  # serve anyway: the requests will fail and say so
            await asyncio.sleep(0.05)
