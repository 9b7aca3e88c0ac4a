"""The VPN's metrics of one trial: medians of the echo RTTs straight and tunnelled
(`rtt_direct_median_ms`, `rtt_tunnel_median_ms`), the tunnel's added RTT
(`rtt_overhead_ms`: per pair of sites the median tunnelled RTT minus the median straight
one, then the median over pairs), and the bulk transfers' goodput ratio (`tcp_ratio`,
tunnelled / straight, medians over peers)."""
from __future__ import annotations

import statistics
from typing import Any, Dict, List, Optional


def _median(records: List[Dict[str, Any]], metric: str, pair: Optional[tuple] = None
            ) -> Optional[float]:
    values = [r["value"] for r in records if r.get("metric") == metric
              and (pair is None or (r.get("host"), r.get("peer")) == pair)]
    return statistics.median(values) if values else None


def metrics(records: List[Dict[str, Any]], params: Any) -> Dict[str, float]:
    out: Dict[str, float] = {}
    pairs = sorted({(r.get("host"), r.get("peer")) for r in records
                    if r.get("metric") == "rtt_tunnel_ms"})
    added = []
    for pair in pairs:
        direct = _median(records, "rtt_direct_ms", pair)
        tunnel = _median(records, "rtt_tunnel_ms", pair)
        if direct is not None and tunnel is not None:
            added.append(tunnel - direct)
    if added:
        out["rtt_overhead_ms"] = round(statistics.median(added), 3)
    for kind in ("direct", "tunnel"):
        m = _median(records, f"rtt_{kind}_ms")
        if m is not None:
            out[f"rtt_{kind}_median_ms"] = round(m, 3)
    a, b = _median(records, "tcp_direct_mbit"), _median(records, "tcp_tunnel_mbit")
    if a and b is not None:
        out["tcp_ratio"] = round(b / a, 4)
    return out
