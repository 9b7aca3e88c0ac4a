"""Forwarding tables: a pure function of the resolved Network (and, in policy mode, of the
AS-level routes from `policy`).

`routing.mode: shortest` (below) is plain shortest-path IP routing over all links;
`policy` (the default, `policy_tables`) runs the IGP inside each AS and BGP-like routes
between ASes.

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

import ipaddress
from dataclasses import dataclass
from functools import cached_property
from typing import Dict, FrozenSet, List, Optional, Tuple

from ..model.graphs import distances
from ..model.network import Network
from . import policy

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
Down = FrozenSet[int]  # indices of links that are down


def adjacency(net: Network, intra_only: bool = False, down: Down = frozenset()) -> Adjacency:
    """Router graph over router-router links that are up (only those inside an AS with
    intra_only)."""
    adj: Adjacency = {name: [] for name in net.routers}
    for link in net.links:
        if link.kind == "access" or (intra_only and link.kind != "intra") or link.index in down:
            continue
        adj[link.a].append((link.b, link.cost, link.a_port, link.b_port))
        adj[link.b].append((link.a, link.cost, link.b_port, link.a_port))
    return adj


def distances_to(adj: Adjacency, target: str) -> Dict[str, float]:
    """IGP distance of every router to `target` (links are symmetric, so Dijkstra from it)."""
    return distances(lambda node: ((peer, cost) for peer, cost, _, _ in adj[node]), target)


def _next_hop(adj: Adjacency, router: str, dist: Dict[str, float]) -> Optional[Tuple[str, int, int]]:
    """(peer, port, peer_port) on a shortest path from router toward dist's target."""
    best = None
    for peer, cost, port, peer_port in adj[router]:
        total = cost + dist.get(peer, INFINITY)
        key = (total, peer, port)
        if total < INFINITY and (best is None or key < best[0]):
            best = (key, (peer, port, peer_port))
    return best[1] if best else None


def forwarding_tables(net: Network, down: Down = frozenset(),
                      bgp_down: Down = frozenset()) -> Dict[str, Table]:
    """The tables the controller installs, by the topology's routing mode.

    `down`: links down now (the IGP, and shortest mode, route around them at once);
    `bgp_down`: links down as BGP last converged (AS-level routes still use the others)."""
    if net.routing_mode == "shortest":
        return shortest_path_tables(net, down)
    return policy_tables(net, policy.compute(policy.ASGraph.from_network(net, bgp_down)), down)


def shortest_path_tables(net: Network, down: Down = frozenset()) -> Dict[str, Table]:
    adj = adjacency(net, down=down)
    routes = _igp_routes(net, adj, {router: distances_to(adj, router) for router in net.routers},
                         down)
    return {router: Table(router, tuple(_sorted(_aggregate(net, router, rs))))
            for router, rs in routes.items()}


def _mac(net: Network, router: str, port: int) -> str:
    return net.interfaces[(router, port)].mac


def _igp_routes(net: Network, adj: Adjacency, dist: Dict[str, Dict[str, float]],
                down: Down) -> Dict[str, List[Route]]:
    """Routes to every LAN, link subnet, host and connected peer reachable over `adj`."""
    routes: Dict[str, List[Route]] = {router: [] for router in net.routers}

    def toward(router: str, target: str, prefix: str) -> None:
        hop = _next_hop(adj, router, dist[target])
        if hop:
            peer, port, peer_port = hop
            routes[router].append(Route(prefix, port, _mac(net, router, port),
                                        _mac(net, peer, peer_port), peer))

    for host in net.hosts.values():
        link = net.links[host.link]
        routes[host.router].append(Route(f"{host.ip}/32", link.b_port,
                                         _mac(net, host.router, link.b_port), host.mac, host.name))
    for target, info in net.routers.items():
        for router in net.routers:
            if router != target:
                toward(router, target, str(info.lan))
    for link in net.links:
        if link.kind == "access":
            continue
        if link.index not in down:
            routes[link.a].append(Route(f"{link.b_ip}/32", link.a_port, _mac(net, link.a, link.a_port),
                                        _mac(net, link.b, link.b_port), link.b))
            routes[link.b].append(Route(f"{link.a_ip}/32", link.b_port,
                                        _mac(net, link.b, link.b_port),
                                        _mac(net, link.a, link.a_port), link.a))
        for router in net.routers:
            if router in (link.a, link.b):
                continue
            nearer = link.a if (dist[link.a].get(router, INFINITY), link.a) <= \
                (dist[link.b].get(router, INFINITY), link.b) else link.b
            toward(router, nearer, str(link.subnet))
    return routes


