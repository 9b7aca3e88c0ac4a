"""A link: one TCP connection between two onion nodes carrying cells, many circuits
multiplexed on it (TLS-free: tor wraps its links in TLS; here the cells' own layers are
the only encryption, which is what the properties under test are about).

Reading is one task per link: it cuts the byte stream into 512-byte cells and hands them
to the owner, which may await (a full next link): the link then stops reading, TCP's
window closes, and the sender slows down. That is the circuit's flow control, hop by hop
(tor uses SENDME windows instead; not built here).
"""
from __future__ import annotations

import asyncio
from typing import Awaitable, Callable, Optional

from . import cells

Handler = Callable[["Link", int, int, bytes], Awaitable[None]]
READ = 64 * 1024


class Link:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                 initiator: bool):
        self.reader, self.writer = reader, writer
        self.initiator = initiator  # who opened it allocates circuit ids on it
        self.next_id = 1
        self.closed = asyncio.Event()
        peer = writer.get_extra_info("peername")
        self.peer = f"{peer[0]}:{peer[1]}" if peer else "?"

    @classmethod
    async def open(cls, ip: str, port: int, timeout: float = 5.0) -> "Link":
        reader, writer = await asyncio.wait_for(asyncio.open_connection(ip, port), timeout)
        return cls(reader, writer, initiator=True)

    def new_circ_id(self) -> int:
        self.next_id += 1
        return 0x80000000 | self.next_id

    def send(self, circ_id: int, command: int, payload: bytes = b"") -> None:
        """Queue one cell (synchronous, so cells sealed in order leave in that order)."""
        if not self.writer.is_closing():
            self.writer.write(cells.pack(circ_id, command, payload))

    async def drain(self) -> None:
        try:
            await self.writer.drain()
        except (ConnectionError, OSError):
            self.close()

    async def serve(self, handle: Handler, on_close: Optional[Callable[["Link"], None]] = None
                    ) -> None:
        """Read cells until the connection ends; `handle(link, circ_id, command, payload)`
        each. A stream that is not a whole number of cells at its end is cut there."""
        buffer = bytearray()
        try:
            while True:
                data = await self.reader.read(READ)
                if not data:
                    break
                buffer += data
                for cell in cells.split(buffer):
                    circ_id, command, payload = cells.unpack(cell)
                    await handle(self, circ_id, command, payload)
        except (ConnectionError, OSError, asyncio.IncompleteReadError):
            pass
        finally:
            self.close()
            if on_close is not None:
                on_close(self)

    def close(self) -> None:
        if not self.writer.is_closing():
            self.writer.close()
        self.closed.set()
