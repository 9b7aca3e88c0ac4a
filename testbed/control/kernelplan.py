"""The Linux data plane's plan: what each router namespace is given (sysctls, interface
addresses, kernel routes), from the same pure tables the OpenFlow plane installs as flows.

A router is a network namespace that forwards in the kernel (which then decrements TTL,
answers ping and sends ICMP time-exceeded and port-unreachable by itself):
- router-to-router interfaces get their /30 (or /31) address: the kernel's connected
  route covers the link;
- an interface toward a host gets the LAN gateway as a /32 (a router may have several
  hosts, each on its own interface, all in one LAN) and answers ARP for the rest of the
  LAN (proxy ARP), as the OpenFlow routers do;
- every route of the table becomes PREFIX via PEER out of IF (out of IF alone toward a
  host or the peer's own address); a route whose interface is down becomes a blackhole,
  as traffic toward a lost exit is black-holed until BGP converges;
- a default blackhole route: an unroutable packet is dropped silently, as a table miss
  is on the OpenFlow plane (not answered with ICMP unreachable);
- ICMP errors leave from the interface the offending packet came in on
  (`icmp_errors_use_inbound_ifaddr`), so traceroute shows each router's ingress address,
  like the OpenFlow plane; no reverse-path filter (policy routing makes paths asymmetric);
  ICMP errors not rate-limited (UDP traceroute at probe rates).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Set, Tuple

from ..model.network import Network
from .routes import Table

SYSCTLS = {"net.ipv4.ip_forward": "1", "net.ipv4.conf.all.rp_filter": "0",
           "net.ipv4.conf.default.rp_filter": "0", "net.ipv4.icmp_errors_use_inbound_ifaddr": "1",
           "net.ipv4.icmp_ratelimit": "0", "net.ipv4.icmp_msgs_per_sec": "100000",
           "net.ipv4.icmp_msgs_burst": "10000", "net.ipv6.conf.all.disable_ipv6": "1"}


@dataclass(frozen=True)
class KernelRoute:
    prefix: str
    dev: Optional[str]  # None: a blackhole
    via: Optional[str] = None  # None: straight out of dev


@dataclass
class RouterSetup:
    sysctls: Dict[str, str] = field(default_factory=dict)
    interfaces: List[Tuple[str, str, str, int]] = field(default_factory=list)  # name, mac, ip, len


def interface_name(net: Network, router: str, port: int) -> str:
    """The router's interface for `port` (the same name on both data planes)."""
    return f"tb{net.routers[router].dpid}p{port}"


def port_of(name: str) -> Optional[int]:
    """tb<dpid>p<port> -> port; None for any other interface (lo)."""
    match = re.fullmatch(r"tb\d+p(\d+)", name)
    return int(match.group(1)) if match else None


def setup(net: Network, router: str) -> RouterSetup:
    """The sysctls and interface addresses of a router namespace."""
    out = RouterSetup(dict(SYSCTLS))
    for iface in net.router_interfaces(router):
        name = interface_name(net, router, iface.port)
        access = net.links[iface.link].kind == "access"
        out.interfaces.append((name, iface.mac, iface.ip, 32 if access else iface.prefixlen))
        out.sysctls[f"net.ipv4.conf.{name}.rp_filter"] = "0"
        if access:
            out.sysctls[f"net.ipv4.conf.{name}.proxy_arp"] = "1"
    return out


def routes(net: Network, table: Table, down_ports: Set[int]) -> Dict[str, KernelRoute]:
    """prefix -> its kernel route (the default blackhole included)."""
    router = table.router
    out = {"0.0.0.0/0": KernelRoute("0.0.0.0/0", None)}
    for route in table.routes:
        if route.port in down_ports:
            out[route.prefix] = KernelRoute(route.prefix, None)
            continue
        iface = net.interfaces[(router, route.port)]
        link = net.links[iface.link]
        peer_ip = link.b_ip if link.a == router else link.a_ip
        dev = interface_name(net, router, route.port)
        direct = route.next_hop in net.hosts or route.prefix == f"{peer_ip}/32"
        out[route.prefix] = KernelRoute(route.prefix, dev, None if direct else peer_ip)
    return out


def diff(have: Dict[str, KernelRoute],
         want: Dict[str, KernelRoute]) -> Tuple[List[str], List[KernelRoute]]:
    """(prefixes to delete, routes to add or replace) that turn `have` into `want`."""
    return (sorted(set(have) - set(want)),
            [route for prefix, route in sorted(want.items()) if have.get(prefix) != route])
