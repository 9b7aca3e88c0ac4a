"""The Python BitTorrent peer's transfer rate on an unshaped path, against the same bytes
over one plain TCP connection between the same addresses in the same run (the baseline:
what the machine's loopback and Python's sockets carry without the protocol).

A tracker, one seed and one leecher of `overlays.bittorrent` run as local processes on
loopback addresses (overlays/local.py) with no upload cap; the leecher's `complete_s`
(its start to its last piece verified, announce and handshakes included) gives the rate.
Target: >= 50 Mbit/s. `--rounds` alternate the two.

    .venv/bin/python bench/bittorrent.py [--mib 64] [--rounds 3]
"""
from __future__ import annotations

import argparse
import socket
import statistics
import tempfile
import threading
import time
from pathlib import Path

from overlays.local import LocalDeployment


def plain_tcp(size: int) -> float:
    """Seconds to send `size` bytes over one TCP connection on loopback, 64 KiB writes."""
    server = socket.create_server(("127.1.0.2", 0))
    port = server.getsockname()[1]

    def sink() -> None:
        conn, _ = server.accept()
        while conn.recv(1 << 20):
            pass
        conn.close()
    thread = threading.Thread(target=sink)
    thread.start()
    block = bytes(65536)
    began = time.monotonic()
    with socket.create_connection(("127.1.0.2", port), source_address=("127.3.0.2", 0)) as c:
        for _ in range(size // len(block)):
            c.sendall(block)
    thread.join()
    server.close()
    return time.monotonic() - began


def bittorrent(size_mib: int, folder: Path, seed: int) -> float:
    params = {"tracker": "t", "seeds": ["s"], "file_mib": size_mib, "upload_mbit": 0,
              "announce_interval": 1, "seed": seed}
    with LocalDeployment("overlays.bittorrent", params, ["t", "s", "l"], folder) as d:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            done = [r for r in d.records() if r.get("metric") == "complete_s"]
            if done:
                break
            time.sleep(0.2)
    verified = [r["value"] for r in d.records() if r.get("metric") == "verified"]
    assert done and verified == [1], "the leecher did not complete with every piece verified"
    return done[0]["value"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mib", type=int, default=64)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    bits = args.mib * (1 << 20) * 8
    tcp, bt = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(args.rounds):
            tcp.append(bits / plain_tcp(args.mib << 20) / 1e6)
            bt.append(bits / bittorrent(args.mib, Path(tmp) / str(k), k + 1) / 1e6)
    t, b = statistics.median(tcp), statistics.median(bt)
    print(f"{args.mib} MiB, median of {args.rounds}: plain TCP {t:.0f} Mbit/s, Python "
          f"BitTorrent {b:.0f} Mbit/s (target >= 50; rounds {', '.join(f'{x:.0f}' for x in bt)}"
          f"); ratio BitTorrent/TCP {b / t:.3f}")


if __name__ == "__main__":
    main()
