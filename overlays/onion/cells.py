"""Cells, the only unit relays exchange: fixed 512 bytes, so that an observer of a link
learns nothing from sizes (Tor's fixed-size cells, tor-spec §3, simplified).

    cell    = circ_id (4, big-endian) | command (1) | payload (507)
    relay   = relay_cmd (1) | recognized (2, zero) | stream_id (2) | digest (4)
              | length (2) | data (496, zero-padded)

A relay payload travels encrypted in one layer per hop; a hop knows a cell is for it when,
after removing its layer, `recognized` is zero and `digest` matches its running digest
(crypto.Layer). Pure: no sockets.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import List, Tuple

CELL = 512
PAYLOAD = CELL - 5
RELAY_DATA = PAYLOAD - 11  # 496 bytes of application data per relay cell

# cell commands
PADDING, CREATE, CREATED, RELAY, DESTROY = 0, 1, 2, 3, 4
# relay commands
BEGIN, DATA, END, CONNECTED, EXTEND, EXTENDED = 1, 2, 3, 4, 6, 7
RELAY_NAMES = {BEGIN: "begin", DATA: "data", END: "end", CONNECTED: "connected",
               EXTEND: "extend", EXTENDED: "extended"}

_HEAD = struct.Struct("!IB")
_RELAY = struct.Struct("!BHHIH")  # cmd, recognized, stream, digest, length
DIGEST_AT = slice(5, 9)  # where the digest sits inside a relay payload


class CellError(ValueError):
    """A cell or relay payload that does not parse: the sender is broken or hostile."""


def pack(circ_id: int, command: int, payload: bytes = b"") -> bytes:
    if len(payload) > PAYLOAD:
        raise CellError(f"payload of {len(payload)} bytes exceeds {PAYLOAD}")
    return _HEAD.pack(circ_id, command) + payload + bytes(PAYLOAD - len(payload))


def unpack(cell: bytes) -> Tuple[int, int, bytes]:
    if len(cell) != CELL:
        raise CellError(f"a cell is {CELL} bytes, not {len(cell)}")
    circ_id, command = _HEAD.unpack_from(cell)
    return circ_id, command, cell[5:]


def split(buffer: bytearray) -> List[bytes]:
    """Remove and return the whole cells at the start of `buffer` (a stream's bytes)."""
    n = len(buffer) // CELL * CELL
    cells = [bytes(buffer[i:i + CELL]) for i in range(0, n, CELL)]
    del buffer[:n]
    return cells


@dataclass(frozen=True)
class Relay:
    command: int
    stream: int
    data: bytes = b""

    def payload(self) -> bytes:
        """The plaintext payload with a zero digest (the sender's Layer fills it in)."""
        if len(self.data) > RELAY_DATA:
            raise CellError(f"relay data of {len(self.data)} bytes exceeds {RELAY_DATA}")
        head = _RELAY.pack(self.command, 0, self.stream, 0, len(self.data))
        return head + self.data + bytes(RELAY_DATA - len(self.data))


def parse_relay(payload: bytes) -> Relay:
    """A recognised (decrypted, digest checked) relay payload."""
    command, _, stream, _, length = _RELAY.unpack_from(payload)
    if length > RELAY_DATA:
        raise CellError(f"relay length {length} exceeds {RELAY_DATA}")
    return Relay(command, stream, payload[11:11 + length])
