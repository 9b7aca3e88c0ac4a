"""Napster: OpenNap's message format (pure) and the central index with its client side.

    message = length of data (2, LE) | type (2, LE) | data (ASCII)

    2   login          nick password port "client" link-type
    3   login ack      e-mail
    100 share a file   "name" md5 size bitrate frequency seconds
    200 search         FILENAME CONTAINS "text" MAX_RESULTS n
    201 search result  "name" md5 size bitrate frequency seconds nick ip   (ip: a 32-bit
                       integer, as OpenNap sends it)
    202 end of search  (empty)

The index lists every file its logged-in peers share, drops a peer's files when its
connection ends, and answers a search with up to MAX_RESULTS results. Downloads go from
peer to peer (over HTTP here; Napster's own transfer handshake is not built). Messages
above 4 KiB, unknown types before login, and malformed lines end the connection.
"""
from __future__ import annotations

import asyncio
import ipaddress
import shlex
import struct
from typing import Callable, Dict, List, Optional, Tuple

LOGIN, LOGIN_ACK, SHARE, SEARCH, RESULT, END = 2, 3, 100, 200, 201, 202
HEAD = struct.Struct("<HH")
MAX_DATA = 4096


class ProtocolError(ValueError):
    pass


def pack(kind: int, data: str = "") -> bytes:
    raw = data.encode("ascii", "replace")
    if len(raw) > MAX_DATA:
        raise ProtocolError(f"message of {len(raw)} bytes exceeds {MAX_DATA}")
    return HEAD.pack(len(raw), kind) + raw


async def read(reader: asyncio.StreamReader) -> Tuple[int, str]:
    length, kind = HEAD.unpack(await reader.readexactly(HEAD.size))
    if length > MAX_DATA:
        raise ProtocolError(f"message of {length} bytes exceeds {MAX_DATA}")
    return kind, (await reader.readexactly(length)).decode("ascii", "replace")


def search_text(data: str) -> Tuple[str, int]:
    """'FILENAME CONTAINS "x" MAX_RESULTS n' -> (x, n)."""
    words = shlex.split(data)
    if len(words) != 5 or words[:2] != ["FILENAME", "CONTAINS"] or words[3] != "MAX_RESULTS":
        raise ProtocolError(f"bad search {data[:80]!r}")
    return words[2], int(words[4])


class Index:
    def __init__(self, ip: str, port: int, report: Callable[[Dict], None]):
        self.ip, self.port, self.report = ip, port, report
        self.files: Dict[str, Dict[str, Tuple[str, int]]] = {}  # nick -> name -> (ip, size)
        self.server: Optional[asyncio.AbstractServer] = None

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._serve, self.ip, self.port)

    def close(self) -> None:
        if self.server is not None:
            self.server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nick = None
        peer_ip = (writer.get_extra_info("peername") or ("0.0.0.0",))[0]
        try:
            while True:
                kind, data = await read(reader)
                if kind == LOGIN:
                    nick = shlex.split(data)[0]
                    self.files[nick] = {}
                    writer.write(pack(LOGIN_ACK, f"{nick}@p2p.test"))
                elif nick is None:
                    raise ProtocolError(f"message type {kind} before login")
                elif kind == SHARE:
                    words = shlex.split(data)
                    self.files[nick][words[0]] = (peer_ip, int(words[2]))
                elif kind == SEARCH:
                    text, limit = search_text(data)
                    hits = [(name, owner, ip, size) for owner, files in self.files.items()
                            if owner != nick for name, (ip, size) in files.items()
                            if text in name][:limit]
                    for name, owner, ip, size in hits:
                        as_int = int(ipaddress.IPv4Address(ip))
                        writer.write(pack(RESULT, f'"{name}" 0 {size} 128 44100 60 '
                                                  f'{owner} {as_int}'))
                    writer.write(pack(END))
                    await writer.drain()
        except (ProtocolError, ValueError, IndexError) as e:
            self.report({"event": "protocol_error", "from": peer_ip, "why": str(e)[:200]})
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            if nick is not None:
                self.files.pop(nick, None)
            writer.close()


class Client:
    """A peer's session with the index."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.reader, self.writer = reader, writer
        self.lock = asyncio.Lock()

    @classmethod
    async def login(cls, ip: str, port: int, me: Dict, data_port: int,
                    files: List[Tuple[str, int]]) -> "Client":
        """Log in as `me` (name, ip: the index lists files at the address the connection
        comes from) and share `files` [(name, size)]."""
        reader, writer = await asyncio.wait_for(asyncio.open_connection(
            ip, port, local_addr=(me["ip"], 0)), 5)
        writer.write(pack(LOGIN, f'{me["name"]} secret {data_port} "testbed 1" 10'))
        kind, _ = await asyncio.wait_for(read(reader), 5)
        if kind != LOGIN_ACK:
            raise ProtocolError(f"login answered with type {kind}")
        for name, size in files:
            writer.write(pack(SHARE, f'"{name}" 0 {size} 128 44100 60'))
        await writer.drain()
        return cls(reader, writer)

    async def search(self, text: str, limit: int = 100) -> Tuple[List[Tuple[str, str, int]], int]:
        """([(name, ip, size)], messages exchanged: the search, its results, the end)."""
        async with self.lock:
            self.writer.write(pack(SEARCH, f'FILENAME CONTAINS "{text}" MAX_RESULTS {limit}'))
            results = []
            while True:
                kind, data = await read(self.reader)
                if kind == END:
                    return results, len(results) + 2
                if kind == RESULT:
                    w = shlex.split(data)
                    results.append((w[0], str(ipaddress.IPv4Address(int(w[7]))), int(w[2])))

    def close(self) -> None:
        self.writer.close()
