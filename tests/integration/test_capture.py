"""Packet capture and the live view on real networks: `testbed up --capture` writes pcap
files tcpdump reads back with the packets sent, an experiment's `capture` writes one per
link per trial into the run directory, `top` shows the traffic, and nothing is left
running afterwards."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")


def read_pcap(path):
    done = subprocess.run(["tcpdump", "-nr", str(path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout


def no_tcpdump_left():
    left = subprocess.run(["pgrep", "-f", "tcpdump -i tb"], capture_output=True, text=True)
    assert not left.stdout.strip(), left.stdout


def up(tmp_path, script, *options):
    (tmp_path / "cmds").write_text(script)
    done = subprocess.run([sys.executable, "-m", "testbed.cli", "up",
                           str(ROOT / "topologies/line-3as.yaml"), *options, "--script",
                           str(tmp_path / "cmds")], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return " ".join(done.stdout.split())  # the console wraps at 80 columns


@pytest.mark.parametrize("dataplane", ["linux", "openflow"])
def test_up_captures_a_host_link_and_a_router_link(tmp_path, dataplane):
    text = up(tmp_path, "as100.h1 ping -c 3 -i 0.2 as300.h1\n", "--dataplane", dataplane,
              "--capture", "as100.h1", "--capture", "as200.r3,as300.r1",
              "--capture-dir", str(tmp_path / "cap"))
    assert "capturing 2 links" in text
    assert sorted(p.name for p in (tmp_path / "cap").iterdir()) == \
        ["as100.h1_as100.r1.pcap", "as200.r3_as300.r1.pcap"]
    for name in ("as100.h1_as100.r1.pcap", "as200.r3_as300.r1.pcap"):
        packets = read_pcap(tmp_path / "cap" / name)  # the last ones too: immediate mode
        assert packets.count("ICMP echo request") == 3, packets
        assert packets.count("ICMP echo reply") == 3, packets
    no_tcpdump_left()


def test_top_shows_the_traffic_of_each_link(tmp_path):
    text = up(tmp_path, "as100.h1 ping -c 40 -i 0.1 as300.h1 >/dev/null &\ntop 2\n")
    assert "busiest links of 10" in text and "AS pairs without a route 0 of 6" in text, text
    assert "link emulator" in text and "% of a core" in text, text
    row = text.split("│ as100.h1 - as100.r1 │")[1].split("│")
    assert float(row[2]) >= 15, row  # packets/s: 10 echo requests and 10 replies a second


def test_bad_capture_targets_get_one_line_and_exit_2(tmp_path):
    done = subprocess.run([sys.executable, "-m", "testbed.cli", "up",
                           str(ROOT / "topologies/line-3as.yaml"), "--capture", "as1.h1",
                           "--pingall"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "--capture as1.h1: no node 'as1.h1' in line-3as" in done.stderr
    assert "Traceback" not in done.stderr


def test_an_experiment_captures_every_link_of_each_trial(tmp_path):
    exp = tmp_path / "cap.yaml"
    exp.write_text(f"""
name: cap
topology: {ROOT}/topologies/line-3as.yaml
duration: 3s
trials: 2
workloads:
  - {{name: probes, from: as100.h1, to: as300.h1, rate: 10, kind: udp}}
capture: {{at: all, max_mb: 1, files: 2}}
""")
    done = subprocess.run([sys.executable, "-m", "testbed.cli", "run", str(exp), "--out",
                           str(tmp_path / "results")], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    run = next((tmp_path / "results" / "cap").iterdir())
    from testbed.model import load_topology
    links = len(load_topology(ROOT / "topologies/line-3as.yaml").links)
    for k in (1, 2):
        pcaps = sorted((run / "captures" / f"trial-{k}").glob("*.pcap"))
        assert len(pcaps) == links, pcaps  # one file each: 1 MB was not reached
        first = read_pcap(run / "captures" / f"trial-{k}" / "as100.h1_as100.r1.pcap")
        assert first.count("UDP") >= 25, first  # ~30 probes out (their answers: ICMP)
    assert (run / "plots" / "topology.png").is_file()
    no_tcpdump_left()
