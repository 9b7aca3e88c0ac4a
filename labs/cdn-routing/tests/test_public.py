"""Public tests of cdn_policy.py: `python -m pytest labs/cdn-routing/tests` with your
cdn_policy.py importable (next to this file, or on PYTHONPATH)."""
from cdn_policy import choose

from overlays.cdn import Routing
from overlays.cdn.routing import Client, EdgeState

ROUTING = Routing(dead_after=1.5, load_threshold=100)
CLIENT = Client("10.0.0.1", 100)


def edge(name, rtt=None, last=9.0, load=0.0):
    return EdgeState(name, f"10.9.0.{len(name)}", 1, last_report=last, load=load,
                     rtt_ms={} if rtt is None else {CLIENT.ip: rtt})


def test_nearest_by_measured_rtt():
    edges = [edge("e1", 30), edge("e2", 10), edge("e3", 20)]
    assert choose(edges, CLIENT, 10.0, ROUTING).name == "e2"


def test_a_dead_edge_is_never_answered():
    edges = [edge("e1", 30), edge("e2", 10, last=5.0), edge("e3", 20)]
    assert choose(edges, CLIENT, 10.0, ROUTING).name == "e3"


def test_no_edge_alive_gives_none():
    edges = [edge("e1", 30, last=1.0), edge("e2", 10, last=float("-inf"))]
    assert choose(edges, CLIENT, 10.0, ROUTING) is None
    assert choose([], CLIENT, 10.0, ROUTING) is None


def test_an_unmeasured_client_still_gets_an_alive_edge():
    edges = [edge("e1", last=2.0), edge("e2"), edge("e3")]
    assert choose(edges, CLIENT, 10.0, ROUTING).name in ("e2", "e3")


def test_an_overloaded_edge_is_skipped():
    edges = [edge("e1", 10, load=150), edge("e2", 20, load=20)]
    assert choose(edges, CLIENT, 10.0, ROUTING).name == "e2"
