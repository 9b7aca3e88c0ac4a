"""The two data planes side by side on big topologies: what the harness adds to the RTT
the YAML configures, and what bring-up and teardown cost.

For each topology and each plane (openflow: OVS under the Ryu controller, userspace
datapath here; linux: kernel-forwarding routers), in one run:
- bring-up until every route is installed (nodes/s), teardown (s), memory used (GB);
- on 20 sampled host pairs (`fidelity.sample_pairs`): the harness's own forwarding time
  per router crossing (the path with its delays set to zero), the error of the median RTT
  against the configured RTT, the RTT std (no jitter configured), quiet and with 1,000
  probes/s of background traffic;
- TCP (iperf3) across the sampled path closest to 10 link crossings, no rate limit.
Prints each figure for both planes and the ratio openflow / linux.

    .venv/bin/python bench/dataplane.py [--topology internet-50] [--pairs 20] [--json F]
"""
from __future__ import annotations

import argparse
import json
import statistics
import time
from typing import Any, Dict, List

from testbed.measure import fidelity
from testbed.model import load_topology
from testbed.underlay.emulation import Underlay

PLANES = ("openflow", "linux")


def mem_used_gb() -> float:
    info = {l.split(":")[0]: int(l.split()[1]) for l in open("/proc/meminfo")}
    return (info["MemTotal"] - info["MemAvailable"]) / 1e6


def background(u: Underlay, rate: float, seconds: float) -> List[Any]:
    """Probe streams from 10 hosts to 10 others, `rate` probes/s in all."""
    hosts = sorted(u.net.hosts)
    step = max(1, len(hosts) // 10)
    srcs, dsts = hosts[::step][:10], list(reversed(hosts))[::step][:10]
    per = rate / len(srcs)
    return [u.prober(s).start("ping", dst=[u.net.hosts[d].ip], kind="udp", rate=per,
                              count=int(per * seconds), timeout=1.0)
            for s, d in zip(srcs, dsts) if s != d]


def summary(verdict: fidelity.Verdict) -> Dict[str, Any]:
    samples = [s for s in verdict.samples if s.median_rtt_ms is not None]
    routers = sum(s.routers for s in samples)
    return {"pairs": len(samples), "ok_pairs": sum(1 for s in samples if not s.problems),
            "rtt_ok_pairs": sum(1 for s in samples
                                if abs(s.error_ms) <= max(0.5, 0.03 * s.configured_rtt_ms)),
            "std_ok_pairs": sum(1 for s in samples if (s.rtt_std_ms or 0) <= 0.3),
            "forwarding_per_router_ms": verdict.forwarding_per_router_ms,
            "error_median_ms": round(statistics.median(abs(s.error_ms) for s in samples), 3),
            "error_max_ms": max(abs(s.error_ms) for s in samples),
            "error_per_router_ms": round(sum(s.error_ms for s in samples) / routers, 4),
            "rtt_std_median_ms": round(statistics.median(s.rtt_std_ms or 0 for s in samples), 3),
            "cpu_idle": verdict.cpu_idle, "verdict": "ok" if verdict.ok else "degraded"}


def measure(topology: str, plane: str, n_pairs: int) -> Dict[str, Any]:
    net = load_topology(f"topologies/{topology}.yaml")
    mem0 = mem_used_gb()
    u = Underlay(net, dataplane=plane)
    started = time.monotonic()
    u.start()
    up = time.monotonic() - started
    out: Dict[str, Any] = {"up_s": round(up, 2),
                           "nodes_per_s": round((len(net.routers) + len(net.hosts)) / up, 1),
                           "mem_gb": round(mem_used_gb() - mem0, 2)}
    try:
        pairs = fidelity.sample_pairs(net, n_pairs)
        out["quiet"] = summary(fidelity.check(u, pairs=pairs, count=60, throughput=False))
        streams = background(u, 1000.0, 120.0)
        try:
            out["loaded"] = summary(fidelity.check(u, pairs=pairs, count=60, throughput=False))
        finally:
            for s in streams:
                s.cancel()
        def links(pair: Any) -> int:
            return len(fidelity.expected_rtt(net, u.routing_state().tables(), u.link_props,
                                             *pair)[0].links)
        # the sampled path closest to 10 crossings (at least 10 where there is one)
        tcp_pair = min(pairs, key=lambda p: (links(p) < 10, abs(links(p) - 10)))
        out["tcp_crossings"] = links(tcp_pair)
        tput = fidelity.check(u, pairs=[tcp_pair], count=5, throughput=True).throughput or {}
        out["tcp_mbit"] = tput.get("mbit")
        out["tcp_pair"] = tput.get("pair")
    finally:
        u.stop()
    out["down_s"] = round(u.timings.get("teardown", 0), 2)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--topology", action="append", help="default: internet-50, internet-200")
    parser.add_argument("--pairs", type=int, default=20)
    parser.add_argument("--plane", action="append", choices=PLANES,
                        help="default: both (openflow on internet-200 takes long here)")
    parser.add_argument("--json", help="also write the figures here")
    args = parser.parse_args()
    from mininet.log import setLogLevel
    setLogLevel("warning")
    results: Dict[str, Dict[str, Any]] = {}
    for topology in args.topology or ["internet-50", "internet-200"]:
        for plane in args.plane or PLANES:
            print(f"{topology} / {plane} ...", flush=True)
            results[f"{topology}/{plane}"] = measure(topology, plane, args.pairs)
            print(json.dumps(results[f"{topology}/{plane}"]), flush=True)
        if f"{topology}/openflow" not in results or f"{topology}/linux" not in results:
            continue
        a, b = results[f"{topology}/openflow"], results[f"{topology}/linux"]
        print(f"\n{topology}: openflow | linux | ratio")
        rows = [("up (nodes/s)", a["nodes_per_s"], b["nodes_per_s"]),
                ("teardown (s)", a["down_s"], b["down_s"]),
                ("memory (GB)", a["mem_gb"], b["mem_gb"])]
        for load in ("quiet", "loaded"):
            rows += [(f"{load}: forwarding per router (ms)", a[load]["forwarding_per_router_ms"],
                      b[load]["forwarding_per_router_ms"]),
                     (f"{load}: |median - configured| median (ms)", a[load]["error_median_ms"],
                      b[load]["error_median_ms"]),
                     (f"{load}: pairs with RTT within max(0.5 ms, 3%)",
                      f"{a[load]['rtt_ok_pairs']}/{a[load]['pairs']}",
                      f"{b[load]['rtt_ok_pairs']}/{b[load]['pairs']}"),
                     (f"{load}: pairs with RTT std <= 0.3 ms",
                      f"{a[load]['std_ok_pairs']}/{a[load]['pairs']}",
                      f"{b[load]['std_ok_pairs']}/{b[load]['pairs']}"),
                     (f"{load}: RTT std median (ms)", a[load]["rtt_std_median_ms"],
                      b[load]["rtt_std_median_ms"])]
        rows.append((f"TCP over {b['tcp_crossings']} crossings (Mbit/s)", a["tcp_mbit"],
                     b["tcp_mbit"]))
        for label, x, y in rows:
            ratio = f"{x / y:.1f}x" if isinstance(x, (int, float)) and isinstance(y, (int, float)) \
                and y else ""
            print(f"  {label:52s} {x!s:>10} {y!s:>10} {ratio:>8}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
