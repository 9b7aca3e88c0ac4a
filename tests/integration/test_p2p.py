"""File search on the emulated Internet, as the README runs it: Napster's index and
Gnutella's flooding among 63 peers in internet-50, with their classic scaling."""
import json
from pathlib import Path

from experiment_run import run_experiment

ROOT = Path(__file__).resolve().parents[2]


def test_p2p_search_meets_its_expectations(tmp_path):
    run, metrics = run_experiment(ROOT / "experiments" / "p2p-search.yaml", tmp_path)
    m = metrics["per_trial"]["1"]
    # a flood of TTL 7 covers the network: each peer sends each query on about once
    assert m["gnutella.messages_per_query.ttl7"] > 10 * m["gnutella.messages_per_query.ttl1"]
    assert m["napster.found.count"] == m["gnutella.found.count"] == 63 * 7
    stopped = [json.loads(line) for line in (run / "events.jsonl").read_text().splitlines()
               if '"overlay_stopped"' in line]
    assert all(s["killed"] == [] for s in stopped)
