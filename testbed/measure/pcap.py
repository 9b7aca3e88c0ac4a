"""What crossed a captured link, read from its pcap files: the wire's own account, an
oracle that shares no code with the agents whose traffic it counts.

`packets(path)` yields each IPv4 packet's capture time, source address, protocol and
ports (0 for other protocols) from a classic pcap file (tcpdump's `-w`: microsecond or
nanosecond timestamps, either byte order, Ethernet frames); `sent_rate` is one sender's
packets per second on given ports over a window.
Pure, unit-tested.
"""
from __future__ import annotations

import socket
import struct
from pathlib import Path
from typing import BinaryIO, Collection, Iterable, Iterator, NamedTuple, Optional

MAGIC = {b"\xd4\xc3\xb2\xa1": ("<", 1e-6), b"\xa1\xb2\xc3\xd4": (">", 1e-6),
         b"\x4d\x3c\xb2\xa1": ("<", 1e-9), b"\xa1\xb2\x3c\x4d": (">", 1e-9)}
LINKTYPE_ETHERNET = 1


class Packet(NamedTuple):
    t: float  # capture time, seconds since the epoch
    src: str
    dst: str
    proto: int
    sport: int
    dport: int
    size: int  # bytes on the wire (the frame's original length)


class PcapError(ValueError):
    """Not a pcap file this reader knows."""


def packets(path: Path) -> Iterator[Packet]:
    with open(path, "rb") as f:
        yield from _read(f)


def _read(f: BinaryIO) -> Iterator[Packet]:
    header = f.read(24)
    if len(header) < 24 or header[:4] not in MAGIC:
        raise PcapError("not a pcap file (or a pcapng one)")
    order, unit = MAGIC[header[:4]]
    if struct.unpack(order + "I", header[20:24])[0] != LINKTYPE_ETHERNET:
        raise PcapError("not Ethernet frames")
    record = struct.Struct(order + "IIII")
    while True:
        head = f.read(16)
        if len(head) < 16:
            return  # the end, or a record cut short by the capture's end
        sec, frac, kept, length = record.unpack(head)
        frame = f.read(kept)
        if len(frame) < kept:
            return
        packet = _ipv4(frame, sec + frac * unit, length)
        if packet is not None:
            yield packet


def _ipv4(frame: bytes, t: float, length: int) -> Optional[Packet]:
    if len(frame) < 34 or frame[12:14] != b"\x08\x00" or frame[14] >> 4 != 4:
        return None
    ihl = (frame[14] & 0x0F) * 4
    proto = frame[23]
    fragment = struct.unpack("!H", frame[20:22])[0] & 0x1FFF
    sport = dport = 0
    at = 14 + ihl
    if proto in (6, 17) and not fragment and len(frame) >= at + 4:
        sport, dport = struct.unpack("!HH", frame[at:at + 4])
    return Packet(t, socket.inet_ntoa(frame[26:30]), socket.inet_ntoa(frame[30:34]), proto,
                  sport, dport, length)


def sent_rate(captured: Iterable[Packet], src: str, ports: Collection[int], start: float,
              end: float) -> Optional[float]:
    """Packets per second `src` sent from or to `ports` (UDP or TCP) between `start` and
    `end`: those in the whole seconds from its first such packet on, over that many
    seconds (periodic bursts counted from one to the same phase; None: under a second)."""
    times = sorted(p.t for p in captured if p.src == src and start <= p.t <= end
                   and p.proto in (6, 17) and (p.sport in ports or p.dport in ports))
    if not times or times[-1] - times[0] < 1.0:
        return None
    seconds = int(times[-1] - times[0])
    return sum(1 for t in times if t < times[0] + seconds) / seconds
