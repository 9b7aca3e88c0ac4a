"""Traffic classes by port and the ISP's policer, as the link emulator and tc apply them:
frames classified by destination then source port, a token bucket holding a throttled
class to its rate, a block dropping all of it, and the tc script the netem back end runs."""
import struct

import pytest

from testbed.underlay.linkemu.classes import (UNDERLAY, ClassFilter, Policer, burst_bytes,
                                              classify, port_key)
from testbed.underlay.tcpolice import failures, police_script


def frame(sport, dport, proto=17, size=100, frag=0, ethertype=0x0800):
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, size - 14, 1, frag, 64, proto, 0,
                     bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2]))
    l4 = struct.pack("!HH", sport, dport)
    body = ip + l4
    return b"\x00" * 12 + struct.pack("!H", ethertype) + body + b"\x00" * (size - 14 - len(body))


def test_frames_are_classified_by_destination_then_source_port():
    ports = {7100: "ron", 9001: "app"}
    assert port_key(frame(40000, 9001)) == bytes([0x9c, 0x40, 0x23, 0x29])
    assert classify(frame(40000, 9001), ports) == "app"  # a client to the server
    assert classify(frame(9001, 40000), ports) == "app"  # the server's answer
    assert classify(frame(7100, 9001), ports) == "app"  # the destination decides
    assert classify(frame(7100, 7100, proto=6), ports) == "ron"  # TCP as well
    assert classify(frame(1, 2), ports) == UNDERLAY
    assert classify(frame(7100, 7100, proto=1), ports) == UNDERLAY  # ICMP has no ports
    assert classify(frame(7100, 7100, frag=100), ports) == UNDERLAY  # a later fragment
    assert classify(frame(7100, 7100, ethertype=0x0806), ports) == UNDERLAY  # ARP
    assert classify(b"\x00" * 20, ports) == UNDERLAY  # too short to be anything


def test_a_throttled_class_leaves_at_its_rate():
    policer = Policer(2.0)  # Mbit/s
    size, offered = 1000, 8.0  # a 1000-byte frame every 1 ms: 8 Mbit/s offered
    passed = sum(policer.admit(k * 0.001, size) for k in range(10_000))  # 10 s
    rate = passed * size * 8 / 10 / 1e6
    assert rate == pytest.approx(2.0, rel=0.02) and rate < offered
    assert burst_bytes(2.0) == 3028 and burst_bytes(100.0) == 125_000


def test_a_class_filter_counts_polices_blocks_and_lifts():
    f = ClassFilter()
    f.ports.update({7100: "ron"})

    def send(t, fr):
        key = f.admit(t, fr, len(fr))
        if key is not None:
            f.count(key, len(fr))
        return key is not None
    assert send(0.0, frame(7100, 7100)) and send(0.0, frame(1, 2))
    assert f.bytes == {"ron": 100, UNDERLAY: 100}
    f.police("ron", 0.0)  # block
    assert not send(0.1, frame(7100, 7100)) and send(0.1, frame(1, 2))
    f.police("ron", None)
    assert send(0.2, frame(7100, 7100)) and send(0.2, frame(7100, 7100, proto=1))
    assert f.bytes == {"ron": 200, UNDERLAY: 300} and f.dropped == {"ron": 1}


def test_the_tc_script_sends_a_class_to_its_own_policed_chain():
    script = police_script("eth1", 2, [7100, 9001], 1.5)
    assert "qdisc add dev eth1 clsact" in script
    assert "filter del dev eth1 egress prio 12" in script
    assert ("filter add dev eth1 egress chain 102 prio 1 protocol ip u32 match u32 0 0 "
            "action police rate 1500000bit burst 3028 conform-exceed drop/ok") in script
    for port in (7100, 9001):
        for field in ("dport", "sport"):
            assert (f"filter add dev eth1 egress prio 12 protocol ip u32 match ip {field} "
                    f"{port} 0xffff action goto chain 102") in script
    assert "action drop" in police_script("eth1", 0, [7100], 0.0)
    lifted = police_script("eth1", 0, [7100], None)
    assert "filter del" in lifted and "filter add" not in lifted


def test_only_failed_steps_beyond_clearing_are_failures():
    # the first throttle of a class: nothing to clear, which tc reports for lines 1-3
    assert failures("Error: Exclusivity flag on\nCommand failed -:1\n"
                    "Error: Filter not found\nCommand failed -:3\n") == ""
    assert "Unknown action" in failures("Command failed -:2\nUnknown action police\n"
                                        "Command failed -:4\n")
