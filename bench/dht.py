"""What a Chord node costs, and whether 256 of them fit on this machine: N nodes as local
processes (32 members × N/32 instances, overlays/local.py, no underlay), against 16
nodes measured in the same run as the baseline.

Per size, over a `--window` of steady state (after the ring has formed and the fingers
are fixed): CPU seconds per node per minute, memory per node (PSS, the pages each
process has to itself plus its share of the shared ones), the lookups' mean path length
against ½·log2 N and the share answered correctly (analysis.py). Printed: each size's
figures and the ratios of the per-node costs at N over the baseline's.

    .venv/bin/python bench/dht.py [--sizes 16 256] [--window 30]
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Dict

from overlays.dht.analysis import metrics
from overlays.local import LocalDeployment
from testbed.process import process_cpu_seconds


def pss_mb(pid: int) -> float:
    try:
        for line in open(f"/proc/{pid}/smaps_rollup"):
            if line.startswith("Pss:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def measure(n: int, window: float, folder: Path) -> Dict[str, float]:
    hosts = min(n, 32)
    settle = 15 + n * 0.15  # processes starting, joins `join_gap` apart, fingers fixed
    params = {"start_after": settle, "interval": 2.0}
    with LocalDeployment("overlays.dht", params, [f"m{i}" for i in range(hosts)], folder,
                         instances=n // hosts) as dht:
        time.sleep(settle)
        pids = [p.pid for p in dht.procs.values()]
        cpu0 = sum(process_cpu_seconds(p) for p in pids)
        time.sleep(window)
        cpu = sum(process_cpu_seconds(p) for p in pids) - cpu0
        memory = sum(pss_mb(p) for p in pids)
    m = metrics(dht.records(), None)
    return {"nodes": n, "cpu_s_per_node_min": cpu / n * 60 / window,
            "pss_mb_per_node": memory / n, "hops_ratio": m.get("hops_ratio", 0.0),
            "correct": m.get("correct", 0.0)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[16, 256],
                        help="ring sizes; the first is the baseline (multiples of 32 "
                             "above 32)")
    parser.add_argument("--window", type=float, default=30.0)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            rows.append(measure(n, args.window, Path(tmp) / str(n)))
            r = rows[-1]
            print(f"N={n:4d}: {r['cpu_s_per_node_min']:.2f} CPU s per node per minute, "
                  f"{r['pss_mb_per_node']:.1f} MB per node (PSS), hops {r['hops_ratio']:.3f}"
                  f" × ½·log2 N, {100 * r['correct']:.2f}% of lookups correct")
    base = rows[0]
    for r in rows[1:]:
        print(f"N={r['nodes']} over N={base['nodes']}: CPU per node × "
              f"{r['cpu_s_per_node_min'] / base['cpu_s_per_node_min']:.2f}, memory per node × "
              f"{r['pss_mb_per_node'] / base['pss_mb_per_node']:.2f}; all {r['nodes']} nodes: "
              f"{r['cpu_s_per_node_min'] * r['nodes'] / 60:.2f} cores, "
              f"{r['pss_mb_per_node'] * r['nodes']:.0f} MB")


if __name__ == "__main__":
    main()
