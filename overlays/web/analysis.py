"""The web workload's metrics of one trial: medians of time to first byte
(`ttfb_median_ms`) and, per object size, of time to last byte (`ttlb_median_ms.50kib`,
`.1mib`, `.5mib`, ...) and of goodput (`goodput_median_mbit.<size>`). The share of
fetches that succeeded is the harness's mean of `fetched` lines."""
from __future__ import annotations

import statistics
from typing import Any, Dict, List


def label(size: int) -> str:
    """50 KiB -> '50kib', 1 MiB -> '1mib', 1000 -> '1000b'."""
    for unit, scale in (("mib", 1 << 20), ("kib", 1 << 10)):
        if size >= scale and size % scale == 0:
            return f"{size // scale}{unit}"
    return f"{size}b"


def metrics(records: List[Dict[str, Any]], params: Any) -> Dict[str, float]:
    out: Dict[str, float] = {}
    ttfb = [r["value"] for r in records if r.get("metric") == "ttfb_ms"]
    if ttfb:
        out["ttfb_median_ms"] = round(statistics.median(ttfb), 3)
    for size in sorted(set(params.sizes)):
        ttlb = [r["value"] for r in records
                if r.get("metric") == "ttlb_ms" and r.get("size") == size]
        if ttlb:
            out[f"ttlb_median_ms.{label(size)}"] = round(statistics.median(ttlb), 3)
            if size:
                rates = [size * 8 / (t * 1e3) for t in ttlb if t > 0]
                out[f"goodput_median_mbit.{label(size)}"] = round(statistics.median(rates), 3)
    return out
