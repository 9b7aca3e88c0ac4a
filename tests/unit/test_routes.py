"""Shortest-path routing against a brute-force reference (Floyd-Warshall) on random graphs."""
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from testbed.control.plan import controller_plan, flow_count
from testbed.control.routes import (adjacency, forward_path, forwarding_tables,
                                   shortest_path_tables)
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
    lines = ["name: rnd", "routing: {mode: shortest}", "ases:"]
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


@pytest.mark.parametrize("mode", ["policy", "shortest"])
@pytest.mark.parametrize("name", ["line-3as", "tiered-8as", "internet-50"])
def test_bundled_all_pairs_deliver(topo_path, name, mode):
    net = load_topology(topo_path(name))
    net.routing_mode = mode
    tables = forwarding_tables(net)
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
    path, ok = forward_path(net, forwarding_tables(net), "as100.h1", "192.0.2.1")
    assert not ok and path == ["as100.r1"]


def test_synthetic_graph_is_tiered():
    topo = generate(50, 3)
    rels = {l["relationship"] for l in topo["inter_as_links"]}
    assert rels == {"peer-peer", "provider-customer"}
    assert parse_topology(to_yaml(topo), "g.yaml").name == "internet-50"


# Two ASes meeting at both ends: as1 = r1 - r2 - r3 (cost 10 each), as2 = s1 - s2 - s3, peer
# links r1-s1 and r3-s3. as2's hosts hang off s1 and s3.
TWO_EXITS = """
name: exits
ases:
  - asn: 1
    routers: [r1, r2, r3]
    links: [{a: r1, b: r2, cost: 10}, {a: r2, b: r3, cost: 10}]
    hosts: [{name: h1, router: r1}, {name: h3, router: r3}]
    policy: {exit: EXIT}
  - asn: 2
    routers: [s1, s2, s3]
    links: [{a: s1, b: s2, cost: 10}, {a: s2, b: s3, cost: 1}]
    hosts: [{name: h1, router: s1}, {name: h3, router: s3}]
inter_as_links:
  - {a: as1.r1, b: as2.s1, relationship: peer-peer}
  - {a: as1.r3, b: as2.s3, relationship: peer-peer}
"""


def test_hot_potato_leaves_by_the_nearest_exit():
    net = parse_topology(TWO_EXITS.replace("EXIT", "hot-potato"), "x.yaml")
    tables = forwarding_tables(net)
    dst = net.hosts["as2.h1"].ip
    assert forward_path(net, tables, "as1.h1", dst)[0] == ["as1.r1", "as2.s1"]
    # r3's nearest exit is its own link, even though the far end is far from s1
    assert forward_path(net, tables, "as1.h3", dst)[0] == ["as1.r3", "as2.s3", "as2.s2", "as2.s1"]


def test_cold_potato_uses_one_exit_nearest_the_destination():
    net = parse_topology(TWO_EXITS.replace("EXIT", "cold-potato"), "x.yaml")
    tables = forwarding_tables(net)
    dst = net.hosts["as2.h1"].ip
    # s3 is the more central entry of as2 (sum of IGP costs 1+11 < 10+11), so both routers
    # of as1 carry the traffic there themselves
    assert forward_path(net, tables, "as1.h1", dst)[0] == \
        ["as1.r1", "as1.r2", "as1.r3", "as2.s3", "as2.s2", "as2.s1"]
    assert forward_path(net, tables, "as1.h3", dst)[0] == ["as1.r3", "as2.s3", "as2.s2", "as2.s1"]


def test_policy_mode_has_no_route_without_a_valley_free_path():
    text = """
name: valley
ases:
  - {asn: 1, routers: [r1], hosts: [{name: h1, router: r1}]}
  - {asn: 2, routers: [r1], hosts: [{name: h1, router: r1}]}
  - {asn: 3, routers: [r1], hosts: [{name: h1, router: r1}]}
inter_as_links:
  - {a: as1.r1, b: as3.r1, relationship: peer-peer}
  - {a: as2.r1, b: as3.r1, relationship: peer-peer}
"""
    net = parse_topology(text, "v.yaml")
    tables = forwarding_tables(net)
    assert not forward_path(net, tables, "as1.h1", net.hosts["as2.h1"].ip)[1]
    assert forward_path(net, tables, "as1.h1", net.hosts["as3.h1"].ip)[1]
    net.routing_mode = "shortest"
    assert forward_path(net, forwarding_tables(net), "as1.h1", net.hosts["as2.h1"].ip)[1]
