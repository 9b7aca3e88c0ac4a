"""The VPN's packets: sealed per direction, authenticated, never accepted twice."""
from overlays.vpn import VpnParams, check
from overlays.vpn.analysis import metrics
from overlays.vpn.tunnel import OVERHEAD, Receiver, Sender, deployment_secret, direction_key

SECRET = deployment_secret("vpn", 1.5)


def pair():
    key = direction_key(SECRET, "a", "b")
    return Sender(key), Receiver(key)


def test_a_packet_round_trips_and_costs_25_bytes():
    s, r = pair()
    datagram = s.seal(b"\x45" + bytes(99))
    assert len(datagram) == 100 + OVERHEAD == 125  # type, counter, tag
    assert r.open(datagram) == b"\x45" + bytes(99)


def test_forged_corrupted_and_other_direction_packets_are_dropped():
    s, r = pair()
    datagram = bytearray(s.seal(b"secret"))
    datagram[-1] ^= 1
    assert r.open(bytes(datagram)) is None
    back = Sender(direction_key(SECRET, "b", "a")).seal(b"secret")
    assert r.open(back) is None  # each direction has its own key
    other = Sender(direction_key(deployment_secret("vpn", 1.6), "a", "b")).seal(b"x")
    assert r.open(other) is None
    assert r.open(b"\x04short") is None


def test_replays_and_packets_older_than_the_window_are_dropped():
    s, r = pair()
    sealed = [s.seal(bytes([i])) for i in range(100)]
    assert r.open(sealed[5]) == b"\x05"
    assert r.open(sealed[5]) is None  # replay
    assert r.open(sealed[3]) == b"\x03"  # late but inside the window
    assert r.open(sealed[99]) == bytes([99])
    assert r.open(sealed[20]) is None  # 79 behind the highest: outside the 64
    assert r.open(sealed[40]) == bytes([40])
    assert r.open(sealed[40]) is None


def test_params_and_metrics():
    p = VpnParams(network="10.99.0.0/29")
    assert p.address(0) == "10.99.0.1"
    assert [m for _, m in check(p, [f"h{i}" for i in range(7)])]  # 7 sites, 6 addresses
    records = [{"metric": "rtt_direct_ms", "value": 10.0, "host": "a", "peer": "b"},
               {"metric": "rtt_tunnel_ms", "value": 10.4, "host": "a", "peer": "b"},
               {"metric": "tcp_direct_mbit", "value": 100.0},
               {"metric": "tcp_tunnel_mbit", "value": 80.0}]
    m = metrics(records, p)
    assert m["rtt_overhead_ms"] == 0.4 and m["tcp_ratio"] == 0.8
