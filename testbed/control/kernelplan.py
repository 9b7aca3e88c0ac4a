"""The Linux data plane's plan: what each router namespace is given, as `ip -batch` lines
and sysctls, from the same pure tables the OpenFlow plane installs as flows.

A router is a network namespace that forwards in the kernel (which then decrements TTL,
answers ping and sends ICMP time-exceeded and port-unreachable by itself):
- router-to-router interfaces get their /30 (or /31) address: the kernel's connected
  route covers the link;
- an interface toward a host gets the LAN gateway as a /32 (a router may have several
  hosts, each on its own interface, all in one LAN) and answers ARP for the rest of the
  LAN (proxy ARP), as the OpenFlow routers do;
- every route of the table becomes `route replace PREFIX via PEER dev IF` (`dev IF`
  alone toward a host or the peer's own address); a route whose interface is down
  becomes a blackhole, as traffic toward a lost exit is black-holed until BGP converges;
- a default blackhole route: an unroutable packet is dropped silently, as a table miss
  is on the OpenFlow plane (not answered with ICMP unreachable);
- ICMP errors leave from the interface the offending packet came in on
  (`icmp_errors_use_inbound_ifaddr`), so traceroute shows each router's ingress address,
  like the OpenFlow plane; no reverse-path filter (policy routing makes paths asymmetric);
  ICMP errors not rate-limited (UDP traceroute at probe rates).
"""
from __future__ import annotations

from typing import Dict, List, Set, Tuple

from ..model.network import Network
from .routes import Table

SYSCTLS = ("net.ipv4.ip_forward=1", "net.ipv4.conf.all.rp_filter=0",
           "net.ipv4.conf.default.rp_filter=0", "net.ipv4.icmp_errors_use_inbound_ifaddr=1",
           "net.ipv4.icmp_ratelimit=0", "net.ipv4.icmp_msgs_per_sec=100000",
           "net.ipv4.icmp_msgs_burst=10000", "net.ipv6.conf.all.disable_ipv6=1")


def interface_name(net: Network, router: str, port: int) -> str:
    """The router's interface for `port` (the same name on both data planes)."""
    return f"tb{net.routers[router].dpid}p{port}"


def port_of(name: str) -> int:
    """tb<dpid>p<port> -> port."""
    return int(name.rsplit("p", 1)[1])


def setup(net: Network, router: str) -> Tuple[List[str], List[str]]:
    """(sysctls, ip -batch lines) that give a router namespace its addresses."""
    sysctls = list(SYSCTLS)
    lines = []
    for iface in net.router_interfaces(router):
        name = interface_name(net, router, iface.port)
        access = net.links[iface.link].kind == "access"
        length = 32 if access else iface.prefixlen
        lines += [f"link set dev {name} address {iface.mac}",
                  f"addr replace {iface.ip}/{length} dev {name}", f"link set dev {name} up"]
        sysctls.append(f"net.ipv4.conf.{name}.rp_filter=0")
        if access:
            sysctls.append(f"net.ipv4.conf.{name}.proxy_arp=1")
    return sysctls, lines


def routes(net: Network, table: Table, down_ports: Set[int]) -> Dict[str, str]:
    """prefix -> the `ip -batch` line that installs it (the default blackhole included)."""
    router = table.router
    out = {"0.0.0.0/0": "route replace blackhole 0.0.0.0/0"}
    for route in table.routes:
        if route.port in down_ports:
            out[route.prefix] = f"route replace blackhole {route.prefix}"
            continue
        iface = net.interfaces[(router, route.port)]
        link = net.links[iface.link]
        peer_ip = link.b_ip if link.a == router else link.a_ip
        dev = interface_name(net, router, route.port)
        if route.next_hop in net.hosts or route.prefix == f"{peer_ip}/32":
            out[route.prefix] = f"route replace {route.prefix} dev {dev}"
        else:
            out[route.prefix] = f"route replace {route.prefix} via {peer_ip} dev {dev}"
    return out


def diff(have: Dict[str, str], want: Dict[str, str]) -> List[str]:
    """`ip -batch` lines that turn the routes `have` into `want`."""
    lines = [f"route del {prefix}" for prefix in sorted(set(have) - set(want))]
    return lines + [line for prefix, line in sorted(want.items()) if have.get(prefix) != line]
