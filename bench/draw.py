"""`testbed draw` on the biggest bundled topology, internet-200 (200 ASes, 472 routers):
the issue's target is <= 10 s per drawing. Times each level and format, and, measured in
the same run as the baseline, reading and validating the topology (which every drawing
pays first): the ratio says what the drawing itself adds.

    .venv/bin/python bench/draw.py [--topology topologies/internet-200.yaml]
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from testbed.model import load_topology
from testbed.model.drawing import draw, layout, overlapping_boxes


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--topology", default="topologies/internet-200.yaml")
    args = parser.parse_args()
    started = time.perf_counter()
    net = load_topology(args.topology)
    load = time.perf_counter() - started
    overlaps = len(overlapping_boxes(layout(net, "as")))
    print(f"{net.name}: {len(net.ases)} ASes, {len(net.routers)} routers; "
          f"loading {load:.2f} s; overlapping AS boxes: {overlaps}")
    with tempfile.TemporaryDirectory() as tmp:
        for level in ("as", "router"):
            for suffix in (".svg", ".png"):
                started = time.perf_counter()
                draw(net, Path(tmp) / f"{level}{suffix}", level=level)
                took = load + time.perf_counter() - started
                print(f"{level:>6} {suffix}: {took:5.2f} s with loading "
                      f"(x{took / load:.1f} the loading; target 10 s: ratio {took / 10:.2f})")


if __name__ == "__main__":
    main()
