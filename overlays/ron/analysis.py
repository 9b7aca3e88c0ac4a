"""RON's own plot: the price of all-pairs probing.

`probe_overhead.png`: probe packets sent per member per second against the number of
members N, over the run's RON deployments of different sizes, with the analytic
2(N-1)/probe_interval (each member probes every peer and answers every peer's probe once
per interval: N(N-1) probes and as many replies in all, the N^2 that limits RON's size).
"""
from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Dict, List

from ..plotting import figure, finish
from ..spec import Deployed


def overhead_plot(deployments: List[Deployed], folder: Path) -> List[Path]:
    per_n: Dict[int, List[float]] = defaultdict(list)
    intervals = set()
    for dep in deployments:
        for records in dep.records.values():
            for r in records:
                if r.get("metric") == "probe_pps" and r.get("members"):
                    per_n[int(r["members"])].append(float(r["value"]))
                    intervals.add(dep.params.probe_interval)
    if not per_n or len(intervals) != 1:
        return []  # the analytic curve needs one probe interval
    interval = intervals.pop()
    ns = sorted(per_n)
    measured = [sum(per_n[n]) / len(per_n[n]) for n in ns]
    fig, ax = figure()
    grid = list(range(2, max(ns) + 1))
    ax.plot(grid, [2 * (n - 1) / interval for n in grid], "-", color="gray",
            label=f"analytic 2(N-1)/{interval:g} s")
    ax.plot(ns, measured, "o", label="measured (mean per member)")
    ax.set_xlabel("members N")
    ax.set_ylabel("probe packets sent per member per s")
    return finish(fig, [ax], folder / "probe_overhead.png")
