"""The deterministic address plan and the resolved `Network`.

Rules (documented in the README):
- AS prefix: as written, else the next free `/as_prefix_len` block of the pool (its
  first block skipped, so AS k in ASN order gets 10.k.0.0/16 by default).
- Router LAN: as written, else block k of the AS prefix split into /(as_prefix_len+8)
  (a /24 for a /16), k = the router's 1-based position in its AS. The router is `.1` of
  its LAN (the hosts' gateway); hosts take the next free addresses in file order.
- Link subnets: as written, else /30s taken from the top of the AS prefix downwards,
  skipping anything used. Intra-AS links from their AS; inter-AS links from the
  provider's AS (the lower ASN's for peers), as ISPs number their customer links.
- Ports: numbered per router from 1 in the order links appear (AS links, inter-AS links,
  then hosts). DPID = router position + 1. MACs derive from (router, port) and host position.
"""
from __future__ import annotations

import ipaddress
import itertools
from typing import Dict, Iterator, List, Optional, Set, Tuple

from . import network as nw
from .checks import Problem, global_name
from .schema import LinkProps as YamlLinkProps, Policy as YamlPolicy, Topology

Net = ipaddress.IPv4Network


class PlanError(Exception):
    def __init__(self, problems: List[Problem]):
        self.problems = problems
        super().__init__("; ".join(p.message for p in problems))


def _merge(*layers: Optional[YamlLinkProps]) -> nw.LinkProps:
    """The last layer that sets a property wins (file defaults < AS defaults < link)."""
    values: Dict[str, Optional[float]] = {"delay": None, "jitter": None, "loss": None,
                                          "bandwidth": None}
    for layer in layers:
        if layer is None:
            continue
        for key in values:
            if getattr(layer, key) is not None:
                values[key] = getattr(layer, key)
    return nw.LinkProps(values["delay"], values["jitter"], values["loss"], values["bandwidth"])


class _ASBlocks:
    """Hands out LANs and link /30s of one AS prefix without overlaps."""

    def __init__(self, prefix: Net, used: List[Net]):
        self.prefix = prefix
        self.used = list(used)
        top = int(prefix.broadcast_address) + 1
        count = 2 ** (30 - prefix.prefixlen) if prefix.prefixlen <= 30 else 0
        self._links = (Net((top - 4 * (k + 1), 30)) for k in range(count))

    def lan(self, position: int) -> Optional[Net]:
        new_len = min(self.prefix.prefixlen + 8, 29)
        if new_len <= self.prefix.prefixlen:
            return None
        count = 2 ** (new_len - self.prefix.prefixlen)
        if position >= count:
            return None
        size = 2 ** (32 - new_len)
        lan = Net((int(self.prefix.network_address) + position * size, new_len))
        return lan

    def link(self) -> Optional[Net]:
        for subnet in self._links:
            if not any(subnet.overlaps(u) for u in self.used):
                self.used.append(subnet)
                return subnet
        return None


