"""Policy routing: the three-sweep solver against a brute-force fixed point, on random
tiered AS graphs with random (Gao-Rexford safe) policies, plus the properties the issue
names: valley-free, customer routes first, deterministic."""
import random
from typing import Dict, Optional, Tuple

from hypothesis import given, settings
from hypothesis import strategies as st

from testbed.control.policy import (ASGraph, CUSTOMER, DEFAULT_PREF, ORIGIN, candidates, compute, why)
from testbed.control.verify import valley_free, violations
from testbed.model import load_topology
from testbed.model.network import Policy


def random_graph(seed: int, with_policies: bool) -> ASGraph:
    rng = random.Random(seed)
    tiers = [[1, 2, 3][: rng.randint(1, 3)]]
    next_asn = 10
    for _ in range(rng.randint(1, 3)):
        tier = list(range(next_asn, next_asn + rng.randint(1, 5)))
        next_asn += 10
        tiers.append(tier)
    pc, peers = set(), set()
    for i, a in enumerate(tiers[0]):
        for b in tiers[0][i + 1:]:
            peers.add((a, b))
    for level in range(1, len(tiers)):
        above = [a for t in tiers[:level] for a in t]
        for asn in tiers[level]:
            for provider in rng.sample(above, k=min(len(above), rng.randint(1, 2))):
                pc.add((provider, asn))
        for _ in range(rng.randint(0, 2)):
            a, b = rng.sample(tiers[level], 2) if len(tiers[level]) > 1 else (None, None)
            if a is not None and (b, a) not in peers:
                peers.add((min(a, b), max(a, b)))
    asns = [a for t in tiers for a in t]
    policies: Dict[int, Policy] = {}
    if with_policies:
        nbrs = {a: set() for a in asns}
        for a, b in list(pc) + list(peers):
            nbrs[a].add(b)
            nbrs[b].add(a)
        for asn in asns:
            if rng.random() < 0.5 and nbrs[asn]:
                ns = sorted(nbrs[asn])
                policies[asn] = Policy(
                    local_pref={n: rng.choice((50, 100, 150)) for n in rng.sample(ns, k=rng.randint(0, len(ns)))},
                    prefer=frozenset(rng.sample(asns, k=rng.randint(0, 1))),
                    avoid=frozenset(rng.sample(asns, k=rng.randint(0, 1))),
                    no_export=frozenset(rng.sample(ns, k=rng.randint(0, 1)) if rng.random() < 0.3 else []),
                    prepend={n: rng.randint(1, 3) for n in rng.sample(ns, k=rng.randint(0, 1))})
    return ASGraph.build(asns, sorted(pc), sorted(peers), policies)


def brute_force(g: ASGraph) -> Dict[Tuple[int, int], Optional[Tuple[int, ...]]]:
    """Announcements iterated to a fixed point: the textbook path-vector, no cleverness."""
    asns = g.asns
    best: Dict[Tuple[int, int], Optional[Tuple[int, ...]]] = {
        (x, d): ((x,) if x == d else None) for x in asns for d in asns}

    def cls_of(path: Tuple[int, ...]) -> int:
        if len(path) == 1:
            return ORIGIN
        return g.relationship(g.index(path[0]), g.index(path[1]))

    def length(path: Tuple[int, ...]) -> int:
        return sum(1 + g.policies[g.index(b)].prepend.get(a, 0) for a, b in zip(path, path[1:]))

    def rank(x: int, path: Tuple[int, ...]):
        policy = g.policies[g.index(x)]
        crossed = set(path[1:])
        score = max(0, min(2, 1 - bool(crossed & policy.prefer) + bool(crossed & policy.avoid)))
        return (-cls_of(path), score, -policy.local_pref.get(path[1], DEFAULT_PREF),
                length(path), path[1])

    for _ in range(4 * len(asns) + 4):
        changed = False
        for x in asns:
            xi = g.index(x)
            for d in asns:
                if x == d:
                    continue
                offers = []
                for ni in g.neighbours(xi):
                    n = asns[ni]
                    route = best[(n, d)]
                    if route is None or x in route or not g.exports(ni, xi, cls_of(route)):
                        continue
                    offers.append((x,) + route)
                new = min(offers, key=lambda p: rank(x, p)) if offers else None
                if new != best[(x, d)]:
                    best[(x, d)] = new
                    changed = True
        if not changed:
            return best
    raise AssertionError("no fixed point")


