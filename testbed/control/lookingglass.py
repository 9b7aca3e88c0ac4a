"""What each AS chose toward every destination, and why: the looking glass.

Rows are plain dicts (the CLI prints them as a table or JSON). An unreachable destination
gets a row too, saying why: no path at all, or paths that all break the export rules
(a "valley": a route learned from a peer or provider passed on to a peer or provider).
"""
from __future__ import annotations

from typing import Any, Dict, List

from ..model.graphs import hop_counts
from ..model.network import Network
from .policy import CLASS_NAMES, ORIGIN, ASRoutes, candidates, why


def as_path_attribute(routes: ASRoutes, path: List[int]) -> List[int]:
    """The AS_PATH x receives: every AS after x, repeated by the prepends it applied."""
    g = routes.graph
    out: List[int] = []
    for receiver, sender in zip(path, path[1:]):
        out += [sender] * (1 + g.policies[g.index(sender)].prepend.get(receiver, 0))
    return out


def table(net: Network, routes: ASRoutes, asn: int) -> List[Dict[str, Any]]:
    g = routes.graph
    x = g.index(asn)
    rows = []
    for d, d_asn in enumerate(g.asns):
        prefix = str(net.ases[d_asn].prefix)
        if d == x:
            rows.append({"prefix": prefix, "as_path": [], "next_hop": None,
                         "relationship": CLASS_NAMES[ORIGIN], "local_pref": None,
                         "alternatives": 0, "why": "own prefix"})
            continue
        path = routes.path(x, d)
        if path is None:
            reason = ("no valley-free path: every path would carry a peer or provider route "
                      "to another peer or provider" if d in hop_counts(g.neighbours, x)
                      else "no path at all in the AS graph")
            rows.append({"prefix": prefix, "as_path": None, "next_hop": None,
                         "relationship": None, "local_pref": None, "alternatives": 0,
                         "why": reason})
            continue
        offered = candidates(routes, asn, d_asn)
        best, others = offered[0], offered[1:]
        rows.append({"prefix": prefix, "as_path": as_path_attribute(routes, path),
                     "next_hop": best.neighbour, "relationship": CLASS_NAMES[best.cls],
                     "local_pref": best.pref, "alternatives": len(others),
                     "why": why(best, others)})
    return rows
