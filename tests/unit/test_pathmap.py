"""Traceroute hops against the path the tables expect (hop -> router -> AS)."""
import pytest

from testbed.control.routes import forwarding_tables
from testbed.measure.pathmap import address_plan, compare, expected_hops
from testbed.measure.probes import Hop
from testbed.model import load_topology

ROUTERS = ["as100.r1", "as100.r2", "as200.r1", "as200.r2", "as200.r3", "as300.r1"]


@pytest.fixture(scope="module")
def line(topo_path):
    net = load_topology(topo_path("line-3as"))
    return net, forwarding_tables(net)


def test_expected_hops_answer_from_their_ingress_interfaces(line):
    net, tables = line
    hops = expected_hops(net, tables, "as100.h1", "as300.h1")
    assert [h.node for h in hops] == ROUTERS + ["as300.h1"]
    assert [h.asn for h in hops] == [100, 100, 200, 200, 200, 300, 300]
    assert hops[0].addr == net.hosts["as100.h1"].gateway  # the first router's LAN side
    assert hops[-1].addr == net.hosts["as300.h1"].ip
    # every router hop's address is on the link the packet arrived over
    plan = address_plan(net)
    assert all(plan[h.addr].name == h.node for h in hops)


def _observed(net, tables, src, dst):
    return [Hop(i + 1, h.addr, "time-exceeded", [1.0 + i]) for i, h in
            enumerate(expected_hops(net, tables, src, dst))]


def test_a_traceroute_that_follows_the_tables_agrees(line):
    net, tables = line
    cmp = compare(net, tables, "as100.h1", "as300.h1",
                  _observed(net, tables, "as100.h1", "as300.h1"), reached=True)
    assert cmp.agrees and not cmp.disagreements
    assert cmp.as_path() == cmp.as_path(observed=False) == [100, 200, 300]
    assert cmp.edit_distance() == 0.0


def test_a_different_router_is_reported_at_its_ttl(line):
    net, tables = line
    hops = _observed(net, tables, "as100.h1", "as300.h1")
    # the packet went r1 -> r3 directly inside as200 (a detour the tables did not choose)
    r3_addr = next(i.ip for i in net.interfaces.values() if i.router == "as200.r3")
    hops = hops[:3] + [Hop(4, r3_addr, "time-exceeded", [9.0])] + \
        [Hop(h.ttl - 1, h.addr, h.reply, h.rtt_ms) for h in hops[5:]]
    cmp = compare(net, tables, "as100.h1", "as300.h1", hops, reached=True)
    assert not cmp.agrees
    assert [r.ttl for r in cmp.disagreements] == [4, 5, 6, 7]
    assert cmp.disagreements[0].node.name == "as200.r3"
    assert cmp.as_path() == [100, 200, 300]  # same ASes, different routers
    assert cmp.edit_distance() == pytest.approx(1 / 6)  # one router of six missing


def test_silent_hops_and_an_unreached_destination_disagree(line):
    net, tables = line
    hops = _observed(net, tables, "as100.h1", "as300.h1")[:2] + [Hop(3, None, "timeout", [])]
    cmp = compare(net, tables, "as100.h1", "as300.h1", hops, reached=False)
    assert not cmp.agrees
    assert cmp.rows[2].node is None and cmp.rows[2].addr is None
    assert len(cmp.rows) == 7  # the expected length, missing hops included


def test_no_hops_at_all(line):
    net, tables = line
    cmp = compare(net, tables, "as100.h1", "as100.h2", [], reached=False)
    assert not cmp.agrees and cmp.as_path() == [] and cmp.as_path(observed=False) == [100]