def resolve(topo: Topology, source: str) -> nw.Network:
    """Build the Network of a checked Topology. Raises PlanError if addresses run out."""
    problems: List[Problem] = []
    prefixes = _as_prefixes(topo, problems)
    if problems:
        raise PlanError(problems)
    explicit_subnets = [Net(l.subnet) for a in topo.ases for l in a.links if l.subnet] + \
                       [Net(l.subnet) for l in topo.inter_as_links if l.subnet]
    blocks: Dict[int, _ASBlocks] = {}
    routers: Dict[str, nw.Router] = {}
    ases: Dict[int, nw.AutonomousSystem] = {}
    lans: Dict[str, Net] = {}
    index = 0
    for i, autsys in enumerate(topo.ases):
        prefix = prefixes[autsys.asn]
        explicit_lans = [Net(r.lan) for r in autsys.routers if r.lan]
        block = _ASBlocks(prefix, explicit_lans + explicit_subnets)
        blocks[autsys.asn] = block
        for j, spec in enumerate(autsys.routers):
            name = global_name(autsys.asn, spec.name)
            lan = Net(spec.lan) if spec.lan else block.lan(j + 1)
            if lan is None:
                problems.append(Problem(("ases", i, "routers", j),
                                        f"no room for this router's LAN in {prefix}",
                                        "give the AS a larger prefix or the router a 'lan'"))
                continue
            if not spec.lan:
                if any(lan.overlaps(u) for u in block.used):
                    problems.append(Problem(("ases", i, "routers", j),
                                            f"the default LAN {lan} is already in use",
                                            "give this router a 'lan' of its own"))
                    continue
                block.used.append(lan)
            lans[name] = lan
            routers[name] = nw.Router(name, autsys.asn, index, index + 1, lan,
                                      str(lan.network_address + 1))
            index += 1
        ases[autsys.asn] = nw.AutonomousSystem(
            autsys.asn, autsys.name or f"as{autsys.asn}", prefix,
            tuple(global_name(autsys.asn, r.name) for r in autsys.routers),
            tuple(global_name(autsys.asn, h.name) for h in autsys.hosts), _policy(autsys.policy))
    if problems:
        raise PlanError(problems)

    links: List[nw.Link] = []
    interfaces: Dict[Tuple[str, int], nw.Interface] = {}
    next_port: Dict[str, int] = {name: 1 for name in routers}

    def take_port(router: str) -> int:
        port = next_port[router]
        next_port[router] += 1
        return port

    def add_router_link(kind: str, a: str, b: str, subnet: Optional[Net], path: Tuple,
                        props: nw.LinkProps, cost: int, relationship: Optional[str],
                        owner: int, money: Tuple[Optional[float], Optional[float]] = (None, None)
                        ) -> None:
        if subnet is None:
            subnet = blocks[owner].link()
        if subnet is None:
            problems.append(Problem(path, f"no room for a link subnet in "
                                          f"as{owner}'s prefix {prefixes[owner]}",
                                    "give the AS a larger prefix or the link a 'subnet'"))
            return
        addresses = list(subnet) if subnet.prefixlen == 31 else list(subnet.hosts())
        a_ip, b_ip = str(addresses[0]), str(addresses[1])
        a_port, b_port = take_port(a), take_port(b)
        link = nw.Link(len(links), kind, a, b, a_port, b_port, subnet, a_ip, b_ip, props,
                       cost, relationship, *money)
        links.append(link)
        interfaces[(a, a_port)] = nw.Interface(a, a_port, a_ip, subnet.prefixlen,
                                               nw.router_mac(routers[a].index, a_port), link.index)
        interfaces[(b, b_port)] = nw.Interface(b, b_port, b_ip, subnet.prefixlen,
                                               nw.router_mac(routers[b].index, b_port), link.index)

    for i, autsys in enumerate(topo.ases):
        for j, spec in enumerate(autsys.links):
            add_router_link("intra", global_name(autsys.asn, spec.a),
                            global_name(autsys.asn, spec.b),
                            Net(spec.subnet) if spec.subnet else None, ("ases", i, "links", j),
                            _merge(topo.defaults.link, autsys.defaults.link, spec), spec.cost,
                            None, autsys.asn)
    for j, spec in enumerate(topo.inter_as_links):
        a_asn, b_asn = routers[spec.a].asn, routers[spec.b].asn
        if spec.relationship == "provider-customer":
            owner = a_asn
        elif spec.relationship == "customer-provider":
            owner = b_asn
        else:
            owner = min(a_asn, b_asn)
        add_router_link("inter", spec.a, spec.b, Net(spec.subnet) if spec.subnet else None,
                        ("inter_as_links", j), _merge(topo.defaults.link, spec), spec.cost,
                        spec.relationship, owner, (spec.price, spec.peering_cost))

    hosts: Dict[str, nw.Host] = {}
    taken: Dict[str, Set[str]] = {name: {routers[name].gateway} for name in routers}
    for i, autsys in enumerate(topo.ases):
        for j, spec in enumerate(autsys.hosts):
            router = global_name(autsys.asn, spec.router)
            if spec.ip:
                path = ("ases", i, "hosts", j, "ip")
                problem = _check_host_ip(spec.ip, lans[router], routers[router].gateway,
                                         taken[router], path, router)
                if problem:
                    problems.append(problem)
                    continue
                taken[router].add(spec.ip)
    for i, autsys in enumerate(topo.ases):
        for j, spec in enumerate(autsys.hosts):
            router = global_name(autsys.asn, spec.router)
            lan = lans[router]
            ip = spec.ip or next((str(a) for a in lan.hosts() if str(a) not in taken[router]), None)
            if ip is None:
                problems.append(Problem(("ases", i, "hosts", j),
                                        f"LAN {lan} of {router} is full",
                                        "give the router a larger 'lan'"))
                continue
            taken[router].add(ip)
            name = global_name(autsys.asn, spec.name)
            port = take_port(router)
            props = _merge(topo.defaults.link, autsys.defaults.link,
                           YamlLinkProps(delay=spec.delay, jitter=spec.jitter, loss=spec.loss,
                                         bandwidth=spec.bandwidth))
            link = nw.Link(len(links), "access", name, router, 0, port, lan, ip,
                           routers[router].gateway, props)
            links.append(link)
            interfaces[(router, port)] = nw.Interface(router, port, routers[router].gateway,
                                                      lan.prefixlen,
                                                      nw.router_mac(routers[router].index, port),
                                                      link.index)
            hosts[name] = nw.Host(name, autsys.asn, len(hosts), router, ip, lan.prefixlen,
                                  routers[router].gateway, nw.host_mac(len(hosts)), link.index)
    if problems:
        raise PlanError(problems)
    return nw.Network(topo.name, source, ases, routers, hosts, links, interfaces,
                      topo.routing.mode, topo.routing.convergence_delay, topo.emulation.links,
                      topo.emulation.dataplane)


