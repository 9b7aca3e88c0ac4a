"""The userspace link emulator against a plain veth, on namespaces built here.

Chain: ns0 -L1- ns1 -L2- ns2 -L3- ns3 -L4- ns4 (Linux forwarding in ns1..ns3), every link
either a plain veth pair (baseline) or a veth pair through the emulator (one process).
Prints, each against the baseline measured in the same run:
- added latency per link crossing at 0 ms configured (target <= 0.1 ms);
- median RTT on links of 5, 10, 20, 40 ms (target: within max(0.3 ms, 2%) of 150 ms);
- RTT std with 2 ms jitter on each link (target: within 20% of the configured spread);
- loss of 1, 5, 10% over 10,000 pings on one link (target: +-1 percentage point);
- 64-byte UDP packets per second through one link, 0 and 10 ms (target >= 80,000);
- iperf3 TCP through one 0-delay link (target >= 500 Mbit/s).

    .venv/bin/python bench/linkemu.py [--quick]
"""
from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from testbed.underlay.linkemu.process import EmulatorProcess

N = 5  # namespaces


def sh(cmd: str, check: bool = True) -> str:
    return subprocess.run(cmd, shell=True, check=check, capture_output=True, text=True).stdout


def ns(i: int, cmd: str, check: bool = True) -> str:
    return sh(f"ip netns exec tbb{i} {cmd}", check)


class Chain:
    """N namespaces in a line; link i joins ns i and ns i+1 (10.77.i.0/24)."""

    def __init__(self, emulated: bool, params: Optional[List[Dict]] = None, work: Path = Path(".")):
        self.emulator: Optional[EmulatorProcess] = None
        for i in range(N):
            sh(f"ip netns add tbb{i}")
            ns(i, "ip link set lo up")
            ns(i, "sysctl -qw net.ipv4.ip_forward=1")
        specs = []
        for i in range(N - 1):
            left, right = f"tbbl{i}", f"tbbr{i}"
            if emulated:
                sh(f"ip link add {left} netns tbb{i} type veth peer name tbbea{i}")
                sh(f"ip link add tbbeb{i} type veth peer name {right} netns tbb{i + 1}")
                sh(f"ip link set tbbea{i} up; ip link set tbbeb{i} up")
                specs.append({"id": i, "a": f"tbbea{i}", "b": f"tbbeb{i}",
                              "params": (params or [{}] * (N - 1))[i]})
            else:
                sh(f"ip link add {left} netns tbb{i} type veth peer name {right} netns tbb{i + 1}")
            for node, name, addr in ((i, left, 1), (i + 1, right, 2)):
                ns(node, f"ip addr add 10.77.{i}.{addr}/24 dev {name}")
                ns(node, f"ip link set {name} up")
                ns(node, f"ethtool -K {name} tx off", check=False)
        for i in range(N):  # static routes along the line
            for j in range(N - 1):
                if j < i - 1:
                    ns(i, f"ip route add 10.77.{j}.0/24 via 10.77.{i - 1}.1")
                elif j > i:
                    ns(i, f"ip route add 10.77.{j}.0/24 via 10.77.{i}.2")
        self.specs, self.work = specs, work
        if emulated:
            self.restart_emulator()

    def restart_emulator(self) -> None:
        """A fresh emulator process for the chain's links (nothing set at run time)."""
        if self.emulator:
            self.emulator.stop()
        self.emulator = EmulatorProcess(self.specs, self.work)
        self.emulator.wait_ready()

    def close(self) -> None:
        if self.emulator:
            self.emulator.stop()
        for i in range(N):
            sh(f"ip netns del tbb{i}", check=False)
        for i in range(N - 1):
            sh(f"ip link del tbbea{i} 2>/dev/null; ip link del tbbeb{i} 2>/dev/null", check=False)


def rtts(src: int, dst_ip: str, count: int, interval: float = 0.01) -> List[Optional[float]]:
    ns(src, f"ping -c 2 -i 0.2 -W 1 {dst_ip}", check=False)
    out = ns(src, f"ping -n -c {count} -i {interval} -W 1 {dst_ip}", check=False)
    got = {int(m.group(1)): float(m.group(2))
           for m in re.finditer(r"icmp_seq=(\d+) ttl=\d+ time=([\d.]+) ms", out)}
    return [got.get(i) for i in range(1, count + 1)]


def avg_rtt(src: int, dst_ip: str, count: int, interval: float = 0.01) -> float:
    """ping's own average (microsecond precision; per-packet times above 100 ms are
    printed as whole milliseconds)."""
    ns(src, f"ping -c 2 -i 0.2 -W 1 {dst_ip}", check=False)
    out = ns(src, f"ping -n -q -c {count} -i {interval} -W 1 {dst_ip}", check=False)
    return float(re.search(r"= [\d.]+/([\d.]+)/", out).group(1))


