"""The Linux routers' plan (pure): addresses, routes from the same tables as the flows,
blackholes toward down interfaces, and the diff that reinstalls only what changed; the
netlink parser the controller watches interfaces with, and its requests against a real
kernel (a namespace made here, when running as root)."""
import struct
from pathlib import Path

from testbed.control import kernelplan
from testbed.control.netlink import IFF_LOWER_UP, IFF_UP, RTM_NEWLINK, link_changes
from testbed.control.routes import forwarding_tables
from testbed.model import load_topology

NET = load_topology(Path(__file__).resolve().parents[2] / "topologies" / "line-3as.yaml")
TABLES = forwarding_tables(NET)


def test_setup_gives_lan_gateways_as_host_routes_and_link_addresses():
    plan = kernelplan.setup(NET, "as100.r2")
    assert plan.sysctls["net.ipv4.ip_forward"] == "1"
    assert plan.sysctls["net.ipv4.icmp_errors_use_inbound_ifaddr"] == "1"
    by_name = {name: (ip, length) for name, _, ip, length in plan.interfaces}
    assert by_name["tb2p1"] == ("10.1.255.254", 30)  # a router link: its /30
    assert by_name["tb2p3"] == ("10.1.2.1", 32)  # toward a host: the gateway /32
    assert plan.sysctls["net.ipv4.conf.tb2p3.proxy_arp"] == "1"


def test_routes_follow_the_table_and_blackhole_toward_down_ports():
    Route = kernelplan.KernelRoute
    routes = kernelplan.routes(NET, TABLES["as100.r2"], set())
    assert routes["0.0.0.0/0"] == Route("0.0.0.0/0", None)
    assert routes["10.2.0.0/16"] == Route("10.2.0.0/16", "tb2p2", "10.200.255.241")
    assert routes["10.1.2.2/32"] == Route("10.1.2.2/32", "tb2p3")  # a host
    assert routes["10.1.255.253/32"] == Route("10.1.255.253/32", "tb2p1")  # the peer itself
    down = kernelplan.routes(NET, TABLES["as100.r2"], {2})
    assert down["10.2.0.0/16"] == Route("10.2.0.0/16", None)
    assert kernelplan.diff(routes, down) == ([], [
        Route("10.2.0.0/16", None), Route("10.200.0.0/16", None),
        Route("10.200.255.241/32", None)])
    assert kernelplan.diff(routes, routes) == ([], [])
    gone = dict(routes)
    del gone["10.2.0.0/16"]
    assert kernelplan.diff(routes, gone) == (["10.2.0.0/16"], [])


def newlink(name, flags):
    attr = name.encode() + b"\0"
    rta = struct.pack("=HH", 4 + len(attr), 3) + attr
    rta += b"\0" * (-len(rta) % 4)
    body = struct.pack("=BxHiII", 0, 1, 7, flags, 0xffffffff) + rta
    return struct.pack("=IHHII", 16 + len(body), RTM_NEWLINK, 0, 0, 0) + body


def test_netlink_link_messages_say_which_interface_went_down():
    data = newlink("tb2p1", IFF_UP | IFF_LOWER_UP) + newlink("tb2p2", 0) + newlink("tb2p3", IFF_UP)
    assert link_changes(data) == [("tb2p1", False), ("tb2p2", True), ("tb2p3", True)]
    assert kernelplan.port_of("tb12p3") == 3 and kernelplan.port_of("lo") is None


def test_netlink_requests_in_a_namespace_of_our_own(tmp_path):
    """Addresses, unicast and blackhole routes, replace and delete, as `ip` shows them."""
    import os
    import subprocess

    import pytest

    from testbed.control.netlink import RtNetlink, namespace_of
    if os.geteuid() != 0:
        pytest.skip("needs root (a network namespace)")
    shell = subprocess.Popen(["unshare", "--net", "sleep", "30"])
    try:
        import time
        time.sleep(0.2)
        ns = ["nsenter", f"--net=/proc/{shell.pid}/ns/net"]
        subprocess.run(ns + ["ip", "link", "add", "tb1p1", "type", "veth", "peer", "name", "tb1p2"],
                       check=True)
        with namespace_of(shell.pid):
            import socket
            nl = RtNetlink()
            index = socket.if_nametoindex("tb1p1")
        nl.link_up(index, "02:00:00:00:01:01")
        nl.address(index, "10.9.0.1", 30)
        nl.route("10.8.0.0/16", index, "10.9.0.2")
        nl.route("10.7.0.0/16", None)
        nl.route("10.9.9.9/32", index)
        nl.route("0.0.0.0/0", None)
        assert nl.commit() == []
        shown = subprocess.run(ns + ["ip", "route"], capture_output=True, text=True).stdout
        assert "10.8.0.0/16 via 10.9.0.2 dev tb1p1" in shown
        assert "blackhole 10.7.0.0/16" in shown and "blackhole default" in shown
        assert "10.9.9.9 dev tb1p1" in shown
        nl.route("10.8.0.0/16", delete=True)
        nl.route("10.6.0.0/16", delete=True)  # not there: an error, reported
        errors = nl.commit()
        assert [what for what, _ in errors] == ["delete 10.6.0.0/16"]
        assert "10.8.0.0/16" not in subprocess.run(ns + ["ip", "route"], capture_output=True,
                                                    text=True).stdout
        nl.close()
    finally:
        shell.kill()
        shell.wait()
