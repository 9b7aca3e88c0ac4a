"""What an experiment costs beyond its own duration, and how accurate its timeline is.

Runs a 60 s experiment on tiered-8as (echo overlay on four hosts, two ping workloads, a
link cut and repair) through `testbed run`, and prints the wall time minus the
experiment's duration (target <= 15 s: bring-up, teardown, metrics, plots, report) and
the timeline's lateness, actual - planned, at p50/p99/max (target p99 <= 50 ms).

    .venv/bin/python bench/experiment_overhead.py [--duration 60]
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXPERIMENT = """
name: overhead
topology: {root}/topologies/tiered-8as.yaml
duration: {duration}
overlays:
  - {{name: echo, module: overlays.echo, hosts: [as100.h1, as200.h1, as300.h1, as10.h1],
     params: {{interval: 0.5}}}}
workloads:
  - {{name: a, from: as100.h1, to: as300.h1, rate: 20}}
  - {{name: b, pairs: {{random: 5}}, rate: 5}}
timeline:
  - {{at: {cut}, action: link_down, link: random-inter-as}}
  - {{at: {repair}, action: link_up, link: random-inter-as}}
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=60.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "overhead.yaml"
        d = args.duration
        path.write_text(EXPERIMENT.format(root=ROOT, duration=d, cut=d / 3, repair=2 * d / 3))
        started = time.monotonic()
        done = subprocess.run([sys.executable, "-m", "testbed.cli", "run", str(path),
                               "--out", str(Path(tmp) / "results")], capture_output=True, text=True)
        wall = time.monotonic() - started
        if done.returncode not in (0, 1):
            print(done.stdout + done.stderr)
            return 1
        run = next((Path(tmp) / "results" / "overhead").glob("*"))
        timeline = json.loads((run / "metrics.json").read_text())["timeline"]
    print(f"experiment duration {d:.0f} s, wall time {wall:.1f} s: overhead {wall - d:.1f} s "
          f"(target <= 15 s), {wall / d:.3f}x the duration")
    print(f"timeline: {timeline['actions']} actions, late p50 {timeline['late_ms_p50']:.2f} ms, "
          f"p99 {timeline['late_ms_p99']:.2f} ms, max {timeline['late_ms_max']:.2f} ms "
          f"(target p99 <= 50 ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
