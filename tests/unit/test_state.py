"""Failures: the IGP reroutes at once, BGP only when it converges (black hole between)."""
from testbed.control.routes import forward_path
from testbed.control.state import RoutingState
from testbed.model import load_topology


def _link(net, a, b):
    return next(l for l in net.links if {l.a, l.b} == {a, b})


def test_intra_as_failure_reroutes_at_once(topo_path):
    net = load_topology(topo_path("tiered-8as"))
    state = RoutingState(net)
    dst = net.hosts["as1.h1"].ip
    before = forward_path(net, state.tables(), "as10.h1", dst)[0]
    assert before[:3] == ["as10.r2", "as10.r1", "as1.r2"] and before[3] == "as1.r1"
    cut = _link(net, "as1.r1", "as1.r2")
    assert state.port_changed("as1.r1", cut.a_port if cut.a == "as1.r1" else cut.b_port, True) \
        == (cut.index, True)
    after, ok = forward_path(net, state.tables(), "as10.h1", dst)
    assert ok and after[2:] == ["as1.r2", "as1.r3", "as1.r1"]


def test_inter_as_failure_black_holes_until_bgp_converges(topo_path):
    net = load_topology(topo_path("policy-detour"))
    state = RoutingState(net)
    dst = net.hosts["as300.h1"].ip
    assert forward_path(net, state.tables(), "as100.h1", dst) == \
        (["as100.r1", "as10.r2", "as300.r1"], True)
    cut = _link(net, "as10.r2", "as300.r1")
    state.port_changed("as300.r1", cut.b_port, True)
    assert state.bgp_pending
    path, ok = forward_path(net, state.tables(), "as100.h1", dst)
    assert not ok and path[-1] == "as10.r2"  # the exit is gone, BGP still says as10 -> as300
    assert state.bgp_converge()
    path, ok = forward_path(net, state.tables(), "as100.h1", dst)
    assert ok and path[-3:] == ["as20.r1", "as20.r2", "as300.r1"]
    # repair: the IGP sees it at once, the AS-level choice returns only after convergence
    state.port_changed("as300.r1", cut.b_port, False)
    assert forward_path(net, state.tables(), "as100.h1", dst)[0][-1] == "as300.r1"
    assert "as20.r2" in forward_path(net, state.tables(), "as100.h1", dst)[0]
    state.bgp_converge()
    assert forward_path(net, state.tables(), "as100.h1", dst)[0] == ["as100.r1", "as10.r2", "as300.r1"]


def test_a_link_is_down_while_either_port_is(topo_path):
    net = load_topology(topo_path("line-3as"))
    state = RoutingState(net)
    link = _link(net, "as100.r1", "as100.r2")
    assert state.port_changed(link.a, link.a_port, True) == (link.index, True)
    assert state.port_changed(link.b, link.b_port, True) is None
    assert state.port_changed(link.a, link.a_port, False) is None
    assert state.port_changed(link.b, link.b_port, False) == (link.index, False)
    assert state.port_changed("as100.r1", 99, True) is None
