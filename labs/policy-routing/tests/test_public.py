"""Public tests of bgp_policy.py: run them with `pytest labs/policy-routing/tests` from
your lab directory (the grader runs them, and hidden ones, in a sandbox)."""
from bgp_policy import export, rank

from testbed.grading.bgp import AsPolicy, Neighbour, Route

POLICY = AsPolicy(asn=10, local_pref={20: 200})


def route(relationship, path, neighbour, pref=100, dest=99):
    return Route(dest, tuple(path), neighbour, relationship, pref)


def best(*routes):
    return min(routes, key=lambda r: rank(r, POLICY))


def test_customer_routes_beat_shorter_peer_and_provider_routes():
    c = route("customer", [30, 40, 50, 99], 30)
    p = route("peer", [20, 99], 20)
    v = route("provider", [1, 99], 1)
    assert best(c, p, v) is c
    assert best(p, v) is p


def test_own_route_beats_everything():
    own = Route(10, (), None, "origin", 100)
    assert best(own, route("customer", [30, 10], 30, dest=10)) is own


def test_shorter_path_then_lowest_neighbour_within_a_class():
    assert best(route("peer", [20, 5, 99], 20), route("peer", [21, 99], 21)).neighbour == 21
    assert best(route("peer", [21, 99], 21), route("peer", [20, 99], 20)).neighbour == 20


def test_local_pref_orders_routes_within_a_class():
    high = route("provider", [20, 7, 8, 99], 20, pref=200)
    low = route("provider", [2, 99], 2)
    assert best(high, low) is high


def test_valley_free_export():
    customer, peer, provider = (Neighbour(30, "customer"), Neighbour(20, "peer"),
                                Neighbour(1, "provider"))
    for learned in ("origin", "customer"):
        r = route(learned, [30, 99], 30)
        assert export(r, peer, POLICY) and export(r, provider, POLICY)
    for learned in ("peer", "provider"):
        r = route(learned, [20, 99], 20)
        assert export(r, customer, POLICY)
        assert not export(r, peer, POLICY) and not export(r, provider, POLICY)
