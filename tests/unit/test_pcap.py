"""The pcap reader the wire metrics count with, on files written here byte by byte."""
import socket
import struct

import pytest

from testbed.measure.pcap import PcapError, packets, sent_rate


def frame(src, dst, proto=17, sport=7100, dport=7100, fragment=0):
    l4 = struct.pack("!HHHH", sport, dport, 12, 0) + b"ping" if proto in (6, 17) else b"x" * 8
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), 1, fragment, 64, proto, 0,
                     socket.inet_aton(src), socket.inet_aton(dst))
    return b"\x02" * 6 + b"\x04" * 6 + b"\x08\x00" + ip + l4


def pcap(path, records, nano=False, big=False):
    o = ">" if big else "<"
    magic = 0xA1B23C4D if nano else 0xA1B2C3D4
    out = struct.pack(o + "IHHiIII", magic, 2, 4, 0, 0, 65535, 1)
    for t, data in records:
        sec, frac = int(t), round((t - int(t)) * (1e9 if nano else 1e6))
        out += struct.pack(o + "IIII", sec, frac, len(data), len(data)) + data
    path.write_bytes(out)
    return path


@pytest.mark.parametrize("nano,big", [(False, False), (True, False), (False, True)])
def test_packets_are_read_in_either_byte_order_and_resolution(tmp_path, nano, big):
    arp = b"\xff" * 6 + b"\x02" * 6 + b"\x08\x06" + bytes(28)
    path = pcap(tmp_path / "a.pcap", [(100.25, frame("10.0.0.1", "10.0.0.2")), (100.5, arp),
                                      (101.0, frame("10.0.0.2", "10.0.0.1", 1)),
                                      (101.5, frame("10.0.0.1", "10.0.0.2", fragment=185))],
                nano=nano, big=big)
    got = list(packets(path))
    assert [(round(p.t, 6), p.src, p.proto, p.sport, p.dport) for p in got] == [
        (100.25, "10.0.0.1", 17, 7100, 7100), (101.0, "10.0.0.2", 1, 0, 0),
        (101.5, "10.0.0.1", 17, 0, 0)]  # a later fragment has no ports


def test_a_senders_rate_on_its_ports_within_a_window(tmp_path):
    records = [(10 + i * 0.1, frame("10.0.0.1", "10.0.0.2")) for i in range(21)]  # 10/s
    records += [(10 + i * 0.05, frame("10.0.0.1", "10.0.0.2", sport=9000, dport=9000))
                for i in range(41)]  # another port
    records += [(10 + i * 0.1, frame("10.0.0.2", "10.0.0.1")) for i in range(21)]  # replies
    got = list(packets(pcap(tmp_path / "b.pcap", sorted(records))))
    assert sent_rate(got, "10.0.0.1", {7100}, 0, 1e9) == pytest.approx(10)
    assert sent_rate(got, "10.0.0.1", {7100}, 10.5, 1e9) == pytest.approx(10)
    assert sent_rate(got, "10.0.0.1", {7100}, 0, 10.5) is None  # under a second: no rate
    # bursts of 3 every 0.5 s for 10 s: 6/s, not the 6.3 a first-to-last span would say
    bursts = [(20 + k * 0.5 + j * 0.001, frame("10.0.0.3", "10.0.0.2"))
              for k in range(21) for j in range(3)]
    got = list(packets(pcap(tmp_path / "d.pcap", bursts)))
    assert sent_rate(got, "10.0.0.3", {7100}, 0, 1e9) == pytest.approx(6)


def test_what_is_not_a_pcap_is_refused(tmp_path):
    (tmp_path / "c.pcap").write_bytes(b"\x0a\x0d\x0d\x0a" + bytes(40))  # pcapng
    with pytest.raises(PcapError):
        list(packets(tmp_path / "c.pcap"))