@settings(max_examples=80, deadline=None)
@given(st.integers(0, 10**9), st.booleans())
def test_solver_equals_brute_force_and_passes_the_verifier(seed, with_policies):
    g = random_graph(seed, with_policies)
    routes = compute(g)
    reference = brute_force(g)
    for x in g.asns:
        for d in g.asns:
            got = routes.path(g.index(x), g.index(d))
            want = reference[(x, d)]
            assert (tuple(got) if got else None) == want, (x, d, got, want)
    assert violations(routes) == []


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10**9))
def test_valley_free_customer_first_and_deterministic(seed):
    g = random_graph(seed, with_policies=False)
    a, b = compute(g), compute(g)
    assert (a.nh == b.nh).all() and (a.length == b.length).all()
    for x in g.asns:
        for d in g.asns:
            path = a.path(g.index(x), g.index(d))
            if path:
                assert valley_free(a, path)
            offered = candidates(a, x, d) if x != d else []
            if any(c.cls == CUSTOMER for c in offered):
                assert a.cls[g.index(x), g.index(d)] == CUSTOMER


def test_tiered_8as_paths_and_explanations(topo_path):
    net = load_topology(topo_path("tiered-8as"))
    g = ASGraph.from_network(net)
    routes = compute(g)
    # as10 peers with as20, but as20 reaches as300 through its provider: no valley
    assert routes.path(g.index(10), g.index(300)) == [10, 1, 2, 30, 300]
    offered = candidates(routes, 100, 300)
    assert [c.neighbour for c in offered] == [20, 10]
    assert why(offered[0], offered[1:]) == "shorter AS path (4 < 5)"
    assert violations(routes) == []


def test_policy_knobs_change_the_choice():
    # as5 is a stub with providers as1 and as2, which both buy from tier-1 as9.
    base = dict(asns=[1, 2, 5, 9], provider_customer=[(9, 1), (9, 2), (1, 5), (2, 5)],
                peer_pairs=[])
    g = ASGraph.build(**base)
    assert compute(g).path(g.index(9), g.index(5)) == [9, 1, 5]  # tie: lowest ASN
    g = ASGraph.build(**base, policies={9: Policy(local_pref={2: 150})})
    assert compute(g).path(g.index(9), g.index(5)) == [9, 2, 5]
    g = ASGraph.build(**base, policies={5: Policy(prepend={1: 2})})
    assert compute(g).path(g.index(9), g.index(5)) == [9, 2, 5]
    g = ASGraph.build(**base, policies={9: Policy(avoid=frozenset({1}))})
    assert compute(g).path(g.index(9), g.index(5)) == [9, 2, 5]
    g = ASGraph.build(**base, policies={5: Policy(no_export=frozenset({1}))})
    r = compute(g)
    assert r.path(g.index(9), g.index(5)) == [9, 2, 5]
    assert r.path(g.index(1), g.index(5)) == [1, 9, 2, 5]  # its own customer is silent to it


def test_the_route_key_ranks_class_then_score_then_pref_then_length_then_neighbour():
    """The ranking packed into one integer (policy._key): each part decides only where
    the ones before it tie, and outweighs everything after it."""
    import numpy as np

    from testbed.control.policy import NONE, PEER, PROVIDER, UNREACHED, _key

    def key(cls, score=1, pref=100, length=3, nbr=5):
        return int(_key(np.array([cls]), score, np.array([pref]), np.array([length]),
                        np.array([nbr]))[0])
    assert key(CUSTOMER, score=2, pref=0, length=900, nbr=9999) < \
        key(PEER, score=0, pref=1000, length=1, nbr=0)
    assert key(PEER, score=0, pref=0, length=900, nbr=9999) < \
        key(PEER, score=1, pref=1000, length=1, nbr=0)
    assert key(PEER, pref=200, length=900, nbr=9999) < key(PEER, pref=100, length=1, nbr=0)
    assert key(PEER, length=2, nbr=9999) < key(PEER, length=3, nbr=0)
    assert key(PEER, nbr=4) < key(PEER, nbr=5)
    assert key(PROVIDER, score=2, pref=0, length=900) < key(NONE) == UNREACHED
    assert key(ORIGIN, length=0, nbr=0) < key(CUSTOMER, score=0, pref=1000, length=1, nbr=0)


def test_prefer_lifts_a_route_within_its_class_only():
    base = dict(asns=[1, 2, 5, 9], provider_customer=[(9, 1), (9, 2), (1, 5), (2, 5)],
                peer_pairs=[])
    g = ASGraph.build(**base, policies={9: Policy(prefer=frozenset({2}))})
    assert compute(g).path(g.index(9), g.index(5)) == [9, 2, 5]
    g = ASGraph.build(**base, policies={9: Policy(prefer=frozenset({2}), local_pref={1: 500})})
    assert compute(g).path(g.index(9), g.index(5)) == [9, 2, 5]  # score before local-pref


def test_no_valley_free_path_means_no_route():
    # two stubs of different providers that only peer with a third AS: peer routes are not
    # passed on to peers, so 1 and 2 cannot reach each other.
    g = ASGraph.build([1, 2, 3], provider_customer=[], peer_pairs=[(1, 3), (2, 3)])
    r = compute(g)
    assert r.path(g.index(1), g.index(2)) is None
    assert r.path(g.index(1), g.index(3)) == [1, 3]
