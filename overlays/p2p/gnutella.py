"""Gnutella 0.4: the descriptors on the wire (pure) and a servent (asyncio).

Connections: TCP, opened by the peer whose name sorts first, greeted with
"GNUTELLA CONNECT/0.4\\n\\n" and answered "GNUTELLA OK\\n\\n". Then descriptors:

    header  = descriptor id (16) | type (1) | TTL (1) | hops (1) | payload length (4, LE)
    PING    = (empty)                         PONG     = port (2) | IPv4 (4) | files (4) | KiB (4)
    QUERY   = minimum speed (2) | criteria NUL
    QUERYHIT = hits (1) | port (2) | IPv4 (4) | speed (4)
               | hits x [file index (4) | size (4) | name NUL NUL] | servent id (16)

A servent forwards a QUERY it has not seen (by descriptor id) to every other neighbour
with TTL - 1 and hops + 1 while TTL stays above 0, answers it with a QUERYHIT when it
shares a matching file, and sends a QUERYHIT back the way its QUERY came (PONGs likewise);
duplicates are dropped. Payloads above 64 KiB and unknown types close the connection
(hostile or broken peer), as do greetings that are not Gnutella's.
"""
from __future__ import annotations

import asyncio
import collections
import ipaddress
import os
import struct
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Tuple

PING, PONG, QUERY, QUERYHIT = 0x00, 0x01, 0x80, 0x81
HEADER = struct.Struct("<16sBBBI")
MAX_PAYLOAD = 64 * 1024
CONNECT, OK = b"GNUTELLA CONNECT/0.4\n\n", b"GNUTELLA OK\n\n"
SEEN = 100_000  # descriptor ids remembered for duplicate suppression and routing back


class ProtocolError(ValueError):
    pass


@dataclass(frozen=True)
class Descriptor:
    guid: bytes
    kind: int
    ttl: int
    hops: int
    payload: bytes

    def pack(self) -> bytes:
        return HEADER.pack(self.guid, self.kind, self.ttl, self.hops,
                           len(self.payload)) + self.payload


async def read_descriptor(reader: asyncio.StreamReader) -> Descriptor:
    guid, kind, ttl, hops, length = HEADER.unpack(await reader.readexactly(HEADER.size))
    if kind not in (PING, PONG, QUERY, QUERYHIT):
        raise ProtocolError(f"unknown descriptor type 0x{kind:02x}")
    if length > MAX_PAYLOAD:
        raise ProtocolError(f"payload of {length} bytes exceeds {MAX_PAYLOAD}")
    return Descriptor(guid, kind, ttl, hops, await reader.readexactly(length))


def pong(port: int, ip: str, files: int, kib: int) -> bytes:
    return (struct.pack("<H", port) + ipaddress.IPv4Address(ip).packed
            + struct.pack("<II", files, kib))


def query(criteria: str) -> bytes:
    return struct.pack("<H", 0) + criteria.encode() + b"\0"


def parse_query(payload: bytes) -> str:
    return payload[2:].split(b"\0", 1)[0].decode("ascii", "replace")


def queryhit(port: int, ip: str, results: List[Tuple[int, int, str]], servent: bytes) -> bytes:
    body = b"".join(struct.pack("<II", i, size) + n.encode() + b"\0\0" for i, size, n in results)
    return (struct.pack("<BH", len(results), port) + ipaddress.IPv4Address(ip).packed
            + struct.pack("<I", 0) + body + servent)


def parse_queryhit(payload: bytes) -> Tuple[str, int, List[Tuple[int, int, str]]]:
    """(ip, port, [(file index, size, name)])."""
    n, port = struct.unpack_from("<BH", payload)
    ip = str(ipaddress.IPv4Address(payload[3:7]))
    results, at = [], 11
    for _ in range(n):
        index, size = struct.unpack_from("<II", payload, at)
        end = payload.index(b"\0\0", at + 8)
        results.append((index, size, payload[at + 8:end].decode("ascii", "replace")))
        at = end + 2
    return ip, port, results


