"""BitTorrent on the emulated Internet: a flash crowd of 5 and 20 leechers on internet-50,
as a swarm and client-server (tests/data/bt-small.yaml: the bundled bt-flashcrowd cut to
two sizes), every leecher finishing with every piece verified; and the Python peer with
real software from Debian (tests/data/bt-interop.yaml): opentracker tracking, a
transmission-cli seed with a torrent made by mktorrent serving Python leechers, a Python
seed serving transmission-cli leechers."""
import json
from pathlib import Path

from experiment_run import run_experiment

ROOT = Path(__file__).resolve().parents[2]


def test_a_flash_crowd_finishes_sooner_as_a_swarm(tmp_path):
    run, metrics = run_experiment(ROOT / "tests" / "data" / "bt-small.yaml", tmp_path)
    m = metrics["per_trial"]["1"]
    for name in ("bt5", "cs5", "bt20", "cs20"):
        assert m[f"{name}.verified"] == 1.0  # every leecher holds the published bytes
    assert all(e["passed"] for e in metrics["expectations"]), metrics["expectations"]
    assert m["bt20.seed_upload_share"] < 0.5 < m["cs20.seed_upload_share"]
    stopped = [json.loads(line) for line in (run / "events.jsonl").read_text().splitlines()
               if '"overlay_stopped"' in line]
    assert all(s["killed"] == [] for s in stopped)


def test_the_python_peer_and_transmission_trade_both_ways_through_opentracker(tmp_path):
    run, metrics = run_experiment(ROOT / "tests" / "data" / "bt-interop.yaml", tmp_path)
    m = metrics["per_trial"]["1"]
    for name in ("realseed", "realleech"):  # every leecher, Python or transmission
        assert m[f"{name}.complete_s.count"] == 3 and m[f"{name}.verified"] == 1.0
    for name in ("realseed", "realleech"):
        records = [json.loads(line) for f in (run / "overlays" / "trial-1" / name)
                   .glob("*.jsonl") for line in f.read_text().splitlines()]
        torrents = [r for r in records if r.get("event") == "torrent"]
        assert len(torrents) == 4 and len({r["info_hash"] for r in torrents}) == 1
        clients = {r.get("client", "python") for r in records if r.get("event") == "stopped"}
        assert clients == {"python", "transmission"}
    makers = {r["maker"] for f in (run / "overlays" / "trial-1" / "realseed").glob("*.jsonl")
              for r in map(json.loads, f.read_text().splitlines()) if r.get("event") == "torrent"}
    assert makers == {"mktorrent", "python"}  # one swarm: the two torrents are one
