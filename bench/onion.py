"""Python onion routing against the direct path, in the same run: what the relays' Python
costs, without the emulated Internet's delays (whose link emulator would be the limit).

The onion agents (authority, three relays, one client) and the web agent's server run as
local processes on loopback addresses (overlays/local.py). Measured, `--rounds` times
each, alternating:

- goodput of one `--mib` MiB download, direct and through one 3-hop circuit (target:
  >= 20 Mbit/s through a circuit on an unshaped path), and their ratio;
- circuit build time on loopback (what the crypto and the telescoping cost without
  delays);
- the relays' CPU seconds per MiB carried.

    .venv/bin/python bench/onion.py [--mib 20] [--rounds 3]
"""
from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path
from typing import Tuple

from overlays.local import LocalDeployment
from overlays.web.__main__ import socks5_connect
from testbed.process import process_cpu_seconds

MEMBERS = ["a", "r1", "r2", "r3", "c", "w"]
ONION = {"authority": "a", "relays": [{"host": "r1"}, {"host": "r2", "guard": False},
                                      {"host": "r3", "exit": True, "guard": False}],
         "clients": ["c"], "prebuild": "w:8080"}
WEB = {"servers": ["w"], "clients": []}


async def download(ip: str, size: int, socks: bool) -> Tuple[float, int]:
    """Seconds to fetch `size` bytes from the web server, and the bytes received."""
    began = time.monotonic()
    if socks:
        reader, writer = await socks5_connect(9050, ip, 8080)
    else:
        reader, writer = await asyncio.open_connection(ip, 8080)
    writer.write(f"GET /{size} HTTP/1.0\r\n\r\n".encode())
    got = 0
    while data := await reader.read(1 << 16):
        got += len(data)
    writer.close()
    return time.monotonic() - began, got


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mib", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    size = args.mib << 20
    with tempfile.TemporaryDirectory() as tmp:
        onion = LocalDeployment("overlays.onion", ONION, MEMBERS, Path(tmp) / "onion").start()
        web = LocalDeployment("overlays.web", WEB, MEMBERS, Path(tmp) / "web").start()
        try:
            ip = web.ip("w")
            time.sleep(3)
            relays = [onion.procs[h].pid for h in ("r1", "r2", "r3")]
            rates = {"direct": [], "onion": []}
            cpu = 0.0
            for _ in range(args.rounds):
                for way in ("direct", "onion"):
                    before = sum(process_cpu_seconds(p) for p in relays)
                    seconds, got = asyncio.run(download(ip, size, way == "onion"))
                    assert got >= size, f"{way}: {got} of {size} bytes"
                    if way == "onion":
                        cpu += sum(process_cpu_seconds(p) for p in relays) - before
                    rates[way].append(size * 8 / seconds / 1e6)
        finally:
            web.stop()
            onion.stop()
        builds = [r["value"] for r in onion.records() if r.get("metric") == "circuit_build_ms"]
    d, o = statistics.median(rates["direct"]), statistics.median(rates["onion"])
    print(f"goodput, {args.mib} MiB, median of {args.rounds}: direct {d:.0f} Mbit/s, "
          f"3-hop circuit {o:.0f} Mbit/s (target >= 20); ratio onion/direct {o / d:.3f}")
    print(f"circuit build on loopback: {statistics.median(builds):.1f} ms")
    print(f"relays' CPU: {cpu / (args.rounds * args.mib):.3f} s per MiB carried "
          f"(three relays together)")


if __name__ == "__main__":
    main()
