"""The tunnel's packets (pure): one UDP datagram per IP packet,

    type (1, = 4: data) | counter (8, big-endian) | ChaCha20-Poly1305(packet) with its tag

after WireGuard's transport messages. Each direction of each pair of sites has its own
key, so a nonce (4 zero bytes and the counter) never repeats under one key; the
receiver drops what fails authentication and what its replay window (the highest counter
seen and a bitmap of the 64 before it, RFC 6479's idea) has seen or left behind.

Keys. The sites derive each direction's key with HKDF-SHA256 from a deployment secret
and the two sites' names. The secret is derived from values every member's config holds
(the deployment's name and T=0): no handshake and no key distribution, so the tunnel
protects against observers on the path who do not know those values, not against one
who does. WireGuard's Noise handshake (static and ephemeral keys, cookies) is not built.
"""
from __future__ import annotations

import hashlib
import struct
from typing import Optional

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

DATA = 4
HEADER = struct.Struct("!BQ")
OVERHEAD = HEADER.size + 16
WINDOW = 64


def deployment_secret(overlay: str, t0: float) -> bytes:
    return hashlib.sha256(f"vpn:{overlay}:{t0!r}".encode()).digest()


def direction_key(secret: bytes, sender: str, receiver: str) -> bytes:
    return HKDF(hashes.SHA256(), 32, salt=b"testbed-vpn-1",
                info=f"{sender}->{receiver}".encode()).derive(secret)


class Sender:
    def __init__(self, key: bytes):
        self.aead, self.counter = ChaCha20Poly1305(key), 0

    def seal(self, packet: bytes) -> bytes:
        self.counter += 1
        nonce = bytes(4) + struct.pack("!Q", self.counter)
        return HEADER.pack(DATA, self.counter) + self.aead.encrypt(nonce, packet, None)


class Receiver:
    def __init__(self, key: bytes):
        self.aead = ChaCha20Poly1305(key)
        self.highest, self.seen = 0, 0  # bit i of seen: counter highest - i arrived

    def open(self, datagram: bytes) -> Optional[bytes]:
        """The packet, or None: not ours, forged, corrupted, replayed or too old."""
        if len(datagram) < OVERHEAD or datagram[0] != DATA:
            return None
        _, counter = HEADER.unpack_from(datagram)
        if counter == 0 or counter + WINDOW <= self.highest:
            return None
        if counter <= self.highest and self.seen >> (self.highest - counter) & 1:
            return None
        try:
            packet = self.aead.decrypt(bytes(4) + struct.pack("!Q", counter),
                                       datagram[HEADER.size:], None)
        except InvalidTag:
            return None
        if counter > self.highest:  # authenticated: only now move the window
            shift = counter - self.highest
            self.seen = ((self.seen << shift) | 1) & ((1 << WINDOW) - 1) if shift < WINDOW else 1
            self.highest = counter
        else:
            self.seen |= 1 << (self.highest - counter)
        return packet
