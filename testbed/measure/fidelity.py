"""Does the emulated network behave as configured? Measure and compare, with numbers.

On sample host pairs: the median RTT of many pings against the **configured** RTT, the sum
of the configured one-way delays of the forward and the reverse path (they may differ
under policy routing). What the harness itself adds (forwarding in OVS or the kernel, the
link emulator, the hosts' stacks) is an error, not part of what is expected: it is
measured on its own (the same path with its delays set to zero, before the real
measurement) and reported as `forwarding_ms` per path and per router crossing, so a
researcher sees how much of a measured RTT is the emulator's. RTT spread is compared with
the configured jitter, loss with the configured loss, TCP throughput (iperf3) with the
bottleneck rate where one is set. CPU headroom is sampled during the measurement: a
saturated machine distorts all of it, so it is part of the verdict. Measuring the
forwarding time changes link properties for a moment, so run the check before an
experiment, not during one.

Tolerances (the data plane's targets): RTT within max(0.5 ms, 3%) of configured; RTT std
at most 0.3 ms where no jitter is configured, else within 20% + 0.2 ms of it; loss within
3 binomial standard deviations; TCP goodput within 0.9-1.05 of what the bottleneck's
rate carries of TCP payload (1448 bytes of each 1514-byte frame), measured after slow
start (iperf3 omits the first 2 s): a shaper that ignores its rate fails as surely as one
that starves; CPU idle at least 10%; the link emulator process below 90% of a core (it
serves every crossing of every path: one core moves ~90,000 frames/s).
"""
from __future__ import annotations

import json
import math
import os
import random
import statistics
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from ..underlay.api import UnderlayAPI
from .paths import PathSpec, one_way


@dataclass
class Sample:
    src: str
    dst: str
    crossings: int  # links crossed there and back
    routers: int  # router crossings there and back
    configured_rtt_ms: float  # the configured one-way delays there and back
    forwarding_ms: float  # the same path with zero delay: what the harness adds
    forwarding_std_ms: float
    median_rtt_ms: Optional[float]
    error_ms: Optional[float]  # median - configured
    expected_jitter_ms: float
    rtt_std_ms: Optional[float]
    expected_loss: float
    measured_loss: float
    # the middle half's width: unlike the std, blind to a few delayed pings (a stalled
    # virtual CPU), so it tells a steady spread from rare outliers
    rtt_iqr_ms: Optional[float] = None
    problems: List[str] = field(default_factory=list)


@dataclass
class Verdict:
    ok: bool
    samples: List[Sample]
    throughput: Optional[Dict[str, Any]]
    cpu_idle: float
    cpu_steal: float  # share of the CPU time the hypervisor took (a VM's vCPU not running)
    emulator_cpu: Optional[float]  # busiest emulator process, share of one core; None: netem
    problems: List[str]

    def as_dict(self) -> Dict[str, Any]:
        return {"verdict": "ok" if self.ok else "degraded", **asdict(self)}

    @property
    def forwarding_per_router_ms(self) -> Optional[float]:
        """The harness's own time per router crossing, over all samples."""
        routers = sum(s.routers for s in self.samples)
        return round(sum(s.forwarding_ms for s in self.samples) / routers, 4) if routers else None


def cpu_times() -> Tuple[float, float, float]:
    """Idle (with iowait), stolen and total CPU time so far, in ticks. Stolen time is the
    hypervisor running something else on a VM's virtual CPU: a process on it stops for
    milliseconds at a time, whatever its priority, and every frame it holds waits."""
    fields = [float(x) for x in open("/proc/stat").readline().split()[1:9]]
    # user nice system idle iowait irq softirq steal (guest time is inside user time)
    return fields[3] + fields[4], fields[7], sum(fields)


def cpu_shares(before: Tuple[float, float, float],
               after: Tuple[float, float, float]) -> Tuple[float, float]:
    """Idle and stolen shares of the CPU time between two cpu_times() readings."""
    total = max(after[2] - before[2], 1e-9)
    return (after[0] - before[0]) / total, (after[1] - before[1]) / total


