"""Policy routing on a real network: the data plane follows the policy path."""
import pytest

from testbed.control.routes import forward_path
from testbed.model import load_topology
from testbed.underlay.emulation import Underlay
from testbed.underlay.reachability import host_matrix


@pytest.fixture(scope="module")
def detour(topo_path, plane):
    with Underlay(load_topology(topo_path("policy-detour")), dataplane=plane) as underlay:
        yield underlay


def test_traceroute_follows_the_policy_path_not_the_shortest(detour):
    net = detour.net
    dst = net.hosts["as200.h1"].ip
    expected, delivered = forward_path(net, detour.routing_state().tables(), "as100.h1", dst)
    assert delivered and "as300.r1" not in expected and "as2.r2" in expected
    out = detour.run("as100.h1", f"traceroute -n -q 1 -w 2 -m 20 {dst}")
    hops = [l.split()[1] for l in out.splitlines()[1:] if l.split() and l.split()[0].isdigit()]
    assert [net.owner_of(h) for h in hops] == expected + ["as200.h1"], out


def test_every_pair_with_a_valley_free_path_is_reachable(detour):
    matrix = host_matrix(detour)
    assert all(matrix.values()), [pair for pair, ok in matrix.items() if not ok]
