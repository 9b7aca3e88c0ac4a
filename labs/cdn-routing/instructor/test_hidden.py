"""Hidden tests of cdn_policy.py."""
from cdn_policy import choose

from overlays.cdn import Routing
from overlays.cdn.routing import Client, EdgeState

ROUTING = Routing(dead_after=1.5, load_threshold=100)
CLIENT = Client("10.0.0.1", 100)


def edge(name, rtt=None, last=9.0, load=0.0):
    return EdgeState(name, f"10.9.0.{len(name)}", 1, last_report=last, load=load,
                     rtt_ms={} if rtt is None else {CLIENT.ip: rtt, "10.0.0.2": 1.0})


def test_exactly_dead_after_is_still_alive():
    edges = [edge("e1", 10, last=8.5), edge("e2", 20)]
    assert choose(edges, CLIENT, 10.0, ROUTING).name == "e1"


def test_the_load_threshold_itself_is_overloaded():
    edges = [edge("e1", 10, load=100), edge("e2", 20, load=99.9)]
    assert choose(edges, CLIENT, 10.0, ROUTING).name == "e2"


def test_all_overloaded_gives_the_least_loaded():
    edges = [edge("e1", 10, load=300), edge("e2", 20, load=150), edge("e3", 5, load=200)]
    assert choose(edges, CLIENT, 10.0, ROUTING).name == "e2"


def test_the_rtt_is_the_clients_own():
    edges = [edge("e1", 30), edge("e2", 10)]
    edges[0].rtt_ms["10.0.0.2"] = 0.1  # near another client, far from this one
    assert choose(edges, CLIENT, 10.0, ROUTING).name == "e2"


def test_ties_go_to_the_first_name():
    edges = [edge("e2", 10), edge("e1", 10)]
    assert choose(edges, CLIENT, 10.0, ROUTING).name == "e1"


def test_a_dead_edge_is_not_answered_even_if_it_is_the_only_light_one():
    edges = [edge("e1", 10, last=1.0, load=0), edge("e2", 20, load=500)]
    assert choose(edges, CLIENT, 10.0, ROUTING).name == "e2"
