"""What capturing every link costs: ron-outage (tiered-8as, 5 RON members, two 50 packet/s
flows, a link failure) run without and with `capture: {at: all}` (one tcpdump per link,
26 of them), one trial each, in the same session. The issue's target: the measured
latencies within 10% of the run without capture, and the expectations still passing.

    sudo .venv/bin/python bench/capture.py [--trials 1]
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
METRICS = ("app.direct.latency_median_ms", "app.ron.latency_median_ms",
           "app.direct.latency_p95_ms", "app.ron.latency_p95_ms")


def run(folder: Path, capture: bool, trials: int) -> dict:
    exp = yaml.safe_load((REPO / "experiments/ron-outage.yaml").read_text())
    exp["topology"]["file"] = str(REPO / "topologies/tiered-8as.yaml")
    exp["name"] = "capture-on" if capture else "capture-off"
    if capture:
        exp["capture"] = {"at": "all", "max_mb": 50, "files": 1}
    path = folder / f"{exp['name']}.yaml"
    path.write_text(yaml.safe_dump(exp))
    subprocess.run([str(Path(sys.executable).with_name("testbed")), "run", str(path),
                    "--trials", str(trials), "--out", str(folder)], check=False,
                   stdout=subprocess.DEVNULL)
    run_dir = next((folder / exp["name"]).iterdir())
    metrics = json.loads((run_dir / "metrics.json").read_text())
    pcaps = list(run_dir.glob("captures/trial-1/*.pcap"))
    return {"across": metrics["across_trials"], "expect": metrics["expectations"],
            "pcaps": len(pcaps), "bytes": sum(p.stat().st_size for p in pcaps)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir="/var/tmp") as tmp:
        off = run(Path(tmp), False, args.trials)
        on = run(Path(tmp), True, args.trials)
    print(f"with capture: {on['pcaps']} pcap files, {on['bytes'] / 1e6:.1f} MB")
    for name in METRICS:
        a = off["across"].get(name, {}).get("mean")
        b = on["across"].get(name, {}).get("mean")
        if a and b:
            print(f"{name}: {a:.2f} ms without, {b:.2f} ms with capture: ratio {b / a:.3f} "
                  f"(target <= 1.10)")
    for label, r in (("without", off), ("with", on)):
        passed = sum(bool(e.get("passed")) for e in r["expect"])
        print(f"expectations {label} capture: {passed} of {len(r['expect'])} pass")


if __name__ == "__main__":
    main()
