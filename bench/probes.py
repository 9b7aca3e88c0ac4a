"""Probe engine throughput against scapy's naive send(), measured in the same run.

On line-3as, from as100.h1 to as100.h2:
- baseline: scapy `send(IP()/ICMP(), verbose=0)` in a loop, in the host's namespace
  (what a first prober would write; ~280/s on these machines);
- ours, unpaced: probes/s one prober sends (replies matched as they come);
- ours, paced at 1,000/s for 5 s: achieved rate and share answered (target >= 1,000/s);
and, with --matrix, the all-pairs RTT matrix of internet-50 (target <= 60 s).

    .venv/bin/python bench/probes.py [--matrix]
"""
from __future__ import annotations

import argparse
import sys
import time

from testbed.measure.matrix import rtt_matrix
from testbed.model import load_topology
from testbed.underlay.emulation import Underlay

SCAPY_LOOP = ("import time; from scapy.all import IP, ICMP, send; p = IP(dst='{dst}')/ICMP(); "
              "send(p, verbose=0); t = time.monotonic(); "
              "[send(p, verbose=0) for _ in range({n})]; "
              "print({n} / (time.monotonic() - t))")


def sent_rate(msgs: list) -> float:
    sent = sorted(m["sent_ns"] for m in msgs if m["type"] == "probe")
    return (len(sent) - 1) / ((sent[-1] - sent[0]) / 1e9)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--matrix", action="store_true", help="also time internet-50's matrix")
    args = parser.parse_args()
    with Underlay(load_topology("topologies/line-3as.yaml")) as u:
        dst = u.net.hosts["as100.h2"].ip
        out = u.run("as100.h1", f"{sys.executable} -c \"{SCAPY_LOOP.format(dst=dst, n=500)}\"")
        baseline = float(out.strip().splitlines()[-1])
        prober = u.prober("as100.h1")
        flood = list(prober.start("ping", dst=[dst], count=5000, rate=None, timeout=2))
        paced = list(prober.start("ping", dst=[dst], count=5000, rate=1000, timeout=2))
        def answered(msgs: list) -> float:
            return sum(1 for m in msgs if m.get("rtt_ms") is not None) / 5000
        print(f"scapy send() loop:       {baseline:8.0f} probes/s (baseline)")
        print(f"prober, unpaced:         {sent_rate(flood):8.0f} probes/s  "
              f"{sent_rate(flood) / baseline:5.1f}x baseline, {100 * answered(flood):.1f}% answered")
        print(f"prober, paced at 1000/s: {sent_rate(paced):8.0f} probes/s  "
              f"{sent_rate(paced) / baseline:5.1f}x baseline, {100 * answered(paced):.1f}% answered")
    if args.matrix:
        net = load_topology("topologies/internet-50.yaml")
        with Underlay(net) as u:
            started = time.monotonic()
            matrix = rtt_matrix(u)
            took = time.monotonic() - started
        ok = sum(1 for r in matrix.values() if r.received)
        print(f"internet-50 matrix: {len(matrix)} pairs, {ok} answered, {took:.1f} s (target <= 60 s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
