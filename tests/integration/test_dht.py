"""Chord on the emulated Internet: 64 nodes, 4 agents per host (`instances`), steady and
under churn (tests/data/dht-small.yaml), judged against the ring of their time."""
from pathlib import Path

from experiment_run import run_experiment

ROOT = Path(__file__).resolve().parents[2]


def test_a_ring_of_64_finds_keys_in_half_log2_n_hops_and_survives_churn(tmp_path):
    run, metrics = run_experiment(ROOT / "tests" / "data" / "dht-small.yaml", tmp_path)
    m = metrics["per_trial"]["1"]
    assert m["churn.nodes"] == 64 and m["churn.hops.count"] > 500
    agents = sorted(p.name for p in (run / "overlays" / "trial-1" / "steady").glob("*.jsonl"))
    assert len(agents) == 64 and "as1.h1@3.jsonl" in agents
    failed = sum(line.count('"failed"') for p in (run / "overlays" / "trial-1" / "churn")
                 .glob("*.jsonl") for line in p.read_text().splitlines())
    assert failed >= 10
    assert (run / "plots" / "dht_hops.png").exists()
