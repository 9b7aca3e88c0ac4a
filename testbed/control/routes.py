"""Shortest-path IP routing: a pure function of the resolved Network.

Every router gets a forwarding table of `Route`s (prefix -> out port + MAC rewrite).
Destinations:
- a router's LAN: at that router one /32 per host (deliver to the host's port and MAC);
  elsewhere the LAN prefix toward that router;
- a router-router link subnet: at its two ends the peer's /32 over the link; elsewhere the
  subnet toward the nearer end.
Paths minimise the sum of link costs (IGP cost inside an AS, `cost` on inter-AS links).
Ties break on the lower next-hop router name, then the lower port, so tables are
deterministic. Routes toward a remote AS that all leave through the same port collapse
into one route for the AS prefix, which keeps flow tables small on large topologies.
"""
from __future__ import annotations

import heapq
import ipaddress
from dataclasses import dataclass
from functools import cached_property
from typing import Dict, List, Optional, Tuple

from ..model.network import Network

INFINITY = float("inf")


@dataclass(frozen=True)
class Route:
    prefix: str  # CIDR
    port: int
    src_mac: str
    dst_mac: str
    next_hop: str  # router or host name


@dataclass(frozen=True)
class Table:
    router: str
    routes: Tuple[Route, ...]

    @cached_property
    def _by_length(self) -> List[Tuple[int, int, int, Route]]:
        """(prefix length, mask, network) as integers, longest first: parsed once."""
        rows = []
        for route in self.routes:
            net = ipaddress.IPv4Network(route.prefix)
            rows.append((net.prefixlen, int(net.netmask), int(net.network_address), route))
        return sorted(rows, key=lambda row: -row[0])

    def lookup(self, address: str) -> Optional[Route]:
        """Longest-prefix match, as the switch does it."""
        ip = int(ipaddress.IPv4Address(address))
        for _, mask, network, route in self._by_length:
            if ip & mask == network:
                return route
        return None


Adjacency = Dict[str, List[Tuple[str, int, int, int]]]  # router -> (peer, cost, port, peer_port)


def adjacency(net: Network) -> Adjacency:
    adj: Adjacency = {name: [] for name in net.routers}
    for link in net.links:
        if link.kind == "access":
            continue
        adj[link.a].append((link.b, link.cost, link.a_port, link.b_port))
        adj[link.b].append((link.a, link.cost, link.b_port, link.a_port))
    return adj


def distances_to(adj: Adjacency, target: str) -> Dict[str, float]:
    """Dijkstra from `target` (links are symmetric, so this is distance *to* it)."""
    dist = {target: 0.0}
    heap = [(0.0, target)]
    while heap:
        d, node = heapq.heappop(heap)
        if d > dist.get(node, INFINITY):
            continue
        for peer, cost, _, _ in adj[node]:
            nd = d + cost
            if nd < dist.get(peer, INFINITY):
                dist[peer] = nd
                heapq.heappush(heap, (nd, peer))
    return dist


def _next_hop(adj: Adjacency, router: str, dist: Dict[str, float]) -> Optional[Tuple[str, int, int]]:
    """(peer, port, peer_port) on a shortest path from router toward dist's target."""
    best = None
    for peer, cost, port, peer_port in adj[router]:
        total = cost + dist.get(peer, INFINITY)
        key = (total, peer, port)
        if total < INFINITY and (best is None or key < best[0]):
            best = (key, (peer, port, peer_port))
    return best[1] if best else None


def shortest_path_tables(net: Network) -> Dict[str, Table]:
    adj = adjacency(net)
    dist = {router: distances_to(adj, router) for router in net.routers}
    routes: Dict[str, List[Route]] = {router: [] for router in net.routers}

    def mac(router: str, port: int) -> str:
        return net.interfaces[(router, port)].mac

    def toward(router: str, target: str, prefix: str) -> None:
        hop = _next_hop(adj, router, dist[target])
        if hop:
            peer, port, peer_port = hop
            routes[router].append(Route(prefix, port, mac(router, port), mac(peer, peer_port), peer))

    for host in net.hosts.values():
        link = net.links[host.link]
        routes[host.router].append(Route(f"{host.ip}/32", link.b_port,
                                         mac(host.router, link.b_port), host.mac, host.name))
    for target, info in net.routers.items():
        for router in net.routers:
            if router != target:
                toward(router, target, str(info.lan))
    for link in net.links:
        if link.kind == "access":
            continue
        routes[link.a].append(Route(f"{link.b_ip}/32", link.a_port, mac(link.a, link.a_port),
                                    mac(link.b, link.b_port), link.b))
        routes[link.b].append(Route(f"{link.a_ip}/32", link.b_port, mac(link.b, link.b_port),
                                    mac(link.a, link.a_port), link.a))
        for router in net.routers:
            if router in (link.a, link.b):
                continue
            nearer = link.a if (dist[link.a].get(router, INFINITY), link.a) <= \
                (dist[link.b].get(router, INFINITY), link.b) else link.b
            toward(router, nearer, str(link.subnet))
    return {router: Table(router, tuple(_aggregate(net, router, rs)))
            for router, rs in routes.items()}


def _aggregate(net: Network, router: str, routes: List[Route]) -> List[Route]:
    """Replace a remote AS's routes by one for its prefix when they all share a next hop.

    /32s stay as they are (host deliveries and connected peers are more specific)."""
    own_asn = net.routers[router].asn
    kept: List[Route] = []
    by_as: Dict[int, List[Route]] = {}
    prefixes = {asn: a.prefix for asn, a in net.ases.items() if asn != own_asn}
    for route in routes:
        net_ = ipaddress.IPv4Network(route.prefix)
        owner = next((asn for asn, p in prefixes.items() if net_.prefixlen < 32 and net_.subnet_of(p)), None)
        if owner is None:
            kept.append(route)
        else:
            by_as.setdefault(owner, []).append(route)
    for asn, group in sorted(by_as.items()):
        exits = {(r.port, r.dst_mac, r.next_hop) for r in group}
        if len(exits) == 1:
            first = group[0]
            kept.append(Route(str(net.ases[asn].prefix), first.port, first.src_mac,
                              first.dst_mac, first.next_hop))
        else:
            kept.extend(group)
    return sorted(kept, key=lambda r: (ipaddress.IPv4Network(r.prefix).network_address,
                                       ipaddress.IPv4Network(r.prefix).prefixlen))


def forward_path(net: Network, tables: Dict[str, Table], src_host: str,
                 dst_ip: str) -> Tuple[List[str], bool]:
    """Routers a packet from src_host to dst_ip crosses, and whether it is delivered.

    Follows the tables as the switches do (longest-prefix match, hop by hop)."""
    router = net.hosts[src_host].router
    path: List[str] = []
    owner = {iface.ip: iface.router for iface in net.interfaces.values()}
    while len(path) <= len(net.routers):
        path.append(router)
        if owner.get(dst_ip) == router:
            return path, True
        route = tables[router].lookup(dst_ip)
        if route is None:
            return path, False
        if route.next_hop in net.hosts:
            return path, net.hosts[route.next_hop].ip == dst_ip
        if route.next_hop not in net.routers:
            return path, False
        router = route.next_hop
    return path, False  # a loop: the tables are inconsistent