def policy_tables(net: Network, as_routes: "policy.ASRoutes",
                  down: Down = frozenset()) -> Dict[str, Table]:
    """IGP inside each AS; toward another AS, its prefix via the AS-level next hop.

    Among the links to that next-hop AS, a hot-potato AS lets each router take the exit
    nearest to it (lowest IGP cost); a cold-potato AS uses one exit for all its routers, the
    one whose far end is nearest (inside the neighbour) to where the traffic leaves the
    neighbour, or, when the neighbour is the destination, to all its routers (sum of IGP
    costs). Choosing only among links to the AS-level next hop keeps the data path on the
    selected AS path, so forwarding is loop-free.

    Links in `down` are gone for the IGP and as exits. When every link to the next-hop AS
    is down but `as_routes` (BGP's view) still says to use it, the destination gets no
    route: its traffic is black-holed until BGP converges, as in the Internet."""
    adj = adjacency(net, intra_only=True, down=down)
    dist = {router: distances_to(adj, router) for router in net.routers}
    routes = _igp_routes(net, adj, dist, down)
    g = as_routes.graph
    exits: Dict[Tuple[int, int], List[Tuple[str, int, str, int]]] = {}
    for link in net.links:
        if link.kind == "inter" and link.index not in down:
            a_as, b_as = net.routers[link.a].asn, net.routers[link.b].asn
            exits.setdefault((a_as, b_as), []).append((link.a, link.a_port, link.b, link.b_port))
            exits.setdefault((b_as, a_as), []).append((link.b, link.b_port, link.a, link.a_port))
    outside = _prefixes_outside_their_as(net)
    border: Dict[Tuple[str, int], str] = {}  # (router, destination ASN) -> its exit router
    for d, d_asn in enumerate(g.asns):
        prefixes = [str(net.ases[d_asn].prefix)] + outside.get(d_asn, [])
        sources = [x for x in range(len(g.asns)) if x != d and as_routes.nh[x, d] >= 0]
        for x in sorted(sources, key=lambda i: (int(as_routes.length[i, d]), i)):
            x_asn, n_asn = g.asns[x], g.asns[int(as_routes.nh[x, d])]
            links = sorted(exits.get((x_asn, n_asn), []))
            if not links:
                continue  # BGP has not noticed yet that every link to n_asn is down
            cold = None
            if net.ases[x_asn].policy.exit == "cold-potato":
                def remaining(link: Tuple[str, int, str, int]) -> float:
                    far = link[2]
                    if n_asn == d_asn:
                        return sum(dist[t].get(far, INFINITY) for t in net.ases[d_asn].routers)
                    leaves_at = border.get((far, d_asn))
                    return INFINITY if leaves_at is None else dist[leaves_at].get(far, INFINITY)
                cold = min(links, key=lambda l: (remaining(l), l))
            for router in net.ases[x_asn].routers:
                exit_ = cold or min(links, key=lambda l: (dist[l[0]].get(router, INFINITY), l))
                b, b_port, far, far_port = exit_
                border[(router, d_asn)] = b
                if router == b:
                    hop: Optional[Tuple[str, int, int]] = (far, b_port, far_port)
                else:
                    hop = _next_hop(adj, router, dist[b])
                if hop is None:
                    continue  # the AS is split inside: this router cannot reach the exit
                peer, port, peer_port = hop
                for prefix in prefixes:
                    routes[router].append(Route(prefix, port, _mac(net, router, port),
                                                _mac(net, peer, peer_port), peer))
    return {router: Table(router, tuple(_sorted(rs))) for router, rs in routes.items()}


def _prefixes_outside_their_as(net: Network) -> Dict[int, List[str]]:
    """Explicit LANs or link subnets not inside their AS's prefix: routed like that AS."""
    out: Dict[int, List[str]] = {}
    for router in net.routers.values():
        if not router.lan.subnet_of(net.ases[router.asn].prefix):
            out.setdefault(router.asn, []).append(str(router.lan))
    for link in net.links:
        if link.kind != "access":
            asn = net.routers[link.a].asn
            if not any(link.subnet.subnet_of(a.prefix) for a in net.ases.values()):
                out.setdefault(asn, []).append(str(link.subnet))
    return out


def _sorted(routes: List[Route]) -> List[Route]:
    return sorted(routes, key=lambda r: (ipaddress.IPv4Network(r.prefix).network_address,
                                         ipaddress.IPv4Network(r.prefix).prefixlen))


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
    return kept


def forward_path(net: Network, tables: Dict[str, Table], src_host: str,
                 dst_ip: str) -> Tuple[List[str], bool]:
    """Routers a packet from src_host to dst_ip crosses, and whether it is delivered."""
    return route_path(net, tables, net.hosts[src_host].router, dst_ip)


def route_path(net: Network, tables: Dict[str, Table], router: str,
               dst_ip: str) -> Tuple[List[str], bool]:
    """Routers a packet entering `router` for dst_ip crosses, and whether it is delivered.

    Follows the tables as the switches do (longest-prefix match, hop by hop)."""
    path: List[str] = []
    while len(path) <= len(net.routers):
        path.append(router)
        if net.owner_of(dst_ip) == router:
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