def _policy(spec: YamlPolicy) -> nw.Policy:
    def asn(ref: str) -> int:
        return int(ref[2:])
    return nw.Policy({asn(k): v for k, v in spec.local_pref.items()},
                     frozenset(map(asn, spec.prefer)), frozenset(map(asn, spec.avoid)),
                     frozenset(map(asn, spec.no_export)),
                     {asn(k): v for k, v in spec.prepend.items()}, spec.exit)


def _check_host_ip(ip: str, lan: Net, gateway: str, taken: Set[str], path: Tuple,
                   router: str) -> Optional[Problem]:
    address = ipaddress.IPv4Address(ip)
    if address not in lan:
        return Problem(path, f"{ip} is outside {router}'s LAN {lan}",
                       f"pick an address in {lan} or leave 'ip' out")
    if address in (lan.network_address, lan.broadcast_address):
        return Problem(path, f"{ip} is the network or broadcast address of {lan}")
    if ip == gateway:
        return Problem(path, f"{ip} is the router's own address on {lan}")
    if ip in taken:
        return Problem(path, f"{ip} is already used by another host")
    return None


def _as_prefixes(topo: Topology, problems: List[Problem]) -> Dict[int, Net]:
    explicit = {a.asn: Net(a.prefix) for a in topo.ases if a.prefix}
    pool = Net(topo.addressing.pool)
    length = topo.addressing.as_prefix_len
    result = dict(explicit)
    # Block 0 of the pool is skipped, so with the default pool the k-th AS is 10.k.0.0/16.
    # lazily: a /0 pool of /28s is 2^28 blocks, of which we need one per AS
    free: Iterator[Net] = itertools.islice(pool.subnets(new_prefix=length), 1, 1 << 17) \
        if length > pool.prefixlen else iter(())
    for i, autsys in sorted(enumerate(topo.ases), key=lambda item: item[1].asn):
        if autsys.asn in result:
            continue
        block = next((b for b in free if not any(b.overlaps(e) for e in explicit.values())), None)
        if block is None:
            problems.append(Problem(("ases", i), f"the address pool {pool} has no free "
                                                 f"/{length} left for as{autsys.asn}",
                                    "enlarge addressing.pool or give the AS a 'prefix'"))
            continue
        result[autsys.asn] = block
    return result
