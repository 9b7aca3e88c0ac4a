"""Rules that need the whole file: names resolve, nothing is duplicated, prefixes do not
overlap, relationships form no provider-customer cycle, and the graph is connected.

Each check yields `Problem(path, message, hint)`; the loader turns paths into file:line:col.
All problems are reported, not just the first.
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Dict, Iterator, List, Set, Tuple

from .diagnostics import did_you_mean
from .graphs import hop_counts
from .schema import MAX_GLOBAL_NAME, Topology


@dataclass(frozen=True)
class Problem:
    path: Tuple[object, ...]
    message: str
    hint: str = ""


def global_name(asn: int, local: str) -> str:
    return f"as{asn}.{local}"


def check_topology(topo: Topology) -> List[Problem]:
    problems: List[Problem] = []
    for check in (_names, _intra_links, _hosts, _inter_links, _prefixes, _provider_cycles,
                  _policies):
        problems.extend(check(topo))
    if not problems:  # connectivity is meaningful only once every name resolves
        problems.extend(_connected(topo))
        if topo.routing.mode == "policy":
            problems.extend(_ases_connected_inside(topo))
    return problems


def _names(topo: Topology) -> Iterator[Problem]:
    seen_asn: Dict[int, int] = {}
    for i, autsys in enumerate(topo.ases):
        if autsys.asn in seen_asn:
            yield Problem(("ases", i, "asn"), f"duplicate AS number {autsys.asn}",
                          f"ases[{seen_asn[autsys.asn]}] already uses it")
        seen_asn.setdefault(autsys.asn, i)
        names: Dict[str, str] = {}
        for j, router in enumerate(autsys.routers):
            if router.name in names:
                yield Problem(("ases", i, "routers", j, "name"),
                              f"duplicate router name '{router.name}' in as{autsys.asn}")
            names.setdefault(router.name, "router")
            full = global_name(autsys.asn, router.name)
            if len(full) > MAX_GLOBAL_NAME:
                yield Problem(("ases", i, "routers", j, "name"),
                              f"'{full}' is longer than {MAX_GLOBAL_NAME} characters",
                              "routers become Open vSwitch bridges, whose names are Linux "
                              "interface names: use a shorter router name")
        for j, host in enumerate(autsys.hosts):
            if host.name in names:
                yield Problem(("ases", i, "hosts", j, "name"),
                              f"duplicate name '{host.name}' in as{autsys.asn} "
                              f"(already a {names[host.name]})")
            names.setdefault(host.name, "host")


def _router_names(topo: Topology, i: int) -> Set[str]:
    return {r.name for r in topo.ases[i].routers}


def _intra_links(topo: Topology) -> Iterator[Problem]:
    for i, autsys in enumerate(topo.ases):
        known = _router_names(topo, i)
        for j, link in enumerate(autsys.links):
            for end in ("a", "b"):
                name = getattr(link, end)
                if name not in known:
                    yield Problem(("ases", i, "links", j, end),
                                  f"no router '{name}' in as{autsys.asn}",
                                  did_you_mean(name, known) or f"routers: {', '.join(sorted(known))}")
            if link.a == link.b:
                yield Problem(("ases", i, "links", j), f"link from '{link.a}' to itself",
                              "a link joins two different routers")


def _hosts(topo: Topology) -> Iterator[Problem]:
    for i, autsys in enumerate(topo.ases):
        known = _router_names(topo, i)
        for j, host in enumerate(autsys.hosts):
            if host.router not in known:
                yield Problem(("ases", i, "hosts", j, "router"),
                              f"no router '{host.router}' in as{autsys.asn}",
                              did_you_mean(host.router, known) or
                              "a host hangs off a router of its own AS")


def _all_routers(topo: Topology) -> Set[str]:
    return {global_name(a.asn, r.name) for a in topo.ases for r in a.routers}


def _inter_links(topo: Topology) -> Iterator[Problem]:
    known = _all_routers(topo)
    for j, link in enumerate(topo.inter_as_links):
        for end in ("a", "b"):
            name = getattr(link, end)
            if name not in known:
                yield Problem(("inter_as_links", j, end), f"no router '{name}'",
                              did_you_mean(name, known) or "write routers as 'as<asn>.<router>'")
        if link.a == link.b:
            yield Problem(("inter_as_links", j), f"link from '{link.a}' to itself")
        elif link.a.split(".")[0] == link.b.split(".")[0]:
            yield Problem(("inter_as_links", j), f"'{link.a}' and '{link.b}' are in the same AS",
                          "links inside an AS go under that AS's 'links'")
    relation: Dict[Tuple[str, str], Tuple[str, int]] = {}
    for j, link in enumerate(topo.inter_as_links):
        a_as, b_as = link.a.split(".")[0], link.b.split(".")[0]
        rel = _normalised(link.relationship, a_as, b_as)
        key = tuple(sorted((a_as, b_as)))
        if key in relation and relation[key][0] != rel:
            yield Problem(("inter_as_links", j, "relationship"),
                          f"{a_as} and {b_as} already have another relationship "
                          f"(inter_as_links[{relation[key][1]}])",
                          "all links between two ASes share one business relationship")
        relation.setdefault(key, (rel, j))


def _normalised(relationship: str, a_as: str, b_as: str) -> str:
    if relationship == "peer-peer":
        return "peer"
    provider = a_as if relationship == "provider-customer" else b_as
    return f"provider={provider}"


def _prefixes(topo: Topology) -> Iterator[Problem]:
    explicit = [(i, ipaddress.IPv4Network(a.prefix)) for i, a in enumerate(topo.ases) if a.prefix]
    for x, (i, net_i) in enumerate(explicit):
        for j, net_j in explicit[x + 1:]:
            if net_i.overlaps(net_j):
                yield Problem(("ases", j, "prefix"),
                              f"prefix {net_j} overlaps as{topo.ases[i].asn}'s {net_i}",
                              "each AS needs its own address block")
    for i, autsys in enumerate(topo.ases):
        prefix = ipaddress.IPv4Network(autsys.prefix) if autsys.prefix else None
        lans = []
        for j, router in enumerate(autsys.routers):
            if not router.lan:
                continue
            lan = ipaddress.IPv4Network(router.lan)
            if prefix and not lan.subnet_of(prefix):
                yield Problem(("ases", i, "routers", j, "lan"),
                              f"LAN {lan} is outside the AS prefix {prefix}")
            if lan.num_addresses < 4:
                yield Problem(("ases", i, "routers", j, "lan"), f"LAN {lan} is too small",
                              "use a /29 or larger")
            for k, other in lans:
                if lan.overlaps(other):
                    yield Problem(("ases", i, "routers", j, "lan"),
                                  f"LAN {lan} overlaps routers[{k}]'s LAN {other}")
            lans.append((j, lan))
        for j, link in enumerate(autsys.links):
            if link.subnet:
                yield from _link_subnet(("ases", i, "links", j, "subnet"), link.subnet)
    for j, link in enumerate(topo.inter_as_links):
        if link.subnet:
            yield from _link_subnet(("inter_as_links", j, "subnet"), link.subnet)


def _link_subnet(path: Tuple[object, ...], subnet: str) -> Iterator[Problem]:
    if ipaddress.IPv4Network(subnet).prefixlen not in (30, 31):
        yield Problem(path, f"a link subnet is a /30 or /31, not {subnet}")


def _provider_cycles(topo: Topology) -> Iterator[Problem]:
    """Gao-Rexford needs an acyclic provider hierarchy: report every provider cycle."""
    customers: Dict[str, Set[str]] = {}
    first_link: Dict[Tuple[str, str], int] = {}
    for j, link in enumerate(topo.inter_as_links):
        if link.relationship == "peer-peer":
            continue
        a_as, b_as = link.a.split(".")[0], link.b.split(".")[0]
        provider, customer = (a_as, b_as) if link.relationship == "provider-customer" else (b_as, a_as)
        customers.setdefault(provider, set()).add(customer)
        first_link.setdefault((provider, customer), j)
    state: Dict[str, int] = {}  # 1: on the current path, 2: done
    reported: Set[frozenset] = set()
    for root in sorted(customers):
        if root in state:
            continue
        # depth-first without recursion (a provider chain may be thousands of ASes long)
        stack: List[str] = [root]
        todo: List[Iterator[str]] = [iter(sorted(customers.get(root, ())))]
        state[root] = 1
        while todo:
            node = stack[-1]
            nxt = next(todo[-1], None)
            if nxt is None:
                state[node] = 2
                stack.pop()
                todo.pop()
            elif state.get(nxt) == 1:
                cycle = stack[stack.index(nxt):] + [nxt]
                key = frozenset(cycle)
                if key not in reported:
                    reported.add(key)
                    shown = cycle if len(cycle) <= 8 else cycle[:4] + ["..."] + cycle[-3:]
                    yield Problem(("inter_as_links", first_link[(node, nxt)], "relationship"),
                                  f"provider-customer cycle of {len(cycle) - 1} ASes: "
                                  + " -> ".join(shown),
                                  "an AS cannot be (indirectly) its own provider; make one "
                                  "of these links peer-peer or reverse it")
            elif nxt not in state:
                state[nxt] = 1
                stack.append(nxt)
                todo.append(iter(sorted(customers.get(nxt, ()))))


def _policies(topo: Topology) -> Iterator[Problem]:
    """Policy knobs name ASes that exist; per-neighbour knobs name actual neighbours."""
    known = {f"as{a.asn}" for a in topo.ases}
    neighbours: Dict[str, Set[str]] = {name: set() for name in known}
    for link in topo.inter_as_links:
        a_as, b_as = link.a.split(".")[0], link.b.split(".")[0]
        if a_as in neighbours and b_as in neighbours:
            neighbours[a_as].add(b_as)
            neighbours[b_as].add(a_as)
    for i, autsys in enumerate(topo.ases):
        me = f"as{autsys.asn}"
        policy = autsys.policy
        for key in ("prefer", "avoid"):
            for j, ref in enumerate(getattr(policy, key)):
                if ref not in known:
                    yield Problem(("ases", i, "policy", key, j), f"no AS '{ref}'",
                                  did_you_mean(ref, known))
        for key, refs in (("local_pref", list(policy.local_pref)), ("prepend", list(policy.prepend)),
                          ("no_export", policy.no_export)):
            for j, ref in enumerate(refs):
                if ref not in neighbours[me]:
                    where = ("ases", i, "policy", key, ref if key != "no_export" else j)
                    yield Problem(where, f"'{ref}' is not a neighbour of {me}",
                                  did_you_mean(ref, neighbours[me]) or
                                  f"neighbours: {', '.join(sorted(neighbours[me])) or 'none'}")


def _ases_connected_inside(topo: Topology) -> Iterator[Problem]:
    """With policy routing an AS forwards over its own links only (IGP), like a real ISP."""
    for i, autsys in enumerate(topo.ases):
        names = [r.name for r in autsys.routers]
        adjacency: Dict[str, Set[str]] = {n: set() for n in names}
        for link in autsys.links:
            adjacency[link.a].add(link.b)
            adjacency[link.b].add(link.a)
        seen = hop_counts(adjacency.__getitem__, names[0])
        if len(seen) != len(names):
            cut = sorted(set(names) - set(seen))
            yield Problem(("ases", i, "links"), f"as{autsys.asn} is split: {', '.join(cut)} "
                                                f"cannot reach {names[0]} over as{autsys.asn}'s links",
                          "with policy routing an AS forwards over its own links; add links "
                          "or set routing: {mode: shortest}")


def _connected(topo: Topology) -> Iterator[Problem]:
    adjacency: Dict[str, Set[str]] = {name: set() for name in _all_routers(topo)}
    for autsys in topo.ases:
        for link in autsys.links:
            a, b = global_name(autsys.asn, link.a), global_name(autsys.asn, link.b)
            adjacency[a].add(b)
            adjacency[b].add(a)
    for link in topo.inter_as_links:
        adjacency[link.a].add(link.b)
        adjacency[link.b].add(link.a)
    start = sorted(adjacency)[0]
    cut = sorted(set(adjacency) - set(hop_counts(adjacency.__getitem__, start)))
    if cut:
        shown = ", ".join(cut[:6]) + (" ..." if len(cut) > 6 else "")
        yield Problem((), f"the network is disconnected: {len(cut)} router(s) cannot reach "
                          f"{start}: {shown}",
                      "add intra-AS links or inter_as_links joining them")
