"""The controller's plan: everything the router app installs, as plain JSON.

The Ryu app stays a thin installer of this plan (no topology logic in it), so all routing
decisions are testable without Mininet or Ryu, and a new plan (policy change, failure) is
just another document to install.
"""
from __future__ import annotations

import ipaddress
from typing import Any, Dict

from ..model.network import Network
from .routes import Table

PRIORITY_ARP = 300
PRIORITY_LOCAL = 200  # packets for the router's own addresses go to the controller
PRIORITY_ROUTE_BASE = 100  # + prefix length: longest prefix wins


def controller_plan(net: Network, tables: Dict[str, Table]) -> Dict[str, Any]:
    switches: Dict[str, Any] = {}
    for name, router in net.routers.items():
        ports = {}
        for iface in net.router_interfaces(name):
            link = net.links[iface.link]
            ports[str(iface.port)] = {
                "ip": iface.ip, "prefixlen": iface.prefixlen, "mac": iface.mac,
                # On a host LAN the router answers ARP for every other LAN address
                # (proxy ARP), so hosts of one router reach each other through it.
                "proxy_arp": link.kind == "access",
                "peer": link.a if link.b == name else link.b,
            }
        switches[str(router.dpid)] = {
            "name": name,
            "asn": router.asn,
            "ports": ports,
            "routes": [
                {"prefix": r.prefix, "port": r.port, "src_mac": r.src_mac, "dst_mac": r.dst_mac,
                 "next_hop": r.next_hop,
                 "priority": PRIORITY_ROUTE_BASE + ipaddress.IPv4Network(r.prefix).prefixlen}
                for r in tables[name].routes
            ],
        }
    return {"topology": net.name, "switches": switches,
            "priorities": {"arp": PRIORITY_ARP, "local": PRIORITY_LOCAL}}


def flow_count(plan: Dict[str, Any]) -> int:
    """Flows the app installs: routes + one per local address + ARP + table-miss."""
    return sum(len(sw["routes"]) + len(sw["ports"]) + 2 for sw in plan["switches"].values())
