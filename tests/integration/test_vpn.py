"""The VPN on the emulated Internet, as the README runs it: TUN devices in three sites'
namespaces, traffic sealed between them, the tunnel's cost within its expectations."""
import json
import subprocess
from pathlib import Path

from experiment_run import run_experiment

ROOT = Path(__file__).resolve().parents[2]


def test_vpn_overhead_meets_its_expectations(tmp_path):
    run, metrics = run_experiment(ROOT / "experiments" / "vpn-overhead.yaml", tmp_path, timeout=300)
    m = metrics["per_trial"]["1"]
    assert m["vpn.rtt_tunnel_ms.count"] > 100 and m["vpn.tcp_tunnel_mbit.count"] == 2
    stopped = [json.loads(line) for line in (run / "events.jsonl").read_text().splitlines()
               if '"overlay_stopped"' in line]
    assert stopped and stopped[0]["killed"] == []
    left = subprocess.run(["pgrep", "-f", "iperf3 -s -p 7201"], capture_output=True, text=True)
    assert not left.stdout.strip()