def emulator_shares(before: Optional[List[Tuple[float, float]]],
                    after: Optional[List[Tuple[float, float]]],
                    wall: float) -> Tuple[Optional[float], float]:
    """Between two readings of emulator_seconds: the busiest link emulator process's busy
    share of one core (None without the userspace emulator), and the share of all CPU
    time its processes spent polling for frames. That polling yields to anything runnable,
    so it counts as idle: a machine is not saturated by an emulator waiting for frames."""
    if before is None or after is None:
        return None, 0.0
    wall = max(wall, 1e-9)
    busy = [(a[0] - b[0]) for a, b in zip(after, before)]
    cpu = [(a[1] - b[1]) for a, b in zip(after, before)]
    polling = sum(max(0.0, c - w) for c, w in zip(cpu, busy))
    return max(busy, default=0.0) / wall, polling / (wall * (os.cpu_count() or 1))


# A second of a run (a window) is compromised when the data plane or the machine could
# not keep up in it; the emulator's own lateness and drops are the measurement.
WINDOW_LATE_SHARE = 0.01  # frames released > 1 ms late: above 1% means p99 > 1 ms
WINDOW_LINK_FRAMES = 100  # a link with this many frames in a window is judged on its own
WINDOW_DROP_SHARE = 0.001  # frames lost that nothing configured asked to lose
CPU_IDLE_MIN = 0.10  # the machine's idle share (polling emulators count as idle)
EMULATOR_BUSY_MAX = 0.90  # the busiest emulator process's share of its core


def window_row(t: float, seconds: float, idle: float, steal: float,
               emulator_busy: Optional[float],
               links: Optional[Dict[str, Dict[str, Any]]]) -> Dict[str, Any]:
    """One window's record: the machine's CPU over it, and what the link emulator did in
    it (links: id -> linkemu.window.Window.summary; None where the back end cannot tell,
    netem), with the window's totals and the problems that compromise it."""
    row: Dict[str, Any] = {"t": round(t, 3), "seconds": round(seconds, 3),
                           "cpu_idle": round(idle, 3), "cpu_steal": round(steal, 3),
                           "emulator_busy": None if emulator_busy is None
                           else round(emulator_busy, 3)}
    if links is not None:
        row.update(frames=sum(l["frames"] for l in links.values()),
                   late=sum(l["late"] for l in links.values()),
                   drops=sum(l["drops"] for l in links.values()),
                   p99_ms=max((l["p99_ms"] for l in links.values() if "p99_ms" in l),
                              default=None),
                   max_ms=max((l["max_ms"] for l in links.values() if "max_ms" in l),
                              default=None),
                   links=links)
    row["problems"] = window_problems(row)
    return row


def window_problems(row: Dict[str, Any]) -> List[str]:
    """Why a window is compromised (empty: it is not): more than 1% of the frames the
    emulator released in it were over 1 ms late (its p99 lateness above 1 ms), or that
    much of one link's with at least WINDOW_LINK_FRAMES frames; more than 0.1% of its
    frames lost unasked; the machine's CPU saturated (idle below 10%) or the busiest
    emulator process busy above 90% of its core."""
    out = []
    frames = row.get("frames") or 0
    if frames and row["late"] > WINDOW_LATE_SHARE * frames:
        out.append(f"{row['late']} of {frames} frames over 1 ms late (p99 above 1 ms)")
    else:
        worst = [(k, l) for k, l in (row.get("links") or {}).items()
                 if l["frames"] >= WINDOW_LINK_FRAMES
                 and l["late"] > WINDOW_LATE_SHARE * l["frames"]]
        if worst:
            k, l = max(worst, key=lambda kl: kl[1]["p99_ms"])
            out.append(f"link {k}: p99 lateness {l['p99_ms']} ms over {l['frames']} frames")
    drops = row.get("drops") or 0
    if drops and drops > WINDOW_DROP_SHARE * (frames + drops):
        out.append(f"{drops} frames lost that no link property asked to lose")
    if row["cpu_idle"] < CPU_IDLE_MIN:
        out.append(f"CPU idle {100 * row['cpu_idle']:.0f}%: the machine was saturated")
    busy = row.get("emulator_busy")
    if busy is not None and busy > EMULATOR_BUSY_MAX:
        out.append(f"busiest link emulator process busy {100 * busy:.0f}% of its core")
    return out


def expected_rtt(net: Any, tables: Any, props: Any, src: str, dst: str) -> Optional[Tuple[PathSpec, PathSpec]]:
    there = one_way(net, tables, src, dst, props)
    back = one_way(net, tables, dst, src, props)
    return (there, back) if there and back else None


