"""Real networks: Mininet + userspace/kernel OVS + the Ryu router app."""
import json
import time

import pytest

from testbed.control.routes import forward_path
from testbed.model import load_topology
from testbed.underlay.emulation import Underlay
from testbed.underlay.reachability import host_matrix


@pytest.fixture(scope="module")
def tiered(topo_path):
    net = load_topology(topo_path("tiered-8as"))
    with Underlay(net) as underlay:
        yield underlay


def test_every_host_reaches_every_other_host(tiered):
    matrix = host_matrix(tiered.net, tiered.mn)
    unreachable = [pair for pair, ok in matrix.items() if not ok]
    assert len(matrix) == 90 and not unreachable


def _traceroute(underlay, src, dst_ip):
    out = underlay.host(src).cmd(f"traceroute -n -q 1 -w 2 -m 20 {dst_ip}")
    hops = []
    for line in out.splitlines()[1:]:
        parts = line.split()
        if len(parts) >= 2 and parts[0].isdigit():
            hops.append(parts[1])
    return hops, out


@pytest.mark.parametrize("src,dst", [("as100.h1", "as300.h1"), ("as200.h2", "as10.h1"),
                                     ("as1.h1", "as100.h2")])
def test_traceroute_lists_exactly_the_routers_of_the_computed_path(tiered, src, dst):
    net = tiered.net
    expected, delivered = forward_path(net, tiered.tables, src, net.hosts[dst].ip)
    assert delivered
    hops, out = _traceroute(tiered, src, net.hosts[dst].ip)
    assert [net.owner_of(h) for h in hops] == expected + [dst], out


def test_routers_answer_ping_and_ttl_expiry_comes_from_the_ingress_interface(tiered):
    net = tiered.net
    host = net.hosts["as100.h1"]
    out = tiered.host("as100.h1").cmd(f"ping -c 2 -W 1 {host.gateway}")
    assert " 0% packet loss" in out, out
    far = net.router_interfaces("as2.r3")[0].ip
    out = tiered.host("as100.h1").cmd(f"ping -c 1 -W 1 {far}")
    assert " 0% packet loss" in out, out
    hops, out = _traceroute(tiered, "as100.h1", net.hosts["as300.h1"].ip)
    first_hop_interfaces = {i.ip for i in net.router_interfaces(host.router)}
    assert hops[0] == host.gateway and hops[0] in first_hop_interfaces


def test_tcp_works_through_userspace_switches(tiered):
    net = tiered.net
    server, client = tiered.host("as300.h1"), tiered.host("as100.h1")
    server.cmd("iperf3 -s -1 -D -p 5201")
    time.sleep(0.5)
    out = client.cmd(f"iperf3 -c {net.hosts['as300.h1'].ip} -p 5201 -t 1 -J")
    result = json.loads(out[out.index("{"):])
    assert result["end"]["sum_received"]["bytes"] > 0
