"""Policy inflation: the path policy routing takes against the shortest one, per AS pair.

For every ordered pair of ASes (x, d), from x's first router to the first router of d:
- AS hops: policy AS path against the fewest AS hops in the AS graph;
- router hops: the router path the installed tables give against the fewest router hops;
- latency: the configured one-way delay along that router path against the lowest-delay
  router path (link `delay`, 0 where unset).
Inflation = policy / shortest (docs/definitions.md); pairs without a policy route are counted
apart. Pure: computed from the model and the tables, no network needed.
"""
from __future__ import annotations

import ipaddress
import statistics
from dataclasses import asdict, dataclass
from typing import Dict, List, Optional, Tuple

from ..control.policy import ASGraph, ASRoutes
from ..control.routes import Table, route_path
from ..model.graphs import distances, hop_counts
from ..model.network import Network
from ..stats import percentile


@dataclass(frozen=True)
class PairInflation:
    src_as: int
    dst_as: int
    as_hops_policy: Optional[int]
    as_hops_min: int
    router_hops_policy: Optional[int]
    router_hops_min: int
    latency_policy_ms: Optional[float]
    latency_min_ms: float


def router_address(net: Network, router: str) -> str:
    """An address the router owns, inside its own AS prefix where it has one (a customer
    link's address comes from the provider's prefix and would be routed via the provider)."""
    prefix = net.ases[net.routers[router].asn].prefix
    interfaces = net.router_interfaces(router)
    own = [i for i in interfaces if ipaddress.IPv4Address(i.ip) in prefix]
    return (own or interfaces)[0].ip


def pairs(net: Network, routes: ASRoutes, tables: Dict[str, Table]) -> List[PairInflation]:
    g: ASGraph = routes.graph
    r_hops: Dict[str, List[str]] = {r: [] for r in net.routers}
    r_delay: Dict[str, List[Tuple[str, float]]] = {r: [] for r in net.routers}
    delay_by_port: Dict[Tuple[str, int], float] = {}
    for link in net.links:
        if link.kind == "access":
            continue
        delay = link.props.delay_ms or 0.0
        for a, b, port in ((link.a, link.b, link.a_port), (link.b, link.a, link.b_port)):
            r_hops[a].append(b)
            r_delay[a].append((b, delay))
            delay_by_port[(a, port)] = delay
    out = []
    for x, x_asn in enumerate(g.asns):
        as_min = hop_counts(g.neighbours, x)
        src = net.ases[x_asn].routers[0]
        hop_min = hop_counts(r_hops.__getitem__, src)
        lat_min = distances(r_delay.__getitem__, src)
        for d, d_asn in enumerate(g.asns):
            if d == x or d not in as_min:
                continue
            dst = net.ases[d_asn].routers[0]
            address = router_address(net, dst)
            path = routes.path(x, d)
            hops, delivered = route_path(net, tables, src, address)
            if delivered:
                latency = sum(delay_by_port[(a, tables[a].lookup(address).port)] for a in hops[:-1])
            out.append(PairInflation(
                x_asn, d_asn, len(path) - 1 if path else None, as_min[d],
                len(hops) - 1 if delivered else None, hop_min[dst],
                round(latency, 3) if delivered else None, round(lat_min[dst], 3)))
    return out


def summary(rows: List[PairInflation]) -> List[Dict[str, object]]:
    """Per metric: pairs routed, share inflated, and the distribution of policy/shortest."""
    out = []
    for label, pol, low in (("AS hops", "as_hops_policy", "as_hops_min"),
                            ("router hops", "router_hops_policy", "router_hops_min"),
                            ("latency (ms)", "latency_policy_ms", "latency_min_ms")):
        routed = [r for r in rows if getattr(r, pol) is not None]
        ratios = sorted(getattr(r, pol) / getattr(r, low) for r in routed if getattr(r, low) > 0)
        extra = [getattr(r, pol) - getattr(r, low) for r in routed]
        out.append({
            "metric": label, "pairs": len(rows), "routed": len(routed),
            "inflated_share": round(sum(e > 1e-9 for e in extra) / len(routed), 3) if routed else None,
            "ratio_median": round(statistics.median(ratios), 3) if ratios else None,
            "ratio_p90": round(percentile(ratios, 90), 3) if ratios else None,
            "ratio_max": round(ratios[-1], 3) if ratios else None,
            "extra_mean": round(statistics.fmean(extra), 3) if extra else None,
        })
    return out


def as_csv_rows(rows: List[PairInflation]) -> List[Dict[str, object]]:
    return [asdict(r) for r in rows]
