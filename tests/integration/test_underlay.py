"""Real networks: Mininet + userspace/kernel OVS + the Ryu router app."""
import json
import os
import threading
import time

import pytest

from testbed.control.routes import forward_path
from testbed.measure.matrix import rtt_matrix
from testbed.measure.pathmap import compare
from testbed.measure.paths import one_way
from testbed.model import load_topology
from testbed.underlay.emulation import Underlay
from testbed.underlay.reachability import host_matrix


@pytest.fixture(scope="module")
def tiered(topo_path, plane):
    net = load_topology(topo_path("tiered-8as"))
    with Underlay(net, dataplane=plane) as underlay:
        yield underlay


def test_every_host_reaches_every_other_host(tiered):
    matrix = host_matrix(tiered)
    unreachable = [pair for pair, ok in matrix.items() if not ok]
    assert len(matrix) == 90 and not unreachable


def test_hosts_are_configured_as_mininet_would_in_one_command_each(tiered):
    """nodes.EndHost: Mininet's CLI turns `as100.h1 ping as300.h1` into addresses with
    what Mininet keeps about each interface; the host's kernel has IPv6 off and ICMP errors
    unthrottled; no emulator end in the root namespace has an IPv6 address."""
    for name, spec in tiered.net.hosts.items():
        node = tiered.mn[name]
        assert (node.IP(), node.MAC()) == (spec.ip, spec.mac)
    out = tiered.run("as100.h1", "ip -4 -o addr show; ip route show default; sysctl -n "
                     "net.ipv6.conf.all.disable_ipv6 net.ipv4.icmp_ratelimit")
    host = tiered.net.hosts["as100.h1"]
    assert f"{host.ip}/{host.prefixlen}" in out and f"default via {host.gateway}" in out
    assert out.split()[-2:] == ["1", "0"], out
    ends = [e for e in os.listdir("/sys/class/net") if e.startswith("tbe")]
    with open("/proc/net/if_inet6") as f:
        with_ipv6 = {line.split()[-1] for line in f} & set(ends)
    assert not with_ipv6


def _traceroute(underlay, src, dst_ip):
    out = underlay.run(src, f"traceroute -n -q 1 -w 2 -m 20 {dst_ip}")
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
    expected, delivered = forward_path(net, tiered.routing_state().tables(), src, net.hosts[dst].ip)
    assert delivered
    hops, out = _traceroute(tiered, src, net.hosts[dst].ip)
    assert [net.owner_of(h) for h in hops] == expected + [dst], out


def test_routers_answer_ping_and_ttl_expiry_comes_from_the_ingress_interface(tiered):
    net = tiered.net
    host = net.hosts["as100.h1"]
    out = tiered.run("as100.h1", f"ping -c 2 -W 1 {host.gateway}")
    assert " 0% packet loss" in out, out
    far = net.router_interfaces("as2.r3")[0].ip
    out = tiered.run("as100.h1", f"ping -c 1 -W 1 {far}")
    assert " 0% packet loss" in out, out
    hops, out = _traceroute(tiered, "as100.h1", net.hosts["as300.h1"].ip)
    first_hop_interfaces = {i.ip for i in net.router_interfaces(host.router)}
    assert hops[0] == host.gateway and hops[0] in first_hop_interfaces


def test_tcp_works_through_userspace_switches(tiered):
    net = tiered.net
    tiered.run("as300.h1", "iperf3 -s -1 -D -p 5201")
    time.sleep(0.5)
    out = tiered.run("as100.h1", f"iperf3 -c {net.hosts['as300.h1'].ip} -p 5201 -t 1 -J")
    result = json.loads(out[out.index("{"):])
    assert result["end"]["sum_received"]["bytes"] > 0


@pytest.mark.parametrize("kind", ["icmp", "udp", "tcp"])
def test_traceroute_equals_the_expected_path_for_every_pair(tiered, kind):
    net, tables = tiered.net, tiered.routing_state().tables()
    hosts = sorted(net.hosts)
    results = {}

    def trace_from(src):
        prober = tiered.prober(src)
        for dst in hosts:
            if dst != src:
                trace = prober.trace(net.hosts[dst].ip, kind=kind, per_hop=2, rate=500)
                results[(src, dst)] = compare(net, tables, src, dst, trace.hops, trace.reached)

    threads = [threading.Thread(target=trace_from, args=(s,)) for s in hosts]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 90
    differ = {pair: [(r.ttl, r.expected and r.expected.node, r.addr) for r in c.disagreements]
              for pair, c in results.items() if not c.agrees}
    assert not differ


def test_matrix_has_every_pair_with_plausible_rtts(tiered):
    matrix = rtt_matrix(tiered, count=2)
    assert len(matrix) == 90
    assert all(r.received == 2 for r in matrix.values())
    # RTT is at least the configured propagation delay there and back
    tables = tiered.routing_state().tables()
    for (src, dst), result in matrix.items():
        floor = one_way(tiered.net, tables, src, dst).delay_ms + \
            one_way(tiered.net, tables, dst, src).delay_ms
        assert result.stats()["min"] >= floor, (src, dst)
