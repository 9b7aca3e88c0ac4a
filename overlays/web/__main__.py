"""The web agent: a server, a client, or both, by the params (WebParams, __init__.py).

    python -m overlays.web --config CONFIG.json   (the contract: overlays/README.md)

Server: HTTP/1.0 on `port`; `GET /<n>` answers n zero bytes (at most 1 GiB).
Client: one fetch at a time, sizes in turn, servers in turn, `interval` seconds apart
after `delay`; direct, or through the SOCKS5 proxy on 127.0.0.1:`socks_port` (the
server's address: real tor's exits in a test network resolve no names). Per fetch:
`ttfb_ms` (from before the connection to the response's first byte), `ttlb_ms` (to its
last), both with `size` and `server`, and `fetched` 1, or 0 with `why` when the fetch
failed, timed out or came back short.
"""
from __future__ import annotations

import asyncio
import ipaddress
import struct
import time
from typing import Any, Dict, Tuple

from ..agent import AsyncAgent
from . import WebParams

CHUNK = 64 * 1024
MAX_OBJECT = 1 << 30


async def socks5_connect(port: int, ip: str, dst_port: int
                         ) -> Tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A SOCKS5 CONNECT to ip:dst_port through the proxy on 127.0.0.1:port (the address,
    not a name: tor's exits in a test network resolve no names)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"\x05\x01\x00" + b"\x05\x01\x00\x01" + ipaddress.IPv4Address(ip).packed
                 + struct.pack("!H", dst_port))
    greeting = await reader.readexactly(2)
    reply = await reader.readexactly(10)
    if greeting != b"\x05\x00" or reply[1] != 0:
        writer.close()
        raise ConnectionError(f"the SOCKS proxy refused (code {reply[1]})")
    return reader, writer


class WebAgent(AsyncAgent):
    def __init__(self, config: Dict[str, Any]):
        super().__init__(config)
        self.params = WebParams.model_validate(config["params"])
        self.ips = {m["name"]: m["ip"] for m in self.members}
        self.is_client = self.me["name"] in self.params.client_hosts(list(self.ips))

    async def main(self) -> None:
        server = None
        if self.me["name"] in self.params.servers:
            server = await asyncio.start_server(self._serve, self.me["ip"], self.params.port)
        task = asyncio.get_running_loop().create_task(self._fetch_loop()) \
            if self.is_client else None
        await self.until_stopped()
        if task is not None:
            task.cancel()
        if server is not None:
            server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
            path = head.split(b" ")[1].decode("ascii", "replace")
            size = int(path.strip("/"))
            if not 0 <= size <= MAX_OBJECT:
                raise ValueError(path)
            writer.write(b"HTTP/1.0 200 OK\r\nContent-Type: application/octet-stream\r\n"
                         + f"Content-Length: {size}\r\n\r\n".encode())
            block = bytes(CHUNK)
            while size > 0:
                writer.write(block[:min(size, CHUNK)])
                size -= CHUNK
                await writer.drain()
        except (ValueError, IndexError, asyncio.TimeoutError, asyncio.IncompleteReadError,
                asyncio.LimitOverrunError):
            writer.write(b"HTTP/1.0 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
        except (ConnectionError, OSError):
            pass
        writer.close()

    async def _fetch_loop(self) -> None:
        p = self.params
        await asyncio.sleep(p.delay)
        n = 0
        while self.running:
            size = p.sizes[n % len(p.sizes)]
            server = p.servers[n % len(p.servers)]
            n += 1
            try:
                ttfb, ttlb = await asyncio.wait_for(self.fetch(server, size), p.timeout)
            except (OSError, ConnectionError, ValueError, asyncio.TimeoutError,
                    asyncio.IncompleteReadError) as e:
                self.report({"metric": "fetched", "value": 0, "size": size, "server": server,
                             "why": str(e) or type(e).__name__})
            else:
                self.report({"metric": "ttfb_ms", "value": ttfb, "size": size, "server": server})
                self.report({"metric": "ttlb_ms", "value": ttlb, "size": size, "server": server})
                self.report({"metric": "fetched", "value": 1, "size": size, "server": server})
            await asyncio.sleep(p.interval)

    async def fetch(self, server: str, size: int) -> Tuple[float, float]:
        p = self.params
        began = time.monotonic()
        if p.via == "socks":
            reader, writer = await socks5_connect(p.socks_port, self.ips[server], p.port)
        else:
            reader, writer = await asyncio.open_connection(self.ips[server], p.port)
        try:
            writer.write(f"GET /{size} HTTP/1.0\r\nHost: {server}\r\n\r\n".encode())
            first = await reader.read(CHUNK)
            if not first:
                raise ConnectionError("closed before the response")
            ttfb = time.monotonic() - began
            while b"\r\n\r\n" not in first and len(first) < CHUNK:
                more = await reader.read(CHUNK)
                if not more:
                    break
                first += more
            got = len(first)
            while True:
                data = await reader.read(CHUNK)
                if not data:
                    break
                got += len(data)
            head = first.split(b"\r\n\r\n", 1)[0]
            if not head.startswith(b"HTTP/1.0 200") or got - len(head) - 4 != size:
                raise ValueError(f"short or bad response: {got} bytes")
            return round(ttfb * 1e3, 3), round((time.monotonic() - began) * 1e3, 3)
        finally:
            writer.close()


if __name__ == "__main__":
    from overlays.agent import main
    main(WebAgent, "web workload agent")
