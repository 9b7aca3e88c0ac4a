"""Probe packets: stamping, checksums, and matching every kind of reply to its probe."""
import pytest
from scapy.layers.inet import ICMP, IP, TCP
from scapy.packet import Raw

from testbed.measure import packets

SRC, DST, ROUTER, IDENT = "10.0.1.2", "10.0.9.2", "10.0.5.1", 41000


def probe(kind, key=77, ttl=5, **kw):
    return packets.template(kind, SRC, DST, IDENT, **kw).stamp(key, ttl)


@pytest.mark.parametrize("kind,size", [("icmp", 84), ("udp", 84), ("tcp", 40), ("icmp", 28)])
def test_stamped_probe_is_a_valid_packet_with_key_and_ttl(kind, size):
    raw = probe(kind, size=size if kind != "tcp" else None)
    pkt = IP(raw)
    assert len(raw) == size and pkt.ttl == 5 and pkt.id == 77 and pkt.dst == DST
    l4 = pkt.payload
    sent_checksum = l4.chksum
    del l4.chksum
    assert IP(bytes(pkt)).payload.chksum == sent_checksum or (kind == "udp" and sent_checksum == 0)
    if kind == "icmp":
        assert (l4.id, l4.seq, l4.type) == (IDENT, 77, 8)
    if kind == "tcp":
        assert (l4.sport, l4.seq, l4.flags) == (IDENT, 77, "S")
    if kind == "udp":
        assert (l4.sport, l4.dport) == (IDENT, 33434)


def test_stamping_twice_from_one_template_gives_independent_probes():
    tpl = packets.template("icmp", SRC, DST, IDENT)
    a, b = tpl.stamp(1, 64), tpl.stamp(2, 3)
    assert IP(a).payload.seq == 1 and IP(b).payload.seq == 2 and IP(b).ttl == 3


def test_echo_reply_matches_by_identifier_and_sequence():
    reply = bytes(IP(src=DST, dst=SRC) / ICMP(type=0, id=IDENT, seq=77) / Raw(b"x" * 56))
    assert packets.parse(reply) == packets.Reply("icmp", IDENT, 77, DST, DST, "echo-reply", True)


@pytest.mark.parametrize("kind", packets.KINDS)
def test_time_exceeded_from_a_router_matches_through_the_quoted_header(kind):
    quoted = probe(kind)[:28]  # IP header + 8 bytes, as RFC 792 routers quote
    reply = bytes(IP(src=ROUTER, dst=SRC) / ICMP(type=11, code=0) / Raw(quoted))
    got = packets.parse(reply)
    assert got == packets.Reply(kind, IDENT, 77, ROUTER, DST, "time-exceeded", False)


def test_port_unreachable_from_the_destination_ends_a_udp_probe():
    reply = bytes(IP(src=DST, dst=SRC) / ICMP(type=3, code=3) / Raw(probe("udp")[:28]))
    got = packets.parse(reply)
    assert (got.reply, got.final, got.key, got.src) == ("port-unreachable", True, 77, DST)


@pytest.mark.parametrize("flags,name", [("SA", "syn-ack"), ("RA", "rst")])
def test_tcp_answers_acknowledge_the_key(flags, name):
    reply = bytes(IP(src=DST, dst=SRC) / TCP(sport=80, dport=IDENT, seq=5, ack=78, flags=flags))
    assert packets.parse(reply) == packets.Reply("tcp", IDENT, 77, DST, DST, name, True)


@pytest.mark.parametrize("data", [
    b"",  # empty
    bytes(IP(src=DST, dst=SRC) / ICMP(type=8, id=IDENT, seq=1)),  # someone's echo request
    bytes(IP(src=DST, dst=SRC) / TCP(flags="A")),  # a plain ACK
    bytes(IP(src=DST, dst=SRC) / ICMP(type=11) / Raw(b"\x45")),  # truncated quote
])
def test_packets_that_answer_no_probe_are_ignored(data):
    assert packets.parse(data) is None


def test_keys_never_zero_and_wrap():
    assert packets.key_of(0) == 1 and packets.key_of(65534) == 65535 and packets.key_of(65535) == 1


@pytest.mark.parametrize("kind,size,message", [
    ("icmp", 20, "out of range"), ("udp", 1501, "out of range"), ("tcp", 84, "bare SYNs"),
    ("sctp", None, "unknown probe kind")])
def test_bad_probe_parameters_are_refused(kind, size, message):
    with pytest.raises(ValueError, match=message):
        packets.template(kind, SRC, DST, IDENT, size=size)


def test_checksum_of_known_header():
    # RFC 1071 worked example bytes
    assert packets.checksum(bytes.fromhex("0001f203f4f5f6f7")) == 0x220D
