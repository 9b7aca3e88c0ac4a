"""A small CDN end to end on the emulated Internet, through the real CLI, on both data
planes (the VM tier runs it on netem links too): real DNS queries and HTTP between host
namespaces, the hit-ratio oracle agreeing, nearest edges answering, the origin offloaded,
and nothing left behind."""
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_cdn(tmp_path, *options):
    path = ROOT / "tests" / "data" / "cdn-small.yaml"
    proc = subprocess.run([sys.executable, "-m", "testbed.cli", "run", str(path), "--out",
                           str(tmp_path / "results"), *options], capture_output=True,
                          text=True, timeout=240)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    run = next((tmp_path / "results" / "cdn-small").glob("*"))
    return run, json.loads((run / "metrics.json").read_text())


def check_run(run, metrics):
    m = {k: v["mean"] for k, v in metrics["across_trials"].items()}
    assert all(e["passed"] for e in metrics["expectations"]), metrics["expectations"]
    assert m["cdn.requests"] > 300 and m["cdn.hit_ratio"] > 0.2
    assert 0 < m["cdn.offload"] < 1
    # the clients in as100 and as200 are served by the edge in their own AS
    agents = run / "overlays" / "trial-1" / "cdn"
    served_by, ttfb = {}, {"HIT": [], "MISS": []}
    for line in (agents / "as100.h2.jsonl").read_text().splitlines():
        r = json.loads(line)
        if r.get("status") == 200:
            served_by[r["edge"]] = served_by.get(r["edge"], 0) + 1
            ttfb.get(r["cache"], []).append(r["ttfb_ms"])
    edge = json.loads((agents / "as100.h1.config.json").read_text())["host"]["ip"]
    assert max(served_by, key=served_by.get) == edge
    # a hit comes from the edge in the client's own AS; a miss goes on to the far origin
    assert statistics.median(ttfb["HIT"]) < 15 < statistics.median(ttfb["MISS"])
    assert (run / "plots" / "cdn_hit_ratio.png").exists()
    assert (run / "plots" / "cdn_cdn.png").exists()
    left = subprocess.run(["pgrep", "-f", "overlays.cdn"], capture_output=True, text=True)
    assert not left.stdout.strip()
    assert not [n for n in os.listdir("/sys/class/net") if n.startswith("tb")]


def test_a_small_cdn_end_to_end(tmp_path, plane):
    check_run(*run_cdn(tmp_path, "--dataplane", plane))
