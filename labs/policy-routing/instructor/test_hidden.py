"""Hidden tests: not in the student bundle."""
from bgp_policy import export, rank

from testbed.grading.bgp import AsPolicy, Neighbour, Route


def test_no_export_silences_a_neighbour_entirely():
    policy = AsPolicy(asn=10, no_export=(30,))
    own = Route(10, (), None, "origin", 100)
    assert not export(own, Neighbour(30, "customer"), policy)
    assert export(own, Neighbour(31, "customer"), policy)


def test_local_pref_never_lifts_a_route_above_its_class():
    policy = AsPolicy(asn=10, local_pref={1: 500})
    provider = Route(99, (1, 99), 1, "provider", 500)
    peer = Route(99, (20, 5, 6, 99), 20, "peer", 100)
    assert min((provider, peer), key=lambda r: rank(r, policy)) is peer


def test_rank_is_a_total_order_on_distinct_neighbours():
    policy = AsPolicy(asn=10)
    routes = [Route(99, (n, 99), n, "peer", 100) for n in (40, 20, 30)]
    assert [r.neighbour for r in sorted(routes, key=lambda r: rank(r, policy))] == [20, 30, 40]
