"""The virtio-net header before each frame the emulator reads and writes (PACKET_VNET_HDR).

With it a raw socket passes the kernel's TCP segmentation offload through: a TCP sender
hands its veth up to 64 KB in one frame (a GSO frame), with the segment size and the
checksum still to fill in described in this header; the emulator reads that frame whole,
delays it and writes it on with the same header, and only the receiving host's stack (or
a router's interface that cannot take it) cuts it into segments. Without the header the
socket must see every 1.5 KB segment, and a Python emulator carrying a 10-crossing path
cost TCP its throughput (74-87 Mbit/s on internet-50, against the 100 of the target).

A GSO frame is one frame to the shaper: right for a link that only delays (its segments
would all leave together anyway), wrong for one with loss, jitter or a rate, whose
segments must each be drawn, spread or queued. The harness keeps GSO frames off those
links (`shaper.Params.per_segment`): their node ends take GSO frames of one segment at most
(gso_max_segs 1), so the kernel sending into them segments first.

    struct virtio_net_hdr { u8 flags; u8 gso_type; u16 hdr_len; u16 gso_size;
                            u16 csum_start; u16 csum_offset; }   (host byte order)
"""
from __future__ import annotations

import struct

PACKET_VNET_HDR = 15  # SOL_PACKET option
GSO_MAX_SEGS = 65535  # a veth's own limit; 1 makes the kernel segment before sending
HEADER = 10
GSO_SIZE = struct.Struct("=H")  # at byte 4
GSO_MASK = 0x7F  # gso_type without its ECN bit; 0: an ordinary frame
GSO_UDP_L4 = 5
ETH, IPV6_HEADER, UDP_HEADER = 14, 40, 8


def wire_bytes(frame: bytes) -> int:
    """The bytes `frame` (header first) puts on the wire: its own size for an ordinary
    frame, and for a GSO frame its segments', each with its own copy of the headers."""
    size = len(frame) - HEADER
    if not frame[1] & GSO_MASK:
        return size
    gso_size = GSO_SIZE.unpack_from(frame, 4)[0]
    l3 = HEADER + ETH
    l4 = l3 + (frame[l3] & 0x0F) * 4 if frame[l3] >> 4 == 4 else l3 + IPV6_HEADER
    headers = (l4 + (UDP_HEADER if frame[1] & GSO_MASK == GSO_UDP_L4 else
                     (frame[l4 + 12] >> 4) * 4)) - HEADER
    segments = max(1, -(-(size - headers) // max(gso_size, 1)))
    return size + (segments - 1) * headers
