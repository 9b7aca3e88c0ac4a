"""The Linux routers' plan (pure): addresses, routes from the same tables as the flows,
blackholes toward down interfaces, and the diff that reinstalls only what changed; the
netlink parser the controller watches interfaces with."""
import struct
from pathlib import Path

from testbed.control import kernelplan
from testbed.control.kernel_app import IFF_LOWER_UP, IFF_UP, RTM_NEWLINK, link_changes
from testbed.control.routes import forwarding_tables
from testbed.model import load_topology

NET = load_topology(Path(__file__).resolve().parents[2] / "topologies" / "line-3as.yaml")
TABLES = forwarding_tables(NET)


def test_setup_gives_lan_gateways_as_host_routes_and_link_addresses():
    sysctls, lines = kernelplan.setup(NET, "as100.r2")
    assert "net.ipv4.ip_forward=1" in sysctls and "net.ipv4.icmp_errors_use_inbound_ifaddr=1" in sysctls
    assert "addr replace 10.1.255.254/30 dev tb2p1" in lines  # a router link: its /30
    assert "addr replace 10.1.2.1/32 dev tb2p3" in lines  # toward a host: the gateway /32
    assert "net.ipv4.conf.tb2p3.proxy_arp=1" in sysctls


def test_routes_follow_the_table_and_blackhole_toward_down_ports():
    routes = kernelplan.routes(NET, TABLES["as100.r2"], set())
    assert routes["0.0.0.0/0"] == "route replace blackhole 0.0.0.0/0"
    assert routes["10.2.0.0/16"] == "route replace 10.2.0.0/16 via 10.200.255.241 dev tb2p2"
    assert routes["10.1.2.2/32"] == "route replace 10.1.2.2/32 dev tb2p3"  # a host
    assert routes["10.1.255.253/32"] == "route replace 10.1.255.253/32 dev tb2p1"  # the peer
    down = kernelplan.routes(NET, TABLES["as100.r2"], {2})
    assert down["10.2.0.0/16"] == "route replace blackhole 10.2.0.0/16"
    assert kernelplan.diff(routes, down) == [
        "route replace blackhole 10.2.0.0/16", "route replace blackhole 10.200.0.0/16",
        "route replace blackhole 10.200.255.241/32"]
    assert kernelplan.diff(routes, routes) == []
    gone = dict(routes)
    del gone["10.2.0.0/16"]
    assert kernelplan.diff(routes, gone) == ["route del 10.2.0.0/16"]


def newlink(name, flags):
    attr = name.encode() + b"\0"
    rta = struct.pack("=HH", 4 + len(attr), 3) + attr
    rta += b"\0" * (-len(rta) % 4)
    body = struct.pack("=BxHiII", 0, 1, 7, flags, 0xffffffff) + rta
    return struct.pack("=IHHII", 16 + len(body), RTM_NEWLINK, 0, 0, 0) + body


def test_netlink_link_messages_say_which_interface_went_down():
    data = newlink("tb2p1", IFF_UP | IFF_LOWER_UP) + newlink("tb2p2", 0) + newlink("tb2p3", IFF_UP)
    assert link_changes(data) == [("tb2p1", False), ("tb2p2", True), ("tb2p3", True)]
    assert kernelplan.port_of("tb12p3") == 3