def sample_pairs(net: Any, limit: int = 3) -> List[Tuple[str, str]]:
    """The first host against the last hosts of other ASes (up to 3; varied paths), then
    pairs of hosts in different ASes drawn with a seed of the topology's name, so the same
    topology is always checked on the same pairs."""
    hosts = sorted(net.hosts)
    src = hosts[0]
    others = [h for h in hosts if net.hosts[h].asn != net.hosts[src].asn] or hosts[1:]
    pairs = [(src, dst) for dst in others[-min(limit, 3):]]
    rest = [(a, b) for a in hosts for b in hosts
            if net.hosts[a].asn != net.hosts[b].asn and (a, b) not in pairs]
    rng = random.Random(f"{net.name}:fidelity")
    return pairs + rng.sample(rest, min(len(rest), max(0, limit - len(pairs))))


def _ping(underlay: UnderlayAPI, host: str, ip: str, count: int,
          interval: float) -> List[Optional[float]]:
    """ICMP echo RTTs in ms (None: lost) from the host's prober: kernel receive
    timestamps, microseconds (iputils prints 3 significant digits, 1 ms above 100 ms)."""
    return underlay.prober(host).ping(ip, count=count, rate=1 / interval, timeout=1.0).rtts


def check(underlay: UnderlayAPI, pairs: Optional[List[Tuple[str, str]]] = None, count: int = 100,
          interval: float = 0.02, throughput: bool = True) -> Verdict:
    net, tables, props = underlay.net, underlay.routing_state().tables(), underlay.link_props
    pairs = pairs or sample_pairs(net)
    times0 = cpu_times()
    emu0, wall0 = underlay.emulator_seconds(), time.monotonic()
    samples = []
    for src, dst in pairs:
        expected = expected_rtt(net, tables, props, src, dst)
        if expected is None:
            continue
        there, back = expected
        # warm-up: ARP and the first packet-ins are not what we measure
        _ping(underlay, src, net.hosts[dst].ip, 2, 0.2)
        base, base_std = _base_rtt(underlay, there.links + back.links, src, dst)
        rtts = _ping(underlay, src, net.hosts[dst].ip, count, interval)
        got = [r for r in rtts if r is not None]
        loss_expected = 1 - (1 - there.loss) * (1 - back.loss)
        configured = there.delay_ms + back.delay_ms
        median = statistics.median(got) if got else None
        sample = Sample(src, dst, len(there.links) + len(back.links),
                        len(there.links) + len(back.links) - 2,  # a host's own link is no router's
                        round(configured, 3), round(base, 3), round(base_std, 3),
                        None if median is None else round(median, 3),
                        None if median is None else round(median - configured, 3),
                        round(math.hypot(there.jitter_ms, back.jitter_ms), 3),
                        round(statistics.pstdev(got), 3) if len(got) > 1 else None,
                        round(loss_expected, 4), round(1 - len(got) / count, 4),
                        _iqr(got))
        _judge(sample, count)
        samples.append(sample)
    tput = throughput_of(underlay, pairs[0]) if throughput and pairs else None
    cpu_idle, cpu_steal = cpu_shares(times0, cpu_times())
    emulator_cpu, polling = emulator_shares(emu0, underlay.emulator_seconds(),
                                            time.monotonic() - wall0)
    cpu_idle += polling
    problems = [f"{s.src} -> {s.dst}: {p}" for s in samples for p in s.problems]
    if tput and tput.get("problem"):
        problems.append(tput["problem"])
    if cpu_idle < CPU_IDLE_MIN:
        problems.append(f"CPU idle only {100 * cpu_idle:.0f}% during the measurement: "
                        "the machine is saturated, timings are not trustworthy")
    if emulator_cpu is not None and tput and tput.get("problem") and emulator_cpu > 0.5:
        problems.append(f"the busiest link emulator process used {100 * emulator_cpu:.0f}% "
                        "of a core on average, and all of one during the TCP test: it is the "
                        "bottleneck")
    if not samples:
        problems.append("no sample pair is reachable")
    return Verdict(not problems, samples, tput, round(cpu_idle, 3), round(cpu_steal, 3),
                   None if emulator_cpu is None else round(emulator_cpu, 3), problems)


def _iqr(values: List[float]) -> Optional[float]:
    if len(values) < 4:
        return None
    q = statistics.quantiles(values, n=4)
    return round(q[2] - q[0], 3)


