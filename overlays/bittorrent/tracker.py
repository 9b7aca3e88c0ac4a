"""An HTTP tracker (BEP 3, compact peer lists of BEP 23) and the peers' announce.

    GET /announce?info_hash=..&peer_id=..&port=..&uploaded=..&downloaded=..&left=..
        [&event=started|completed|stopped][&compact=1][&numwant=N]
    -> d8:intervali5e5:peers<6 bytes per peer: IPv4, port>e   or d14:failure reason..e

The tracker lists a peer at the address its request came from, forgets it on `stopped`
or after 3 intervals of silence, and answers with up to `numwant` (at most 50) others,
drawn at random. Requests are bounded (4 KiB); bad ones get a failure reason.
"""
from __future__ import annotations

import asyncio
import ipaddress
import random
import struct
import time
import urllib.parse
from typing import Callable, Dict, List, Optional, Tuple

from .bencode import BencodeError, decode, encode

MAX_REQUEST = 4096


class Tracker:
    def __init__(self, ip: str, port: int, interval: int, report: Callable[[Dict], None]):
        self.ip, self.port, self.interval, self.report = ip, port, interval, report
        self.swarms: Dict[bytes, Dict[bytes, Tuple[str, int, int, float]]] = {}
        self.server: Optional[asyncio.AbstractServer] = None
        self.rng = random.Random(0)

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._serve, self.ip, self.port)

    def close(self) -> None:
        if self.server is not None:
            self.server.close()

    def announce(self, query: Dict[str, bytes], ip: str) -> bytes:
        try:
            info_hash, peer_id = query["info_hash"], query["peer_id"]
            port, left = int(query["port"]), int(query.get("left", b"0"))
            if len(info_hash) != 20 or len(peer_id) != 20 or not 0 < port < 65536:
                raise ValueError("info_hash and peer_id are 20 bytes, port 1..65535")
        except (KeyError, ValueError) as e:
            return encode({"failure reason": f"bad announce: {e}"})
        swarm = self.swarms.setdefault(info_hash, {})
        now = time.monotonic()
        for pid in [p for p, v in swarm.items() if now - v[3] > 3 * self.interval]:
            del swarm[pid]
        event = query.get("event", b"")
        if event == b"stopped":
            swarm.pop(peer_id, None)
            return encode({"interval": self.interval, "peers": b""})
        if event == b"completed":
            self.report({"event": "completed", "peer": ip})
        swarm[peer_id] = (ip, port, left, now)
        want = min(50, int(query.get("numwant", b"50") or 50))
        others = [v for p, v in swarm.items() if p != peer_id]
        chosen = self.rng.sample(others, min(want, len(others)))
        peers = b"".join(ipaddress.IPv4Address(v[0]).packed + struct.pack("!H", v[1])
                         for v in chosen)
        return encode({"interval": self.interval, "peers": peers})

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
            if len(head) > MAX_REQUEST:
                raise ValueError("request too long")
            target = head.split(b" ")[1]
            path, _, qs = target.partition(b"?")
            if path != b"/announce":
                raise ValueError("not /announce")
            query = {k.decode(): v for k, v in
                     ((urllib.parse.unquote_to_bytes(a), urllib.parse.unquote_to_bytes(b))
                      for a, _, b in (p.partition(b"=") for p in qs.split(b"&") if p))}
            peer = writer.get_extra_info("peername")
            body = self.announce(query, peer[0])
        except (ValueError, IndexError, UnicodeDecodeError, asyncio.TimeoutError,
                asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            body = encode({"failure reason": "bad request"})
        except (ConnectionError, OSError):
            writer.close()
            return
        writer.write(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n"
                     % len(body) + body)
        try:
            await writer.drain()
        except (ConnectionError, OSError):
            pass
        writer.close()


async def announce(url: str, info_hash: bytes, peer_id: bytes, port: int, uploaded: int,
                   downloaded: int, left: int, event: str = "", local_ip: Optional[str] = None
                   ) -> Tuple[int, List[Tuple[str, int]]]:
    """(interval, [(ip, port)]) from the tracker at `url` (http://host:port/announce)."""
    parsed = urllib.parse.urlsplit(url)
    params = {"info_hash": info_hash, "peer_id": peer_id, "port": port, "uploaded": uploaded,
              "downloaded": downloaded, "left": left, "compact": 1}
    if event:
        params["event"] = event
    target = f"{parsed.path}?{urllib.parse.urlencode(params)}"
    reader, writer = await asyncio.wait_for(asyncio.open_connection(
        parsed.hostname, parsed.port or 80,
        local_addr=(local_ip, 0) if local_ip else None), 5)
    try:
        writer.write(f"GET {target} HTTP/1.0\r\nHost: {parsed.netloc}\r\n\r\n".encode())
        raw = await asyncio.wait_for(reader.read(1 << 20), 10)
    finally:
        writer.close()
    body = raw.partition(b"\r\n\r\n")[2]
    reply = decode(body)
    if not isinstance(reply, dict) or b"failure reason" in reply:
        raise BencodeError(f"tracker refused: {reply!r}"[:200])
    peers = reply.get(b"peers", b"")
    if not isinstance(peers, bytes) or len(peers) % 6:
        raise BencodeError("peers is not a compact list")
    return int(reply.get(b"interval", 30)), [
        (str(ipaddress.IPv4Address(peers[i:i + 4])), struct.unpack("!H", peers[i + 4:i + 6])[0])
        for i in range(0, len(peers), 6)]
