"""Overlay paths against the underlay's, per member pair, for any overlay that reports
its paths: a *path report* is a record with `dst_ip` and `via_ips` (the overlay's
intermediate members' addresses, in order; [] when it goes direct), and when it is a
`stretch` metric line its value is the pair's latency stretch (overlays/README.md). The
overlay path is set against the routers the underlay's tables take, with the metrics of
measure.metrics.

For the pair (src, dst), the underlay path is the router sequence src -> dst; the overlay
path is src -> via_1, via_1 -> via_2, ..., via_k -> dst, under the tables of the topology
as run with no failures. Only each pair's last report of a trial counts (the overlay's
settled choice). Derived, over pairs:

- `pairs` (how many), `stretch_median`, `pairs_stretch_below_1` (share of pairs whose
  chosen path is faster than the direct one: the Detour/RON result);
- `divergence_links` (mean Jaccard distance of link sets) and `divergence_edit` (mean
  normalised edit distance of router sequences).
"""
from __future__ import annotations

import statistics
from typing import Any, Dict, List, Optional, Tuple

from ..control.routes import forward_path, forwarding_tables
from ..measure import metrics
from ..model import load_topology


def last_choices(records: List[Dict[str, Any]]) -> Dict[Tuple[str, str], Dict[str, Any]]:
    last: Dict[Tuple[str, str], Dict[str, Any]] = {}
    for r in records:
        if isinstance(r.get("dst_ip"), str) and isinstance(r.get("via_ips"), list):
            last[(r["host"], r["dst_ip"])] = r
    return last


def _routers(net: Any, tables: Any, src: str, r: Dict[str, Any]) -> Tuple[List[str], List[str]]:
    """The routers of the underlay's path and of the overlay's, for one path report."""
    under, _ = forward_path(net, tables, src, r["dst_ip"])
    vias = [ip for ip in r["via_ips"] if net.owner_of(ip) in net.hosts]
    over: List[str] = []
    for a, b in zip([src] + [net.owner_of(ip) for ip in vias], vias + [r["dst_ip"]]):
        over += forward_path(net, tables, a, b)[0]
    return under, over


def most_divergent(run: Any, records: List[Dict[str, Any]]
                   ) -> Optional[Tuple[str, str, List[str], List[str]]]:
    """(src host, dst host, underlay routers, overlay routers) of the pair whose overlay
    path differs most from the underlay's (the report's drawing shows it), or None when
    every pair goes the underlay's way."""
    choices = last_choices(records)
    if not choices:
        return None
    net = load_topology(run.path / "inputs" / "topology.run.yaml")
    tables = forwarding_tables(net)
    best, score = None, 0.0
    for (src, dst_ip), r in sorted(choices.items()):
        under, over = _routers(net, tables, src, r)
        d = metrics.normalised_edit_distance(under, over)
        if d > score and net.owner_of(dst_ip) in net.hosts:
            best, score = (src, str(net.owner_of(dst_ip)), under, over), d
    return best


def pair_values(run: Any, records: List[Dict[str, Any]]) -> List[Dict[str, Optional[float]]]:
    """Per pair: stretch and the two divergences."""
    choices = last_choices(records)
    if not choices:
        return []
    net = load_topology(run.path / "inputs" / "topology.run.yaml")
    tables = forwarding_tables(net)
    out = []
    for (src, dst_ip), r in sorted(choices.items()):
        under, over = _routers(net, tables, src, r)
        stretch = float(r["value"]) if r.get("metric") == "stretch" and \
            isinstance(r.get("value"), (int, float)) else None
        out.append({"stretch": stretch,
                    "divergence_links": metrics.jaccard_distance(metrics.link_set(under),
                                                                 metrics.link_set(over)),
                    "divergence_edit": metrics.normalised_edit_distance(under, over)})
    return out


def pair_metrics(run: Any, records: List[Dict[str, Any]]) -> Dict[str, Optional[float]]:
    values = pair_values(run, records)
    if not values:
        return {}
    out: Dict[str, Optional[float]] = {"pairs": len(values)}
    stretch = [v["stretch"] for v in values if v["stretch"] is not None]
    if stretch:
        out.update({"stretch_median": statistics.median(stretch),
                    "pairs_stretch_below_1": sum(1 for s in stretch if s < 1) / len(stretch)})
    return {**out,
            "divergence_links": statistics.fmean(v["divergence_links"] for v in values),
            "divergence_edit": statistics.fmean(v["divergence_edit"] for v in values)}
