"""File search on the emulated Internet, as the README runs it: Napster's index and
Gnutella's flooding among 63 peers in internet-50, with their classic scaling."""
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_p2p_search_meets_its_expectations(tmp_path):
    done = subprocess.run([sys.executable, "-m", "testbed.cli", "run",
                           str(ROOT / "experiments" / "p2p-search.yaml"), "--out",
                           str(tmp_path)], capture_output=True, text=True, timeout=400)
    assert done.returncode == 0, done.stdout + done.stderr  # every expectation passed
    run = next((tmp_path / "p2p-search").iterdir())
    m = json.loads((run / "metrics.json").read_text())["per_trial"]["1"]
    # a flood of TTL 7 covers the network: each peer sends each query on about once
    assert m["gnutella.messages_per_query.ttl7"] > 10 * m["gnutella.messages_per_query.ttl1"]
    assert m["napster.found.count"] == m["gnutella.found.count"] == 63 * 7
    stopped = [json.loads(line) for line in (run / "events.jsonl").read_text().splitlines()
               if '"overlay_stopped"' in line]
    assert all(s["killed"] == [] for s in stopped)