class Servent:
    """One peer of the overlay. `match(criteria)` gives the local files that match;
    `on_hit(guid, ip, port, results)` gets QUERYHITs for this servent's own queries."""

    def __init__(self, me: Dict, port: int, http_port: int,
                 match: Callable[[str], List[Tuple[int, int, str]]],
                 on_hit: Callable[[bytes, str, int, List[Tuple[int, int, str]]], None],
                 report: Callable[[Dict], None]):
        self.me, self.port, self.http_port = me, port, http_port
        self.match, self.on_hit, self.report = match, on_hit, report
        self.servent_id = bytes(16)
        self.neighbours: Dict[str, asyncio.StreamWriter] = {}
        self.routes: "collections.OrderedDict[bytes, Optional[asyncio.StreamWriter]]" = \
            collections.OrderedDict()
        self.sent: collections.Counter = collections.Counter()  # guid -> descriptors sent
        self.server: Optional[asyncio.AbstractServer] = None
        self.tasks: set = set()

    async def start(self, links: List[Tuple[str, str]]) -> None:
        """Listen, and connect to the neighbours in `links` [(name, ip)] that sort after
        this peer (the others connect here)."""
        self.server = await asyncio.start_server(self._accept, self.me["ip"], self.port)
        for name, ip in links:
            if name > self.me["name"]:
                self._spawn(self._connect(name, ip))

    def _spawn(self, coro) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _connect(self, name: str, ip: str) -> None:
        for _ in range(50):  # the neighbour's agent may start a moment later
            try:
                reader, writer = await asyncio.wait_for(asyncio.open_connection(ip, self.port), 2)
                writer.write(CONNECT)
                if await asyncio.wait_for(reader.readexactly(len(OK)), 5) == OK:
                    await self._serve(name, reader, writer)
                    return
                writer.close()
            except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError):
                pass
            await asyncio.sleep(0.2)
        self.report({"event": "connect_failed", "to": name})

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            if await asyncio.wait_for(reader.readexactly(len(CONNECT)), 5) != CONNECT:
                raise ProtocolError("not a Gnutella 0.4 greeting")
            writer.write(OK)
        except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, ProtocolError):
            writer.close()
            return
        peer = writer.get_extra_info("peername")
        await self._serve(peer[0] if peer else "?", reader, writer)

    async def _serve(self, name: str, reader: asyncio.StreamReader,
                     writer: asyncio.StreamWriter) -> None:
        self.neighbours[name] = writer
        self.send(writer, Descriptor(self._guid(), PING, 1, 0, b""))
        try:
            while True:
                self._handle(writer, await read_descriptor(reader))
        except ProtocolError as e:
            self.report({"event": "protocol_error", "from": name, "why": str(e)})
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            self.neighbours.pop(name, None)
            writer.close()

    def _guid(self) -> bytes:
        return os.urandom(16)

    def send(self, writer: asyncio.StreamWriter, d: Descriptor) -> None:
        if not writer.is_closing():
            writer.write(d.pack())
            self.sent[d.guid] += 1

    def _remember(self, guid: bytes, came_from: Optional[asyncio.StreamWriter]) -> bool:
        """False if the descriptor was seen already (a duplicate)."""
        if guid in self.routes:
            return False
        self.routes[guid] = came_from
        if len(self.routes) > SEEN:
            self.routes.popitem(last=False)
        return True

    def _handle(self, writer: asyncio.StreamWriter, d: Descriptor) -> None:
        if d.kind == PING:
            if self._remember(d.guid, writer):
                self.send(writer, Descriptor(d.guid, PONG, d.hops + 1, 0,
                                             pong(self.port, self.me["ip"], 0, 0)))
        elif d.kind == QUERY:
            if not self._remember(d.guid, writer):
                return
            found = self.match(parse_query(d.payload))
            if found:
                self.send(writer, Descriptor(d.guid, QUERYHIT, d.hops + 1, 0, queryhit(
                    self.http_port, self.me["ip"], found, self.servent_id)))
            if d.ttl > 1:
                forward = Descriptor(d.guid, QUERY, d.ttl - 1, d.hops + 1, d.payload)
                for other in list(self.neighbours.values()):
                    if other is not writer:
                        self.send(other, forward)
        elif d.kind in (QUERYHIT, PONG):
            back = self.routes.get(d.guid, writer)
            if back is None:  # ours
                if d.kind == QUERYHIT:
                    self.on_hit(d.guid, *parse_queryhit(d.payload))
            elif back is not writer and d.ttl > 1:
                self.send(back, Descriptor(d.guid, d.kind, d.ttl - 1, d.hops + 1, d.payload))

    def ask(self, criteria: str, ttl: int) -> bytes:
        """Flood a QUERY of ours; returns its descriptor id."""
        guid = self._guid()
        self._remember(guid, None)
        for writer in list(self.neighbours.values()):
            self.send(writer, Descriptor(guid, QUERY, ttl, 0, query(criteria)))
        return guid

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
        for writer in list(self.neighbours.values()):
            writer.close()
        for task in list(self.tasks):
            task.cancel()
