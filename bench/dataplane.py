"""The data planes side by side on big topologies: what the harness adds to the RTT the
YAML configures, and what bring-up and teardown cost.

Variants, each measured in one run: openflow (OVS under the Ryu controller, userspace
datapath here), linux (kernel-forwarding routers, the links over the default emulator
processes: one per CPU less one, pinned, polling with nothing in flight under a
hypervisor) and linux-2 (the links over 2 processes: on 2 CPUs none pinned, none polling
with nothing in flight).
For each topology and variant:
- bring-up until every route is installed (nodes/s), teardown (s), memory used (GB);
- on 20 sampled host pairs (`fidelity.sample_pairs`): the harness's own forwarding time
  per router crossing (the path with its delays set to zero), the error of the median RTT
  against the configured RTT, the RTT std (no jitter configured), quiet and with 1,000
  probes/s of background traffic;
- TCP (iperf3, 10 s: a 2 s transfer over a 100 ms path is mostly slow start) across the
  sampled path closest to 10 link crossings, no rate limit;
- on that path, the link-emulation targets of the 4-link chain (bench/linkemu.py) at
  scale: 1 ms jitter on each of its links of 4 ms or more (RTT std within 20% of the
  expected spread), loss of 1, 5 and 10% on one of its links (10,000 pings, within 1
  point of the round trip's expected loss), and 50 Mbit/s on one link (TCP, 10 s after
  slow start: goodput over what 50 Mbit/s carries of TCP payload, fidelity.throughput_of).
Prints each figure per variant and its ratio to the first variant.

    .venv/bin/python bench/dataplane.py [--topology internet-50] [--variant linux
        --variant linux-2] [--pairs 20] [--json F]
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

# variant -> (data plane, emulator processes; None: the default, linkemu.process)
VARIANTS = {"openflow": ("openflow", None), "linux": ("linux", None), "linux-2": ("linux", 2)}
TCP_SECONDS = 10


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
            "cpu_idle": verdict.cpu_idle, "cpu_steal": verdict.cpu_steal,
            "verdict": "ok" if verdict.ok else "degraded"}


def impairments(u: Underlay, pair: Any) -> Dict[str, Any]:
    """Jitter, loss and a rate limit on the links of `pair`'s path, one at a time, each
    measured against what fidelity expects of it and then taken off again."""
    net = u.net
    by_index = {l.index: l for l in net.links}
    path = fidelity.expected_rtt(net, u.routing_state().tables(), u.link_props, *pair)[0].links
    ends = [(by_index[i].a, by_index[i].b) for i in path]
    inner = ends[len(ends) // 2]  # an inter-router link in the middle of the path
    out: Dict[str, Any] = {}
    jittered = [e for e, i in zip(ends, path) if u.link_props[i].delay_ms >= 4.0]
    for a, b in jittered:
        u.set_link_params(a, b, jitter_ms=1.0)
    sample = fidelity.check(u, pairs=[pair], count=2000, interval=0.005,
                            throughput=False).samples[0]
    for a, b in jittered:
        u.set_link_params(a, b, jitter_ms=0)
    out["jitter"] = {"links": len(jittered), "expected_std_ms": sample.expected_jitter_ms,
                     "rtt_std_ms": sample.rtt_std_ms,
                     "ratio": round((sample.rtt_std_ms or 0) / sample.expected_jitter_ms, 3)}
    for pct in (1, 5, 10):
        u.set_link_params(*inner, loss_pct=pct)
        sample = fidelity.check(u, pairs=[pair], count=10000, interval=0.002,
                                throughput=False).samples[0]
        u.set_link_params(*inner, loss_pct=0)
        out[f"loss_{pct}"] = {"expected_pct": round(100 * sample.expected_loss, 2),
                              "measured_pct": round(100 * sample.measured_loss, 2),
                              "error_points": round(100 * (sample.measured_loss -
                                                           sample.expected_loss), 2)}
    u.set_link_params(*inner, bandwidth_mbit=50)
    tput = fidelity.throughput_of(u, pair, TCP_SECONDS)
    u.set_link_params(*inner, bandwidth_mbit=0)
    out["rate_50"] = {"mbit": tput.get("mbit"), "ratio": tput.get("ratio")}
    return out


def measure(topology: str, variant: str, n_pairs: int) -> Dict[str, Any]:
    net = load_topology(f"topologies/{topology}.yaml")
    mem0 = mem_used_gb()
    plane, processes = VARIANTS[variant]
    u = Underlay(net, dataplane=plane, emulator_processes=processes)
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
        tput = fidelity.throughput_of(u, tcp_pair, TCP_SECONDS)
        out["tcp_mbit"] = tput.get("mbit")
        out["tcp_pair"] = tput.get("pair")
        out["impaired"] = impairments(u, tcp_pair)
    finally:
        u.stop()
    out["down_s"] = round(u.timings.get("teardown", 0), 2)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--topology", action="append", help="default: internet-50, internet-200")
    parser.add_argument("--pairs", type=int, default=20)
    parser.add_argument("--variant", action="append", choices=list(VARIANTS),
                        help="default: all three (openflow on internet-200 takes long here); "
                             "the first is the baseline of the ratios")
    parser.add_argument("--json", help="also write the figures here")
    args = parser.parse_args()
    from mininet.log import setLogLevel
    setLogLevel("warning")
    variants = args.variant or list(VARIANTS)
    results: Dict[str, Dict[str, Any]] = {}
    for topology in args.topology or ["internet-50", "internet-200"]:
        for variant in variants:
            print(f"{topology} / {variant} ...", flush=True)
            results[f"{topology}/{variant}"] = measure(topology, variant, args.pairs)
            print(json.dumps(results[f"{topology}/{variant}"]), flush=True)
        print_table(topology, [(v, results[f"{topology}/{v}"]) for v in variants])
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
    return 0


def print_table(topology: str, columns: List[Any]) -> None:
    """One row per figure, one column per variant, then each ratio to the first column."""
    def get(r: Dict[str, Any], key: str) -> Any:
        for part in key.split("."):
            r = r[part]
        return r
    rows = [("up (nodes/s)", "nodes_per_s"), ("teardown (s)", "down_s"),
            ("memory (GB)", "mem_gb")]
    for load in ("quiet", "loaded"):
        rows += [(f"{load}: forwarding per router (ms)", f"{load}.forwarding_per_router_ms"),
                 (f"{load}: |median - configured| median (ms)", f"{load}.error_median_ms"),
                 (f"{load}: pairs with RTT within max(0.5 ms, 3%)", f"{load}.rtt_ok_pairs"),
                 (f"{load}: pairs with RTT std <= 0.3 ms", f"{load}.std_ok_pairs"),
                 (f"{load}: RTT std median (ms)", f"{load}.rtt_std_median_ms"),
                 (f"{load}: CPU time taken by the hypervisor", f"{load}.cpu_steal")]
    rows.append((f"TCP over {columns[-1][1]['tcp_crossings']} crossings, "
                 f"{TCP_SECONDS} s (Mbit/s)", "tcp_mbit"))
    rows += [("jitter 1 ms per link: RTT std / expected", "impaired.jitter.ratio")]
    rows += [(f"loss {pct}% on one link: measured - expected (points)",
              f"impaired.loss_{pct}.error_points") for pct in (1, 5, 10)]
    rows.append(("50 Mbit/s on one link: TCP goodput / its payload share", "impaired.rate_50.ratio"))
    names = [name for name, _ in columns]
    print(f"\n{topology} ({columns[0][1]['quiet']['pairs']} pairs): " + " | ".join(names) +
          " | ratios to " + names[0])
    for label, key in rows:
        values = [get(r, key) for _, r in columns]
        base = values[0]
        ratios = [f"{base / v:.2f}x" if isinstance(v, (int, float)) and
                  isinstance(base, (int, float)) and v else "" for v in values[1:]]
        print(f"  {label:52s} " + " ".join(f"{v!s:>10}" for v in values) + "  " +
              " ".join(f"{r:>8}" for r in ratios))


if __name__ == "__main__":
    raise SystemExit(main())
