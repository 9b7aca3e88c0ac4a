"""A BitTorrent peer (BEP 3): the peer wire protocol, rarest-first piece selection,
tit-for-tat choking with an optimistic unchoke, end-game mode, an upload cap.

Wire: a handshake (19, "BitTorrent protocol", 8 reserved bytes, info hash, peer id), then
length-prefixed messages: choke 0, unchoke 1, interested 2, not interested 3, have 4,
bitfield 5, request 6, piece 7, cancel 8 (keep-alive: length 0). Blocks are 16 KiB.

- Selection: the pieces begun first (to finish them), then the rarest among the peer's
  pieces we lack (ties at random); the first few pieces at random (a newcomer needs
  something to trade soon). Up to PIPELINE requests outstanding per peer.
- End game: once every missing block is requested, missing blocks are asked of every
  peer that has them; the first copy wins and the others are cancelled.
- Choking, every `choke_interval` seconds: the `slots` interested peers that sent us the
  most in the last interval (a seed: that we sent the most) are unchoked, plus one more
  chosen at random every third interval (the optimistic unchoke), the rest choked.
- Every piece is checked against its SHA-1 before it counts; a bad piece is dropped,
  reported (`hash_fail`) and asked again. The download is complete only when every
  piece has been verified.
- Hostile peers: a wrong handshake, an oversized message, a bad bitfield or a request
  outside the torrent closes the connection (logged); a peer that never answers is
  dropped after IDLE seconds.
"""
from __future__ import annotations

import asyncio
import hashlib
import random
import struct
import time
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Set, Tuple

from .metainfo import Torrent

PROTOCOL = b"\x13BitTorrent protocol"
BLOCK = 16 * 1024
PIPELINE = 32  # 512 KiB in flight per peer: a 100 ms path carries up to ~40 Mbit/s
MAX_MESSAGE = BLOCK + 13 + 1024
IDLE = 60.0
CHOKE, UNCHOKE, INTERESTED, NOT_INTERESTED, HAVE, BITFIELD, REQUEST, PIECE, CANCEL = range(9)


class WireError(ValueError):
    pass


def handshake(info_hash: bytes, peer_id: bytes) -> bytes:
    return PROTOCOL + bytes(8) + info_hash + peer_id


def message(kind: int, payload: bytes = b"") -> bytes:
    return struct.pack("!IB", len(payload) + 1, kind) + payload


