"""Bring-up and teardown of a topology: testbed against raw Mininet, in the same run.

Baseline: Mininet at its fastest building the same switches, hosts and links — OVSSwitch
with batch=True (one ovs-vsctl transaction), the same datapath, no controller — timed from
the first addSwitch to net.start() returning, and its own net.stop().
Testbed: Underlay.start() until the controller reports every flow installed
(barrier-confirmed), and Underlay.stop().
Targets (issue 2): bring-up <= 1.5x baseline, >= 20 nodes/s, teardown <= 20 s.

    .venv/bin/python bench/bringup.py [topologies/internet-50.yaml] [--rounds 2]
"""
from __future__ import annotations

import argparse
import statistics
import time
from functools import partial

from mininet.link import Link
from mininet.log import setLogLevel
from mininet.net import Mininet
from mininet.node import OVSSwitch

from testbed.model import load_topology
from testbed.underlay import capabilities
from testbed.control.kernelplan import interface_name as router_intf
from testbed.underlay.emulation import Underlay, host_intf


def raw_mininet(net, datapath):
    started = time.monotonic()
    mn = Mininet(topo=None, build=False, controller=None, autoSetMacs=False, listenPort=None,
                 switch=partial(OVSSwitch, batch=True, datapath=datapath, protocols="OpenFlow13"))
    for name, router in net.routers.items():
        mn.addSwitch(name, dpid=router.dpid_hex)
    for name, host in net.hosts.items():
        mn.addHost(name, ip=f"{host.ip}/{host.prefixlen}", mac=host.mac,
                   defaultRoute=f"via {host.gateway}")
    for link in net.links:
        if link.kind == "access":
            mn.addLink(link.a, link.b, port1=0, port2=link.b_port, cls=Link,
                       intfName1=host_intf(net, link.a), intfName2=router_intf(net, link.b, link.b_port))
        else:
            mn.addLink(link.a, link.b, port1=link.a_port, port2=link.b_port, cls=Link,
                       intfName1=router_intf(net, link.a, link.a_port),
                       intfName2=router_intf(net, link.b, link.b_port))
    mn.build()
    mn.start()
    up = time.monotonic() - started
    started = time.monotonic()
    mn.stop()
    return up, time.monotonic() - started


def testbed(net):
    underlay = Underlay(net)
    with underlay:
        pass
    return underlay.timings["routes_installed"], underlay.timings["teardown"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("topology", nargs="?", default="topologies/internet-50.yaml")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    setLogLevel("error")
    net = load_topology(args.topology)
    nodes = len(net.routers) + len(net.hosts)
    datapath = capabilities.datapath()
    base, ours = [], []
    for _ in range(args.rounds):  # interleaved, so drift on a noisy machine hits both
        base.append(raw_mininet(net, datapath))
        ours.append(testbed(net))
    b_up = statistics.median(r[0] for r in base)
    b_down = statistics.median(r[1] for r in base)
    o_up = statistics.median(r[0] for r in ours)
    o_down = statistics.median(r[1] for r in ours)
    print(f"{net.name}: {len(net.routers)} switches, {len(net.hosts)} hosts, {len(net.links)} links, "
          f"datapath={datapath}, median of {args.rounds}")
    print(f"bring-up  raw Mininet (no controller) {b_up:6.2f} s | testbed until routes installed "
          f"{o_up:6.2f} s | ratio {o_up / b_up:.2f} (target <= 1.5) | {nodes / o_up:.0f} nodes/s "
          f"(target >= 20)")
    print(f"teardown  raw Mininet stop            {b_down:6.2f} s | testbed stop                   "
          f"{o_down:6.2f} s | ratio {o_down / b_down:.2f} (target <= 20 s)")


if __name__ == "__main__":
    main()
