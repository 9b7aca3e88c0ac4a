"""Probe packets: built once per (kind, destination) with scapy, stamped per probe, and
replies matched back to the probe that caused them. Pure (no sockets): unit-tested.

Why not scapy per probe: building a packet with scapy costs ~150 µs and dissecting a
reply about as much, which caps a prober at a few hundred probes/s (scapy's own `send()`
manages ~280/s here). So scapy builds a *template* once; each probe patches its IP ID,
TTL and one L4 field into a copy and recomputes the L4 checksum (~2 µs), and replies are
read with `struct` at fixed offsets.

How a reply finds its probe — the probe's *key* (1..65535) is written where every kind of
answer carries it back:

- the IP ID of every probe: ICMP errors (time-exceeded from a router, port-unreachable
  from the destination) quote the offending IP header, ID included (RFC 792);
- the ICMP sequence number of an echo request: the echo reply copies it;
- the TCP sequence number of a SYN: the SYN-ACK or RST acknowledges key + 1.

`ident` (the ICMP identifier, and the UDP/TCP source port) tells this prober's probes from
anyone else's on the same host. `size` is the IP packet's length in bytes, as on the wire
(84 is ping's default: 20 IP + 8 ICMP + 56 data); TCP probes are bare SYNs (40 bytes).
"""
from __future__ import annotations

import socket
import struct
from dataclasses import dataclass
from typing import Optional

KINDS = ("icmp", "udp", "tcp")
PROTO = {"icmp": 1, "udp": 17, "tcp": 6}
KIND_OF_PROTO = {v: k for k, v in PROTO.items()}
DEFAULT_SIZE = {"icmp": 84, "udp": 84, "tcp": 40}
MIN_SIZE = {"icmp": 28, "udp": 28, "tcp": 40}
DEFAULT_PORT = {"icmp": 0, "udp": 33434, "tcp": 80}  # traceroute's UDP base, HTTP for SYN
MAX_SIZE = 1500

UNREACHABLE = {0: "net-unreachable", 1: "host-unreachable", 2: "protocol-unreachable",
               3: "port-unreachable", 9: "net-prohibited", 10: "host-prohibited",
               13: "admin-prohibited"}


def key_of(seq: int) -> int:
    """Probe sequence number -> key (never 0: the kernel replaces an IP ID of 0)."""
    return seq % 65535 + 1


def checksum(data: bytes) -> int:
    """The Internet checksum (RFC 1071)."""
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


@dataclass
class Template:
    """A probe's bytes (IP header included) and how to stamp one probe into them."""
    kind: str
    src: str
    dst: str
    data: bytes

    def stamp(self, key: int, ttl: int) -> bytes:
        pkt = bytearray(self.data)
        struct.pack_into("!H", pkt, 4, key)
        pkt[8] = ttl
        if self.kind == "icmp":
            struct.pack_into("!H", pkt, 22, 0)
            struct.pack_into("!H", pkt, 26, key)
            struct.pack_into("!H", pkt, 22, checksum(bytes(pkt[20:])))
        elif self.kind == "tcp":
            struct.pack_into("!I", pkt, 24, key)
            struct.pack_into("!H", pkt, 36, 0)
            pseudo = (socket.inet_aton(self.src) + socket.inet_aton(self.dst)
                      + struct.pack("!BBH", 0, 6, len(pkt) - 20))
            struct.pack_into("!H", pkt, 36, checksum(pseudo + bytes(pkt[20:])))
        return bytes(pkt)


def template(kind: str, src: str, dst: str, ident: int, size: Optional[int] = None,
             port: Optional[int] = None) -> Template:
    """Build the probe template with scapy (imported here, once per process)."""
    from scapy.layers.inet import ICMP, IP, TCP, UDP

    if kind not in KINDS:
        raise ValueError(f"unknown probe kind '{kind}' (one of {', '.join(KINDS)})")
    size = DEFAULT_SIZE[kind] if size is None else size
    if kind == "tcp" and size != 40:
        raise ValueError("TCP probes are bare SYNs of 40 bytes; leave the size out")
    if not MIN_SIZE[kind] <= size <= MAX_SIZE:
        raise ValueError(f"size {size} out of range for {kind} ({MIN_SIZE[kind]}..{MAX_SIZE} bytes)")
    port = DEFAULT_PORT[kind] if port is None else port
    ip = IP(src=src, dst=dst, id=1, ttl=64, flags="DF")
    pad = bytes(size - MIN_SIZE[kind])
    if kind == "icmp":
        pkt = ip / ICMP(type=8, id=ident, seq=1) / pad
    elif kind == "udp":
        pkt = ip / UDP(sport=ident, dport=port, chksum=0) / pad
    else:
        pkt = ip / TCP(sport=ident, dport=port, seq=1, flags="S", window=64240)
    return Template(kind, src, dst, bytes(pkt))


@dataclass(frozen=True)
class Reply:
    """What came back: for which probe (kind, ident, key), from whom, and what it says.

    `final` replies come from the destination (echo reply, port unreachable, SYN-ACK, RST)
    or say it cannot be reached; time-exceeded comes from a router on the way.
    `dst` is the probe's destination as the reply states it."""
    kind: str
    ident: int
    key: int
    src: str
    dst: str
    reply: str
    final: bool


def parse(data: bytes) -> Optional[Reply]:
    """An IP packet received on a raw socket -> the Reply it is, or None if no probe's."""
    try:
        ihl = (data[0] & 0x0F) * 4
        proto, src = data[9], socket.inet_ntoa(data[12:16])
        if proto == 1:
            icmp_type, code = data[ihl], data[ihl + 1]
            if icmp_type == 0:
                ident, key = struct.unpack_from("!HH", data, ihl + 4)
                return Reply("icmp", ident, key, src, src, "echo-reply", True)
            if icmp_type not in (3, 11):
                return None
            inner = ihl + 8
            inner_ihl = (data[inner] & 0x0F) * 4
            kind = KIND_OF_PROTO.get(data[inner + 9])
            if kind is None:
                return None
            (key,) = struct.unpack_from("!H", data, inner + 4)
            l4 = inner + inner_ihl
            (ident,) = struct.unpack_from("!H", data, l4 + 4 if kind == "icmp" else l4)
            if icmp_type == 11:
                reply, final = "time-exceeded", False
            else:
                reply, final = UNREACHABLE.get(code, f"unreachable-{code}"), True
            return Reply(kind, ident, key, src, socket.inet_ntoa(data[inner + 16:inner + 20]),
                         reply, final)
        if proto == 6:
            _sport, dport, _seq, ack = struct.unpack_from("!HHII", data, ihl)
            flags = data[ihl + 13]
            if flags & 0x12 == 0x12:
                reply = "syn-ack"
            elif flags & 0x04:
                reply = "rst"
            else:
                return None
            return Reply("tcp", dport, (ack - 1) & 0xFFFF, src, src, reply, True)
    except (IndexError, struct.error, OSError):
        return None
    return None
