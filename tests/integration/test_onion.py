"""One Python onion circuit end to end on the emulated Internet, on both data planes:
agents deployed as the experiment runner deploys them, curl fetching through the
client's SOCKS port, a packet capture at the middle relay showing only whole 512-byte
cells and neither the client's address nor the destination in them, and nothing left
behind when the agents stop."""
import json
import os
import subprocess
import time
from pathlib import Path

import pytest
from scapy.all import IP, TCP, rdpcap

from testbed.experiment.agents import Deployment
from testbed.experiment.schema import Overlay
from testbed.model import load_topology
from testbed.underlay.emulation import Underlay

from experiment_run import run_experiment

# one guard, one middle, one exit: the path is known in advance
PARAMS = {"authority": "as30.h1", "hops": 3, "clients": ["as100.h1"],
          "relays": [{"host": "as1.h1"}, {"host": "as2.h1", "guard": False},
                     {"host": "as20.h1", "exit": True, "guard": False}]}
SIZE = 1 << 20
ROOT = Path(__file__).resolve().parents[2]


def wait_for(path: Path, metric: str, timeout: float = 30.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists():
            for line in path.read_text().splitlines():
                if metric in line:
                    return json.loads(line)
        time.sleep(0.2)
    raise AssertionError(f"no {metric} in {path}")


def settle(path: Path, quiet: float = 1.0, timeout: float = 30.0) -> None:
    """Wait until the capture file stops growing: under load tcpdump lags behind the
    traffic, and what it has not read when it is stopped is lost."""
    last, since = -1, time.monotonic()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        size = path.stat().st_size if path.exists() else 0
        if size != last:
            last, since = size, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return
        time.sleep(0.2)


def streams(pcap: Path, port: int) -> dict:
    """TCP payload bytes per direction of every connection to or from `port`, as the
    receiving socket reads them. A retransmission may cut the bytes into other segments
    than the first send did (one segment covering two lost ones), so segments are laid
    out by their offset from the first one captured (signed, modulo 2**32: sequence
    numbers wrap, and a resent first segment comes before it) and only bytes past the end
    so far are kept; a hole means the capture missed bytes, which the caller must hear
    about rather than get a short stream."""
    segments: dict = {}
    for pkt in rdpcap(str(pcap)):
        if IP in pkt and TCP in pkt and port in (pkt[TCP].sport, pkt[TCP].dport):
            data = bytes(pkt[TCP].payload)
            if data:
                key = (pkt[IP].src, pkt[TCP].sport, pkt[IP].dst, pkt[TCP].dport)
                segments.setdefault(key, []).append((pkt[TCP].seq, data))
    joined = {}
    for key, sent in segments.items():
        first = sent[0][0]
        laid = sorted(((seq - first + (1 << 31)) % (1 << 32) - (1 << 31), data)
                      for seq, data in sent)
        start, stream = laid[0][0], bytearray()
        for offset, data in laid:
            offset -= start
            assert offset <= len(stream), (key, "capture missed bytes", offset, len(stream))
            stream += data[len(stream) - offset:]
        joined[key] = bytes(stream)
    return joined


def test_a_python_circuit_carries_curl_and_a_middle_sees_only_cells(tmp_path, topo_path, plane):
    net = load_topology(topo_path("tiered-8as"))
    web = tmp_path / "www"
    web.mkdir()
    (web / "object").write_bytes(os.urandom(SIZE))
    client_ip, server_ip = net.hosts["as100.h1"].ip, net.hosts["as300.h1"].ip
    with Underlay(net, dataplane=plane) as u:
        env = {**os.environ}
        logs = open(tmp_path / "side.log", "ab")
        server = u.spawn("as300.h1", ["python3", "-m", "http.server", "8080", "--bind",
                                      server_ip, "-d", str(web)], stdout=logs, stderr=logs,
                         env=env, cwd=str(tmp_path))
        pcap = tmp_path / "middle.pcap"
        capture = u.spawn("as2.h1", ["tcpdump", "-i", "any", "-w", str(pcap), "-U",
                                     "tcp port 9001"], stdout=logs, stderr=logs, env=env,
                          cwd=str(tmp_path))
        overlay = Overlay(name="onion", module="overlays.onion",
                          hosts=["as30.h1", "as1.h1", "as2.h1", "as20.h1", "as100.h1",
                                 "as300.h1"], params=PARAMS)
        agents = Deployment(overlay, net, tmp_path / "agents", "1", time.time())
        try:
            for _ in range(50):  # the server is up
                if "200" in u.run("as100.h1", f"curl -s -o /dev/null -w '%{{http_code}}' "
                                               f"http://{server_ip}:8080/object"):
                    break
                time.sleep(0.2)
            agents.start(u.spawn)
            wait_for(tmp_path / "agents" / "as100.h1.jsonl", '"guard"')
            time.sleep(0.5)
            out = u.run("as100.h1", "curl -sS -m 30 -o /dev/null -w '%{http_code} "
                        "%{size_download}' --socks5-hostname 127.0.0.1:9050 "
                        "http://as300.h1:8080/object")
            assert out.strip().endswith(f"200 {SIZE}"), out
            ttfb = wait_for(tmp_path / "agents" / "as100.h1.jsonl", "stream_ttfb_ms")
            assert ttfb["via_ips"] == [net.hosts[h].ip for h in ("as1.h1", "as2.h1", "as20.h1")]
            assert ttfb["dst_ip"] == server_ip
        finally:
            agents.signal()
            stopped = agents.reap()
            settle(pcap)
            capture.terminate()
            capture.wait()
            server.terminate()
            server.wait()
        assert stopped["killed"] == [] and stopped["took_s"] <= 2.0
    seen = streams(pcap, 9001)
    assert len(seen) == 4  # guard <-> middle and middle <-> exit, each way
    total = 0
    for key, data in seen.items():
        assert len(data) % 512 == 0, key  # whole cells, nothing else
        commands = {data[i + 4] for i in range(0, len(data), 512)}
        assert commands <= {1, 2, 3, 4}, (key, commands)
        for secret in (client_ip.encode(), server_ip.encode(), b"as300.h1", b"GET /object",
                       bytes(map(int, client_ip.split(".")))):
            assert secret not in data
        total += len(data)
    assert total > 2 * SIZE  # the object crossed both of the middle's links
    left = subprocess.run(["pgrep", "-f", "overlays.onion"], capture_output=True, text=True)
    assert not left.stdout.strip()


@pytest.mark.parametrize("name", ["onion-latency", "onion-as-adversary"])
def test_the_bundled_onion_experiments_meet_their_expectations(tmp_path, name):
    """As the README runs them: the circuit's time to first byte agrees with the model of
    the configured delays, real Tor bootstraps and carries the same fetches, and no tor
    outlives the run; as-aware selection exposes fewer circuits than vanilla."""
    run, metrics = run_experiment(ROOT / "experiments" / f"{name}.yaml", tmp_path)
    m = metrics["per_trial"]["1"]
    if name == "onion-latency":
        for way in ("via_onion", "via_tor"):
            assert m[f"{way}.ttlb_median_ms.5mib"] > m["direct.ttlb_median_ms.5mib"]
        assert m["onion.pairs"] == 1  # the circuit is a path report the harness compares
        assert m["tor.bootstrapped.count"] == 12  # 3 authorities, 8 relays, 1 client
        left = subprocess.run(["pgrep", "-x", "tor"], capture_output=True, text=True)
        assert not left.stdout.strip()
    else:
        assert m["vanilla.as_shared.count"] == m["as_aware.as_shared.count"] == 3000
