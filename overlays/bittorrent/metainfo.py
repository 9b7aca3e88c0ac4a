"""The torrent: content, metainfo (BEP 3) and its info hash (pure).

The content is drawn from `seed` (SHA-256 in counter mode), so the seeder makes it and
every peer can make the same metainfo without a file being handed around: in a real
swarm the .torrent comes from a web page, here from the deployment's params.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Dict, List

from .bencode import BencodeError, decode, encode


def content(size: int, seed: int) -> bytes:
    out = bytearray()
    counter = 0
    key = f"bittorrent-content:{seed}".encode()
    while len(out) < size:
        out += hashlib.sha256(key + counter.to_bytes(8, "big")).digest() * 64  # 2 KiB
        counter += 1
    return bytes(out[:size])


@dataclass(frozen=True)
class Torrent:
    announce: str
    name: str
    length: int
    piece_length: int
    hashes: List[bytes]
    info_hash: bytes

    @property
    def pieces(self) -> int:
        return len(self.hashes)

    def size_of(self, piece: int) -> int:
        return min(self.piece_length, self.length - piece * self.piece_length)


def held_digests(data: bytes, piece_length: int) -> List[str]:
    """The SHA-1 (hex) of each piece of what a peer holds, as it holds it: what a peer
    reports at its stop, for the harness to check against the published file."""
    return [hashlib.sha1(data[i:i + piece_length]).hexdigest()
            for i in range(0, len(data), piece_length)]


def make(data: bytes, name: str, piece_length: int, announce: str) -> bytes:
    hashes = b"".join(hashlib.sha1(data[i:i + piece_length]).digest()
                      for i in range(0, len(data), piece_length))
    info = {"name": name, "length": len(data), "piece length": piece_length, "pieces": hashes}
    return encode({"announce": announce, "info": info})


def parse(metainfo: bytes) -> Torrent:
    try:
        top: Dict[bytes, Any] = decode(metainfo)  # type: ignore[assignment]
        info = top[b"info"]
        pieces = info[b"pieces"]
        if len(pieces) % 20:
            raise BencodeError("pieces is not a whole number of SHA-1 digests")
        hashes = [pieces[i:i + 20] for i in range(0, len(pieces), 20)]
        t = Torrent(top[b"announce"].decode(), info[b"name"].decode(), int(info[b"length"]),
                    int(info[b"piece length"]), hashes, hashlib.sha1(encode(info)).digest())
    except (KeyError, TypeError, AttributeError, UnicodeDecodeError) as e:
        raise BencodeError(f"not a single-file torrent: {e}") from None
    if t.length <= 0 or t.piece_length <= 0 or t.pieces != -(-t.length // t.piece_length):
        raise BencodeError("length, piece length and pieces disagree")
    return t