def udp_delivered(count: int) -> int:
    """Send `count` numbered UDP datagrams ns0 -> ns1 (1 per 0.1 ms); how many arrive."""
    ns(1, "python3 -c \"import socket\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n"
          "s.bind(('0.0.0.0',5302)); s.settimeout(1.5); seen=set()\n"
          "try:\n while True:\n  seen.add(s.recv(16))\nexcept socket.timeout: pass\n"
          "print(len(seen))\" > /tmp/tbb-udp-loss 2>&1 &")
    time.sleep(0.3)
    ns(0, f"python3 -c \"import socket,time\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n"
          f"for i in range({count}):\n s.sendto(i.to_bytes(8,'big'),('10.77.0.2',5302))\n"
          f" time.sleep(0.0001)\"")
    time.sleep(2.0)
    got = int(Path("/tmp/tbb-udp-loss").read_text().split()[-1])
    Path("/tmp/tbb-udp-loss").unlink()
    return got


def far() -> str:
    return f"10.77.{N - 2}.2"


def udp_pps(seconds: float = 3.0) -> float:
    """64-byte UDP packets/s received across link 0 (sender floods, receiver counts)."""
    ns(1, "python3 -c \"import socket,time\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n"
          "s.bind(('0.0.0.0',5300)); s.settimeout(1); n=0\nt=time.time()\n"
          "try:\n while True:\n  s.recv(64); n+=1\nexcept socket.timeout: pass\n"
          "print(n)\" > /tmp/tbb-udp-count 2>&1 &")
    time.sleep(0.3)
    sender = ("import socket,time\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n"
              f"end=time.time()+{seconds}\nb=bytes(22)\nn=0\n"
              "while time.time()<end:\n for _ in range(200):\n  s.sendto(b,('10.77.0.2',5300))\n n+=200\nprint(n)")
    ns(0, f"python3 -c \"{sender}\"")
    time.sleep(1.5)
    received = int(Path("/tmp/tbb-udp-count").read_text().split()[-1])
    Path("/tmp/tbb-udp-count").unlink()
    return received / seconds


def tcp_mbit() -> float:
    ns(1, "iperf3 -s -1 -D -p 5301")
    time.sleep(0.3)
    out = ns(0, "iperf3 -c 10.77.0.2 -p 5301 -t 3 -J")
    return json.loads(out)["end"]["sum_received"]["bits_per_second"] / 1e6


def run(quick: bool) -> None:
    work = Path(tempfile.mkdtemp(prefix="tbb-"))
    count = 300 if quick else 1000

    def chain(emulated: bool, params: Optional[List[Dict]] = None) -> Chain:
        return Chain(emulated, params, work)

    def zero_delay(emulated: bool) -> Tuple[float, float, float]:
        """Median RTT, UDP pps and TCP Mbit/s over a chain with nothing configured."""
        c = chain(emulated)
        try:
            return (statistics.median(r for r in rtts(0, far(), count) if r), udp_pps(),
                    tcp_mbit())
        finally:
            c.close()

    base, base_pps, base_tcp = zero_delay(False)
    zero, zero_pps, zero_tcp = zero_delay(True)
    per_crossing = (zero - base) / (2 * (N - 1))
    print(f"0 ms configured: RTT over {N - 1} links {zero:.3f} ms vs plain veth {base:.3f} ms: "
          f"{1000 * per_crossing:.0f} us added per crossing (target <= 100 us)")
    print(f"64-byte UDP through one link: {zero_pps:,.0f} pps vs plain veth {base_pps:,.0f} "
          f"(ratio {zero_pps / base_pps:.2f}; target >= 80,000)")
    print(f"TCP through one link: {zero_tcp:.0f} Mbit/s vs plain veth {base_tcp:.0f} "
          f"(ratio {zero_tcp / base_tcp:.2f}; target >= 500)")

    delays = [5, 10, 20, 40]
    c = chain(True, [{"delay_ms": d} for d in delays])
    try:
        avg = avg_rtt(0, far(), count)
        expected = 2 * sum(delays) + base
        print(f"delays 5+10+20+40 ms: mean RTT {avg:.3f} ms, configured {2 * sum(delays)} ms "
              f"+ plain-veth base {base:.3f} ms; error {avg - expected:+.3f} ms "
              f"(target within {max(0.3, 0.02 * 150):.1f} ms)")
        c.emulator.request(cmd="set", link=0, params={"delay_ms": 10})
        pps10 = udp_pps()
        print(f"64-byte UDP with 10 ms configured: {pps10:,.0f} pps (target >= 80,000)")
    finally:
        c.close()

    c = chain(True, [{"delay_ms": 10, "jitter_ms": 2}] * (N - 1))
    try:
        got = [r for r in rtts(0, far(), count, interval=0.02) if r]
        expected_std = (2 * (N - 1)) ** 0.5 * 2  # 8 crossings of 2 ms std, independent
        print(f"jitter 2 ms on each of 8 crossings: RTT std {statistics.pstdev(got):.2f} ms, "
              f"expected about {expected_std:.2f} ms (without reordering, a little less)")
    finally:
        c.close()

    for loss in (1, 5, 10):
        c = chain(True, [{"loss_pct": loss}] + [{}] * (N - 2))
        try:
            n = 10000
            lost = 100 * (n - udp_delivered(n)) / n
            print(f"loss {loss}% on one direction, {n} UDP datagrams: {lost:.2f}% lost "
                  f"(error {lost - loss:+.2f} points; target +-1)")
        finally:
            c.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer samples")
    args = parser.parse_args()
    if sh("ip netns list", check=False).count("tbb"):
        sys.exit("leftover tbb* namespaces: remove them first")
    run(args.quick)


if __name__ == "__main__":
    main()