def _base_rtt(underlay: UnderlayAPI, links: List[int], src: str, dst: str) -> Tuple[float, float]:
    """Median and std of the RTT with the path's delays, jitter and loss set to zero."""
    net = underlay.net
    saved = {i: underlay.link_props[i] for i in set(links)}
    for i in saved:
        link = net.links[i]
        underlay.set_link_params(link.a, link.b, delay_ms=0, jitter_ms=0, loss_pct=0)
    try:
        got = [r for r in _ping(underlay, src, net.hosts[dst].ip, 50, 0.01) if r is not None]
    finally:
        for i, props in saved.items():
            link = net.links[i]
            underlay.set_link_params(link.a, link.b, delay_ms=props.delay_ms,
                                     jitter_ms=props.jitter_ms, loss_pct=props.loss_pct)
    return (statistics.median(got), statistics.pstdev(got)) if got else (0.0, 0.0)


def _judge(s: Sample, count: int) -> None:
    if s.median_rtt_ms is None:
        s.problems.append("no reply at all")
        return
    tolerance = max(0.5, 0.03 * s.configured_rtt_ms)
    if abs(s.median_rtt_ms - s.configured_rtt_ms) > tolerance:
        s.problems.append(f"median RTT {s.median_rtt_ms} ms, configured {s.configured_rtt_ms} ms "
                          f"(tolerance {tolerance:.2f} ms; the harness's own forwarding time "
                          f"on this path: {s.forwarding_ms} ms)")
    if s.rtt_std_ms is not None:
        if s.expected_jitter_ms and \
                abs(s.rtt_std_ms - s.expected_jitter_ms) > 0.2 * s.expected_jitter_ms + 0.2:
            s.problems.append(f"RTT std {s.rtt_std_ms} ms, configured jitter "
                              f"{s.expected_jitter_ms} ms")
        elif not s.expected_jitter_ms and s.rtt_std_ms > 0.3:
            s.problems.append(f"RTT std {s.rtt_std_ms} ms with no jitter configured "
                              "(at most 0.3 ms)")
    sigma = math.sqrt(max(s.expected_loss * (1 - s.expected_loss), 1e-9) / count)
    if abs(s.measured_loss - s.expected_loss) > 3 * sigma + 1.5 / count:
        s.problems.append(f"loss {100 * s.measured_loss:.1f}%, configured "
                          f"{100 * s.expected_loss:.1f}%")


# TCP payload per frame on the wire: 1448 bytes (MSS with timestamps) of 1514 (Ethernet,
# IPv4 and TCP headers); a link's rate counts whole frames
TCP_PAYLOAD_SHARE = 1448 / 1514
RATE_BAND = (0.9, 1.05)  # goodput / (bottleneck x TCP_PAYLOAD_SHARE)
SLOW_START_S = 2  # seconds iperf3 leaves out before it measures


def throughput_of(underlay: UnderlayAPI, pair: Tuple[str, str], seconds: int = 3) -> Dict[str, Any]:
    """TCP goodput (iperf3) from pair[0] to pair[1] over `seconds` after SLOW_START_S,
    and where the path has a configured bottleneck, its ratio to the payload that rate
    carries and a problem outside RATE_BAND."""
    net = underlay.net
    src, dst = pair
    underlay.run(dst, "iperf3 -s -1 -D -p 5299 >/dev/null 2>&1")
    time.sleep(0.3)
    out = underlay.run(src, f"iperf3 -c {net.hosts[dst].ip} -p 5299 -t {seconds} "
                            f"-O {SLOW_START_S} -J")
    underlay.run(dst, "pkill -f 'iperf3 -s -1 -D -p 5299' >/dev/null 2>&1")
    try:
        mbit = json.loads(out[out.index("{"):])["end"]["sum_received"]["bits_per_second"] / 1e6
    except (ValueError, KeyError):
        return {"pair": f"{src} -> {dst}", "problem": "iperf3 failed: " + out.strip()[-200:]}
    spec = one_way(net, underlay.routing_state().tables(), src, dst, underlay.link_props)
    result: Dict[str, Any] = {"pair": f"{src} -> {dst}", "mbit": round(mbit, 1),
                              "bottleneck_mbit": spec.bottleneck_mbit if spec else None}
    if spec and spec.bottleneck_mbit:
        ratio = mbit / (spec.bottleneck_mbit * TCP_PAYLOAD_SHARE)
        result["ratio"] = round(ratio, 3)
        if not RATE_BAND[0] <= ratio <= RATE_BAND[1]:
            result["problem"] = (f"TCP goodput {mbit:.1f} Mbit/s is {ratio:.2f} of what the "
                                 f"configured bottleneck ({spec.bottleneck_mbit} Mbit/s) "
                                 f"carries of TCP payload (want {RATE_BAND[0]}-"
                                 f"{RATE_BAND[1]})")
    return result
