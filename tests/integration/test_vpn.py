"""The VPN on the emulated Internet, as the README runs it: TUN devices in three sites'
namespaces, traffic sealed between them, the tunnel's cost within its expectations."""
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_vpn_overhead_meets_its_expectations(tmp_path):
    done = subprocess.run([sys.executable, "-m", "testbed.cli", "run",
                           str(ROOT / "experiments" / "vpn-overhead.yaml"), "--out",
                           str(tmp_path)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr  # every expectation passed
    run = next((tmp_path / "vpn-overhead").iterdir())
    m = json.loads((run / "metrics.json").read_text())["per_trial"]["1"]
    assert m["vpn.rtt_tunnel_ms.count"] > 100 and m["vpn.tcp_tunnel_mbit.count"] == 2
    stopped = [json.loads(line) for line in (run / "events.jsonl").read_text().splitlines()
               if '"overlay_stopped"' in line]
    assert stopped and stopped[0]["killed"] == []
    left = subprocess.run(["pgrep", "-f", "iperf3 -s -p 7201"], capture_output=True, text=True)
    assert not left.stdout.strip()
