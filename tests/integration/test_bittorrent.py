"""BitTorrent on the emulated Internet: a flash crowd of 5 and 20 leechers on internet-50,
as a swarm and client-server (tests/data/bt-small.yaml: the bundled bt-flashcrowd cut to
two sizes), every leecher finishing with every piece verified."""
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_flash_crowd_finishes_sooner_as_a_swarm(tmp_path):
    done = subprocess.run([sys.executable, "-m", "testbed.cli", "run",
                           str(ROOT / "tests" / "data" / "bt-small.yaml"), "--out",
                           str(tmp_path)], capture_output=True, text=True, timeout=400)
    assert done.returncode == 0, done.stdout + done.stderr  # every expectation passed
    run = next((tmp_path / "bt-small").iterdir())
    m = json.loads((run / "metrics.json").read_text())["per_trial"]["1"]
    for name in ("bt5", "cs5", "bt20", "cs20"):
        assert m[f"{name}.verified"] == 1.0  # no leecher completed with a bad piece
    assert m["bt20.seed_upload_share"] < 0.5 < m["cs20.seed_upload_share"]
    stopped = [json.loads(line) for line in (run / "events.jsonl").read_text().splitlines()
               if '"overlay_stopped"' in line]
    assert all(s["killed"] == [] for s in stopped)
