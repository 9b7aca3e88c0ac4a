"""The prober's request bookkeeping (no sockets): what it sends, and what it reports."""
import pytest

from testbed.measure.prober import Probe, Request


def answer(req, addr, rtt, reply, final):
    dst, ttl = req.next_probe()
    probe = Probe(req, dst, req.sent, ttl, 1, 0)
    req.sent += 1
    req.record(probe, addr, rtt, reply, final)
    return ttl


def test_ping_round_robins_destinations_count_times():
    req = Request({"id": 1, "op": "ping", "dst": ["10.0.0.1", "10.0.0.2"], "count": 2})
    sent = [req.next_probe() for _ in range(5)]
    assert sent == [("10.0.0.1", 64), ("10.0.0.2", 64)] * 2 + [None]


def test_trace_stops_asking_beyond_the_destination_and_summarises_hops():
    req = Request({"id": 2, "op": "trace", "dst": "10.0.9.2", "per_hop": 1, "max_ttl": 10})
    assert answer(req, "10.0.1.1", 1.0, "time-exceeded", False) == 1
    assert answer(req, None, None, "timeout", False) == 2
    assert answer(req, "10.0.9.2", 3.0, "echo-reply", True) == 3
    assert req.next_probe() is None  # TTLs 4..10 are not needed
    done = req.summary()
    assert done["reached"]
    assert [(h["ttl"], h["addr"], h["rtt_ms"]) for h in done["hops"]] == \
        [(1, "10.0.1.1", [1.0]), (2, None, []), (3, "10.0.9.2", [3.0])]
    assert done["hops"][1]["reply"] == "timeout"


def test_trace_that_never_arrives_is_not_reached():
    req = Request({"id": 3, "op": "trace", "dst": "10.0.9.2", "per_hop": 1, "max_ttl": 2})
    answer(req, "10.0.1.1", 1.0, "time-exceeded", False)
    answer(req, "10.0.2.1", 2.0, "time-exceeded", False)
    assert not req.summary()["reached"]


@pytest.mark.parametrize("spec,message", [
    ({"id": 1, "op": "dance", "dst": "10.0.0.1"}, "unknown op"),
    ({"id": 1, "op": "ping", "dst": "not-an-address"}, "illegal IP"),
])
def test_bad_requests_are_refused(spec, message):
    with pytest.raises(OSError if "illegal" in message else ValueError, match=message):
        Request(spec)
