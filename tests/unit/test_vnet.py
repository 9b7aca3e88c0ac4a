"""The virtio-net header the emulator reads before each frame: the bytes a GSO frame puts
on the wire (its segments, each with its own headers), and the links that must carry
segments."""
import struct

from testbed.underlay.linkemu.classes import port_key
from testbed.underlay.linkemu.shaper import Params
from testbed.underlay.linkemu.vnet import HEADER, wire_bytes


def vnet(gso_type=0, gso_size=0):
    return struct.pack("=BBHHHH", 1, gso_type, 0, gso_size, 34, 16)


def tcp_frame(payload, options=12):
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + 20 + options + payload, 1, 0, 64, 6, 0,
                     bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2]))
    tcp = struct.pack("!HHIIBBHHH", 40000, 5201, 1, 0, (20 + options) // 4 << 4, 0x10, 0, 0, 0)
    return b"\x00" * 12 + b"\x08\x00" + ip + tcp + b"\x00" * options + b"x" * payload


def test_an_ordinary_frame_is_its_own_size():
    frame = vnet() + tcp_frame(1448)
    assert wire_bytes(frame) == 14 + 20 + 32 + 1448 == len(frame) - HEADER


def test_a_gso_frame_counts_its_segments_headers():
    frame = vnet(gso_type=1, gso_size=1448) + tcp_frame(44 * 1448 + 100)
    assert wire_bytes(frame) == 44 * 1514 + (66 + 100)  # 45 segments, the last short
    ecn = vnet(gso_type=0x81, gso_size=1448) + tcp_frame(2 * 1448)
    assert wire_bytes(ecn) == 2 * 1514


def test_a_udp_gso_frame_has_8_byte_transport_headers():
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + 8 + 3000, 1, 0, 64, 17, 0,
                     bytes(4), bytes(4))
    frame = vnet(gso_type=5, gso_size=1000) + b"\x00" * 12 + b"\x08\x00" + ip + bytes(8) + \
        bytes(3000)
    assert wire_bytes(frame) == 3 * (14 + 20 + 8 + 1000)


def test_ports_are_read_after_the_header():
    frame = vnet() + tcp_frame(10)
    assert port_key(frame, HEADER) == struct.pack("!HH", 40000, 5201)


def test_links_with_loss_jitter_or_a_rate_carry_segments():
    assert not Params(delay_ms=5).per_segment
    assert Params(loss_pct=1).per_segment and Params(jitter_ms=1).per_segment
    assert Params(rate_mbit=50).per_segment
    assert not Params(up=False).per_segment
