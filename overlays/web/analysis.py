"""The web workload's metrics of one trial: medians of time to first byte
(`ttfb_median_ms`) and, per object size, of time to last byte (`ttlb_median_ms.50kib`,
`.1mib`, `.5mib`, ...) and of goodput (`goodput_median_mbit.<size>`). The share of
fetches that succeeded is the harness's mean of `fetched` lines.

`web_fetches.png` (the headline where several deployments fetch the same objects, e.g.
direct against through an onion network): each deployment's time to first byte as a CDF,
and its median time to last byte per object size.
"""
from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any, Dict, List

from ..plotting import figure, finish


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


def fetches_plot(deployments: List[Any], folder: Path) -> List[Path]:
    """`web_fetches.png`, drawn when at least two deployments fetched something."""
    drawn = []
    for dep in deployments:
        records = [r for rs in dep.records.values() for r in rs]
        ttfb = sorted(r["value"] for r in records if r.get("metric") == "ttfb_ms")
        sizes = {size: [r["value"] for r in records if r.get("metric") == "ttlb_ms"
                        and r.get("size") == size] for size in sorted(set(dep.params.sizes))}
        if ttfb:
            drawn.append((dep.name, ttfb, {k: v for k, v in sizes.items() if v}))
    if len(drawn) < 2:
        return []
    fig, (left, right) = figure(1, 2, size=(11, 4))
    width = 0.8 / len(drawn)
    all_sizes = sorted({size for _, _, sizes in drawn for size in sizes})
    for k, (name, ttfb, sizes) in enumerate(drawn):
        left.step(ttfb, [(i + 1) / len(ttfb) for i in range(len(ttfb))], where="post",
                  label=f"{name} (median {statistics.median(ttfb):.0f} ms)")
        right.bar([i + k * width for i, size in enumerate(all_sizes) if size in sizes],
                  [statistics.median(sizes[size]) for size in all_sizes if size in sizes],
                  width, label=name)
    left.set_xscale("log")
    left.set_xlabel("time to first byte (ms)")
    left.set_ylabel("fraction of fetches")
    right.set_xticks([i + width * (len(drawn) - 1) / 2 for i in range(len(all_sizes))],
                     [label(size) for size in all_sizes])
    right.set_yscale("log")
    right.set_xlabel("object")
    right.set_ylabel("median time to last byte (ms)")
    return finish(fig, [left, right], folder / "web_fetches.png")
