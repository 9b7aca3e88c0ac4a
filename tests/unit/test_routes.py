"""Shortest-path routing against a brute-force reference (Floyd-Warshall) on random graphs."""
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from testbed.control.plan import controller_plan, flow_count
from testbed.control.routes import adjacency, forward_path, shortest_path_tables
from testbed.model import load_topology, parse_topology
from testbed.model.synthetic import generate, to_yaml


def floyd(net):
    names = sorted(net.routers)
    dist = {(a, b): (0 if a == b else float("inf")) for a in names for b in names}
    for l in net.links:
        if l.kind != "access":
            dist[(l.a, l.b)] = min(dist[(l.a, l.b)], l.cost)
            dist[(l.b, l.a)] = min(dist[(l.b, l.a)], l.cost)
    for k in names:
        for i in names:
            for j in names:
                if dist[(i, k)] + dist[(k, j)] < dist[(i, j)]:
                    dist[(i, j)] = dist[(i, k)] + dist[(k, j)]
    return dist


def path_cost(net, path):
    adj = adjacency(net)
    total = 0
    for a, b in zip(path, path[1:]):
        total += min(c for peer, c, _, _ in adj[a] if peer == b)
    return total


def random_topology(seed: int) -> str:
    rng = random.Random(seed)
    n = rng.randint(2, 7)
    lines = ["name: rnd", "ases:"]
    for asn in range(1, n + 1):
        k = rng.randint(1, 3)
        lines += [f"  - asn: {asn}", f"    routers: [{', '.join(f'r{i}' for i in range(1, k + 1))}]"]
        links = [f"      - {{a: r{i}, b: r{i + 1}, cost: {rng.randint(1, 9)}}}" for i in range(1, k)]
        if links:
            lines += ["    links:"] + links
        lines += ["    hosts:", f"      - {{name: h1, router: r{rng.randint(1, k)}}}"]
    lines.append("inter_as_links:")
    for asn in range(2, n + 1):  # a random tree plus extra links: always connected
        for other in {rng.randint(1, asn - 1), rng.randint(1, asn - 1)}:
            lines.append(f"  - {{a: as{other}.r1, b: as{asn}.r1, relationship: peer-peer, "
                         f"cost: {rng.randint(1, 9)}}}")
    return "\n".join(lines) + "\n"


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10**6))
def test_every_pair_delivered_on_a_shortest_path(seed):
    net = parse_topology(random_topology(seed), "rnd.yaml")
    tables = shortest_path_tables(net)
    dist = floyd(net)
    for src, s in net.hosts.items():
        for dst, d in net.hosts.items():
            path, ok = forward_path(net, tables, src, d.ip)
            assert ok, (src, dst, path)
            assert path[-1] == d.router
            assert path_cost(net, path) == dist[(s.router, d.router)]


@pytest.mark.parametrize("name", ["line-3as", "tiered-8as", "internet-50"])
def test_bundled_all_pairs_deliver(topo_path, name):
    net = load_topology(topo_path(name))
    tables = shortest_path_tables(net)
    for src in net.hosts:
        for dst, d in net.hosts.items():
            assert forward_path(net, tables, src, d.ip)[1]
        for iface in net.interfaces.values():  # every router address answers
            assert forward_path(net, tables, src, iface.ip)[1]


def test_tables_are_deterministic(topo_path):
    net = load_topology(topo_path("internet-50"))
    assert shortest_path_tables(net) == shortest_path_tables(net)


def test_aggregation_keeps_tables_small(topo_path):
    net = load_topology(topo_path("internet-50"))
    plan = controller_plan(net, shortest_path_tables(net))
    # without aggregation every router would carry ~380 prefixes (LANs + link subnets)
    assert flow_count(plan) / len(net.routers) < 150


def test_unknown_destination_is_not_delivered(topo_path):
    net = load_topology(topo_path("line-3as"))
    path, ok = forward_path(net, shortest_path_tables(net), "as100.h1", "192.0.2.1")
    assert not ok and path == ["as100.r1"]


def test_synthetic_graph_is_tiered():
    topo = generate(50, 3)
    rels = {l["relationship"] for l in topo["inter_as_links"]}
    assert rels == {"peer-peer", "provider-customer"}
    assert parse_topology(to_yaml(topo), "g.yaml").name == "internet-50"
