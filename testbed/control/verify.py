"""Checks every selected AS path against the rules, independently of how it was computed.

For each (AS, destination) pair with a route: the path is valley-free (zero or more
customer->provider steps, at most one peer step, then only provider->customer steps), each
hop exported what the next used (export rules, no_export), no AS picked a route while a
better-ranked one was offered (class first: never a peer or provider route while a customer
route is offered), and the next hop's own route is the tail of the path (consistency).
"""
from __future__ import annotations

from typing import List

from .policy import ASRoutes, NONE, PEER, PROVIDER, candidates

UP, FLAT, DOWN = "up", "flat", "down"


def _step(routes: ASRoutes, a: int, b: int) -> str:
    """Direction of the hop a -> b as the traffic goes (by ASN)."""
    g = routes.graph
    rel = g.relationship(g.index(a), g.index(b))  # class of routes a learns from b
    return {PROVIDER: UP, PEER: FLAT}.get(rel, DOWN)


def valley_free(routes: ASRoutes, path: List[int]) -> bool:
    seen_flat_or_down = False
    for a, b in zip(path, path[1:]):
        step = _step(routes, a, b)
        if step == UP and seen_flat_or_down:
            return False
        if step == FLAT:
            if seen_flat_or_down:
                return False
            seen_flat_or_down = True
        if step == DOWN:
            seen_flat_or_down = True
    return True


def violations(routes: ASRoutes) -> List[str]:
    g = routes.graph
    out: List[str] = []
    for x, x_asn in enumerate(g.asns):
        for d, d_asn in enumerate(g.asns):
            if x == d:
                continue
            offered = candidates(routes, x_asn, d_asn)
            path = routes.path(x, d)
            if path is None:
                if offered:
                    out.append(f"as{x_asn} has no route to as{d_asn} but is offered "
                               f"{len(offered)}")
                continue
            where = f"as{x_asn} -> as{d_asn} via {' '.join(map(str, path))}"
            if not valley_free(routes, path):
                out.append(f"{where}: not valley-free")
            if len(set(path)) != len(path):
                out.append(f"{where}: loop")
            nbr = g.index(path[1])
            if not g.exports(nbr, x, int(routes.cls[nbr, d])):
                out.append(f"{where}: as{path[1]} does not export this route to as{x_asn}")
            if routes.path(nbr, d) != path[1:]:
                out.append(f"{where}: inconsistent with as{path[1]}'s own route")
            if not offered or offered[0].neighbour != path[1]:
                best = offered[0] if offered else None
                out.append(f"{where}: a better-ranked route was offered "
                           f"({best.path if best else 'none'})")
            elif int(routes.cls[x, d]) == NONE:
                out.append(f"{where}: route without class")
    return out
