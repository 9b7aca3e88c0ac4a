"""CAIDA AS-relationship import: the format, its errors by line, sampling that keeps
every provider above a kept AS, and a topology whose policy routes are the full graph's."""
import pytest

from testbed.cli import main
from testbed.control.policy import ASGraph, compute
from testbed.model import InvalidInput, parse_topology
from testbed.model.caida import parse, sample, topology
from testbed.model.synthetic import internet_as_graph, to_yaml

REL = """# serial-2 comment
1|2|0
1|3|0
2|3|0
1|10|-1
2|10|-1
3|11|-1
10|100|-1
11|101|-1|bgp
10|11|0
"""


def test_parse_both_serials_and_relationships():
    graph = parse(REL, "rel.txt")
    assert (1, 10) in graph.provider_customer and (11, 101) in graph.provider_customer
    assert (10, 11) in graph.peers and len(graph.peers) == 4
    assert graph.asns == {1, 2, 3, 10, 11, 100, 101}


def test_every_bad_line_is_reported_with_its_number():
    text = "1|2|0\n1|x|-1\n3|3|0\n2|1|-1\n5|6|7\n9|8\n"
    with pytest.raises(InvalidInput) as exc:
        parse(text, "bad.txt")
    lines = [d.line for d in exc.value.diagnostics]
    assert lines == [2, 3, 4, 5, 6]
    assert "already have a relationship (line 1)" in exc.value.diagnostics[2].message


def test_sampling_keeps_providers_so_policy_paths_survive():
    asns, pc, peers = internet_as_graph(300, seed=2)
    text = "".join(f"{p}|{c}|-1\n" for p, c in pc) + "".join(f"{a}|{b}|0\n" for a, b in peers)
    graph = parse(text, "g.txt")
    kept = sample(graph, 30, seed=5)
    assert len(kept) >= 30
    for p, c in graph.provider_customer:
        assert c not in kept or p in kept  # upward closed
    full = compute(ASGraph.build(asns, pc, peers))
    sub = compute(ASGraph.build(sorted(kept), [x for x in pc if set(x) <= kept],
                                [x for x in peers if set(x) <= kept]))
    # a kept customer reaches kept ASes over the same AS path as in the whole graph
    # whenever that path stays among kept ASes
    checked = 0
    for x in sorted(kept):
        for d in sorted(kept):
            path = full.path(full.graph.index(x), full.graph.index(d))
            if x != d and path and set(path) <= kept:
                assert sub.path(sub.graph.index(x), sub.graph.index(d)) == path
                checked += 1
    assert checked > 100


def test_import_writes_a_valid_topology(tmp_path, capsys):
    src = tmp_path / "rel.txt"
    src.write_text(REL)
    out = tmp_path / "t.yaml"
    assert main(["import", "caida", str(src), "-o", str(out), "--name", "mini"]) == 0
    net = parse_topology(out.read_text(), str(out))
    assert sorted(net.ases) == [1, 2, 3, 10, 11, 100, 101] and "as100.h1" in net.hosts
    assert main(["import", "caida", str(tmp_path / "missing.txt")]) == 2


def test_topology_fits_the_address_pool():
    graph = parse(REL, "rel.txt")
    topo = topology(graph, graph.asns, "t", 5.0)
    parse_topology(to_yaml(topo), "t.yaml")