def bitfield_bytes(have: Set[int], pieces: int) -> bytes:
    out = bytearray((pieces + 7) // 8)
    for i in have:
        out[i // 8] |= 0x80 >> (i % 8)
    return bytes(out)


def parse_bitfield(data: bytes, pieces: int) -> Set[int]:
    if len(data) != (pieces + 7) // 8:
        raise WireError(f"bitfield of {len(data)} bytes for {pieces} pieces")
    have = {i for i in range(pieces) if data[i // 8] & (0x80 >> (i % 8))}
    if any(data[i // 8] & (0x80 >> (i % 8)) for i in range(pieces, len(data) * 8)):
        raise WireError("bitfield sets spare bits")
    return have


@dataclass(eq=False)
class Conn:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    peer_id: bytes
    ip: str
    has: Set[int] = field(default_factory=set)
    am_choking: bool = True
    peer_choking: bool = True
    am_interested: bool = False
    peer_interested: bool = False
    asked: Set[Tuple[int, int]] = field(default_factory=set)  # (piece, offset) we requested
    got_bytes: int = 0  # from them, this choke interval
    sent_bytes: int = 0  # to them, this choke interval

    def send(self, kind: int, payload: bytes = b"") -> None:
        if not self.writer.is_closing():
            self.writer.write(message(kind, payload))


class Bucket:
    """The upload cap: a token bucket of `rate` bytes/s holding at most one second."""

    def __init__(self, rate: float):
        self.rate, self.tokens, self.at = rate, rate, time.monotonic()

    async def take(self, n: int) -> None:
        if self.rate <= 0:
            return
        while True:
            now = time.monotonic()
            self.tokens = min(self.rate, self.tokens + (now - self.at) * self.rate)
            self.at = now
            if self.tokens >= n:
                self.tokens -= n
                return
            await asyncio.sleep((n - self.tokens) / self.rate)


class Peer:
    def __init__(self, torrent: Torrent, peer_id: bytes, ip: str, port: int,
                 data: Optional[bytes], upload_mbit: float, slots: int, choke_interval: float,
                 serve_all: bool, uploads: bool, rng: random.Random,
                 report: Callable[[Dict], None]):
        self.t, self.peer_id, self.ip, self.port = torrent, peer_id, ip, port
        self.store = bytearray(data) if data is not None else bytearray(torrent.length)
        self.have: Set[int] = set(range(torrent.pieces)) if data is not None else set()
        self.blocks: Dict[int, Set[int]] = {}  # piece -> offsets received, pieces begun
        self.bucket = Bucket(upload_mbit * 125_000)
        self.slots, self.choke_interval = slots, choke_interval
        self.serve_all, self.uploads, self.rng, self.report = serve_all, uploads, rng, report
        self.conns: Dict[bytes, Conn] = {}
        self.done = asyncio.Event()
        if self.complete:
            self.done.set()
        self.uploaded = self.downloaded = 0
        self.started = time.monotonic()
        self.server: Optional[asyncio.AbstractServer] = None
        self.tasks: Set[asyncio.Task] = set()
        self.optimistic: Optional[Conn] = None
        self.round = 0

    @property
    def complete(self) -> bool:
        return len(self.have) == self.t.pieces

    @property
    def left(self) -> int:
        return sum(self.t.size_of(i) for i in range(self.t.pieces) if i not in self.have)

    def _spawn(self, coro) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._accept, self.ip, self.port)
        self._spawn(self._choker())

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
        for c in list(self.conns.values()):
            c.writer.close()
        for task in list(self.tasks):
            task.cancel()

    # --- connections --------------------------------------------------------------------
    def connect(self, ip: str, port: int) -> None:
        if (ip, port) != (self.ip, self.port) and not any(
                c.ip == ip for c in self.conns.values()):
            self._spawn(self._dial(ip, port))

    async def _dial(self, ip: str, port: int) -> None:
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(
                ip, port, local_addr=(self.ip, 0)), 5)
        except (OSError, asyncio.TimeoutError):
            return
        writer.write(handshake(self.t.info_hash, self.peer_id))
        await self._run(reader, writer, ip)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(handshake(self.t.info_hash, self.peer_id))
        peer = writer.get_extra_info("peername")
        await self._run(reader, writer, peer[0] if peer else "?")

    async def _run(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                   ip: str) -> None:
        conn = None
        try:
            theirs = await asyncio.wait_for(reader.readexactly(68), 10)
            if theirs[:20] != PROTOCOL or theirs[28:48] != self.t.info_hash:
                raise WireError("not a BitTorrent handshake for this torrent")
            peer_id = theirs[48:68]
            if peer_id == self.peer_id or peer_id in self.conns:
                writer.close()  # ourselves, or a second connection to the same peer
                return
            conn = self.conns[peer_id] = Conn(reader, writer, peer_id, ip)
            if self.have:
                conn.send(BITFIELD, bitfield_bytes(self.have, self.t.pieces))
            if self.serve_all:
                self._unchoke(conn)
            while True:
                length = struct.unpack("!I", await asyncio.wait_for(reader.readexactly(4), IDLE))[0]
                if length == 0:
                    continue
                if length > MAX_MESSAGE:
                    raise WireError(f"message of {length} bytes")
                body = await asyncio.wait_for(reader.readexactly(length), IDLE)
                await self._handle(conn, body[0], body[1:])
        except WireError as e:
            self.report({"event": "peer_error", "peer": ip, "why": str(e)})
        except (OSError, asyncio.IncompleteReadError, asyncio.TimeoutError):
            pass
        finally:
            writer.close()
            if conn is not None and self.conns.get(conn.peer_id) is conn:
                del self.conns[conn.peer_id]
                self._forget(conn)

    def _forget(self, conn: Conn) -> None:
        """Blocks asked of a peer that left go back to the pool."""
        conn.asked.clear()
        self._fill_all()

    # --- messages -----------------------------------------------------------------------
    async def _handle(self, conn: Conn, kind: int, payload: bytes) -> None:
        if kind == CHOKE:
            conn.peer_choking = True
            conn.asked.clear()
        elif kind == UNCHOKE:
            conn.peer_choking = False
        elif kind == INTERESTED:
            conn.peer_interested = True
            unchoked = sum(not c.am_choking for c in self.conns.values())
            if self.uploads and unchoked < self.slots + 1:  # a free slot: no need to wait
                self._unchoke(conn)
        elif kind == NOT_INTERESTED:
            conn.peer_interested = False
        elif kind == HAVE:
            (piece,) = struct.unpack("!I", payload[:4])
            if piece >= self.t.pieces:
                raise WireError(f"have of piece {piece}")
            conn.has.add(piece)
        elif kind == BITFIELD:
            conn.has = parse_bitfield(payload, self.t.pieces)
        elif kind == REQUEST:
            await self._serve(conn, *struct.unpack("!III", payload[:12]))
            return
        elif kind == PIECE:
            piece, offset = struct.unpack("!II", payload[:8])
            self._block(conn, piece, offset, payload[8:])
        elif kind == CANCEL:
            return  # requests are served at once; nothing queued to cancel
        else:
            raise WireError(f"unknown message {kind}")
        self._interest(conn)
        self._fill(conn)

    async def _serve(self, conn: Conn, piece: int, offset: int, length: int) -> None:
        if (piece >= self.t.pieces or length > BLOCK or length == 0
                or offset + length > self.t.size_of(piece)):
            raise WireError(f"request outside the torrent: {piece}/{offset}/{length}")
        if conn.am_choking or piece not in self.have:
            return
        await self.bucket.take(length)
        start = piece * self.t.piece_length + offset
        block = bytes(self.store[start:start + length])
        conn.send(PIECE, struct.pack("!II", piece, offset) + block)
        conn.sent_bytes += length
        self.uploaded += length
        try:
            await conn.writer.drain()
        except (ConnectionError, OSError):
            pass

    def _block(self, conn: Conn, piece: int, offset: int, data: bytes) -> None:
        conn.asked.discard((piece, offset))
        if piece >= self.t.pieces or piece in self.have or offset % BLOCK \
                or offset + len(data) > self.t.size_of(piece):
            return  # late (end game) or junk
        got = self.blocks.setdefault(piece, set())
        if offset in got:
            return
        start = piece * self.t.piece_length + offset
        self.store[start:start + len(data)] = data
        got.add(offset)
        conn.got_bytes += len(data)
        self.downloaded += len(data)
        for other in self.conns.values():  # end game: the others need not send it
            if other is not conn and (piece, offset) in other.asked:
                other.asked.discard((piece, offset))
                other.send(CANCEL, struct.pack("!III", piece, offset, len(data)))
        if len(got) * BLOCK >= self.t.size_of(piece):
            self._verify(piece)

    def _verify(self, piece: int) -> None:
        start = piece * self.t.piece_length
        digest = hashlib.sha1(self.store[start:start + self.t.size_of(piece)]).digest()
        del self.blocks[piece]
        if digest != self.t.hashes[piece]:
            self.report({"event": "hash_fail", "piece": piece})
            return
        self.have.add(piece)
        for c in self.conns.values():
            c.send(HAVE, struct.pack("!I", piece))
            self._interest(c)
        if self.complete and not self.done.is_set():
            self.done.set()

    # --- what to ask for ----------------------------------------------------------------
    def _wanted(self, conn: Conn) -> bool:
        return bool(conn.has - self.have)

    def _interest(self, conn: Conn) -> None:
        want = self._wanted(conn)
        if want != conn.am_interested:
            conn.am_interested = want
            conn.send(INTERESTED if want else NOT_INTERESTED)

    def _fill_all(self) -> None:
        for c in list(self.conns.values()):
            self._fill(c)

    def _fill(self, conn: Conn) -> None:
        if conn.peer_choking or self.complete:
            return
        while len(conn.asked) < PIPELINE:
            block = self._next_block(conn)
            if block is None:
                return
            piece, offset = block
            length = min(BLOCK, self.t.size_of(piece) - offset)
            conn.asked.add(block)
            conn.send(REQUEST, struct.pack("!III", piece, offset, length))

    def _outstanding(self) -> Set[Tuple[int, int]]:
        return set().union(*(c.asked for c in self.conns.values())) if self.conns else set()

    def _next_block(self, conn: Conn) -> Optional[Tuple[int, int]]:
        asked = self._outstanding()
        candidates = conn.has - self.have
        if not candidates:
            return None

        def free_blocks(piece: int) -> List[int]:
            got = self.blocks.get(piece, set())
            return [o for o in range(0, self.t.size_of(piece), BLOCK)
                    if o not in got and (piece, o) not in asked]
        for piece in sorted(p for p in self.blocks if p in candidates):  # finish begun ones
            free = free_blocks(piece)
            if free:
                return piece, free[0]
        fresh = [p for p in candidates if p not in self.blocks]
        if fresh:
            if len(self.have) < 4:  # random first pieces
                piece = self.rng.choice(sorted(fresh))
            else:
                counts = {p: sum(p in c.has for c in self.conns.values()) for p in fresh}
                rarest = min(counts.values())
                piece = self.rng.choice(sorted(p for p, n in counts.items() if n == rarest))
            self.blocks[piece] = set()
            return piece, 0
        # end game: every missing block is asked of someone; ask this peer too
        for piece in sorted(p for p in self.blocks if p in candidates):
            got = self.blocks[piece]
            for o in range(0, self.t.size_of(piece), BLOCK):
                if o not in got and (piece, o) not in conn.asked:
                    return piece, o
        return None

    # --- choking ------------------------------------------------------------------------
    def _unchoke(self, conn: Conn) -> None:
        if conn.am_choking:
            conn.am_choking = False
            conn.send(UNCHOKE)

    def _choke(self, conn: Conn) -> None:
        if not conn.am_choking:
            conn.am_choking = True
            conn.send(CHOKE)

    async def _choker(self) -> None:
        while True:
            await asyncio.sleep(self.choke_interval)
            self.rechoke()

    def rechoke(self) -> None:
        conns = list(self.conns.values())
        if self.serve_all:
            for c in conns:
                self._unchoke(c)
        elif not self.uploads:
            for c in conns:
                self._choke(c)
        else:
            interested = [c for c in conns if c.peer_interested]
            key = (lambda c: c.sent_bytes) if self.complete else (lambda c: c.got_bytes)
            best = sorted(interested, key=key, reverse=True)[:self.slots]
            if self.round % 3 == 0 or self.optimistic not in conns:
                rest = [c for c in interested if c not in best]
                self.optimistic = self.rng.choice(rest) if rest else None
            self.round += 1
            keep = set(best) | ({self.optimistic} if self.optimistic else set())
            for c in conns:
                (self._unchoke if c in keep else self._choke)(c)
        for c in conns:
            c.got_bytes = c.sent_bytes = 0
