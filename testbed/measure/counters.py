"""Per-link traffic from the kernel's interface counters: the live view (`top` in the
testbed shell) and the transit accounting of experiments (Underlay.link_counters).

Each direction is counted where it arrives: a -> b at b's interface, b -> a at a's, as
those nodes' network namespaces count them (`/proc/<pid>/net/dev` of a process in the
namespace: a host's or Linux router's shell; an Open vSwitch bridge's shell lives in the
root namespace, where its ports are). So a count is what crossed the link, on both link
back ends: frames the link lost, or an ISP's throttle dropped (tc at the sender's egress,
or the userspace emulator between the two ends), are not in it. Drops are the
interfaces' own (a full queue, no route), not the link's loss. Over the userspace
emulator, Underlay.link_counters takes the bytes from the emulator instead: an interface
counts a TCP GSO frame as one packet with one set of headers (linkemu.vnet).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Tuple

from ..model.network import Network


@dataclass(frozen=True)
class Count:
    rx_bytes: int
    rx_packets: int
    tx_bytes: int
    tx_packets: int
    drops: int


def parse_dev(text: str) -> Dict[str, Count]:
    """/proc/net/dev -> interface -> counters."""
    out = {}
    for line in text.splitlines()[2:]:
        name, _, rest = line.partition(":")
        f = rest.split()
        if len(f) < 16:
            continue
        out[name.strip()] = Count(int(f[0]), int(f[1]), int(f[8]), int(f[9]),
                                  int(f[3]) + int(f[11]))
    return out


@dataclass(frozen=True)
class Rate:
    link: str  # "a - b"
    a_to_b_mbit: float
    b_to_a_mbit: float
    packets_s: float
    drops_s: float


def rates(before: Dict[int, Count], after: Dict[int, Count], seconds: float,
          names: Dict[int, str]) -> List[Rate]:
    """Per link, between two samples `seconds` apart; busiest first."""
    out = []
    for index, b in after.items():
        a = before.get(index)
        if a is None:
            continue
        out.append(Rate(names[index], (b.tx_bytes - a.tx_bytes) * 8 / seconds / 1e6,
                        (b.rx_bytes - a.rx_bytes) * 8 / seconds / 1e6,
                        (b.tx_packets - a.tx_packets + b.rx_packets - a.rx_packets) / seconds,
                        (b.drops - a.drops) / seconds))
    return sorted(out, key=lambda r: -(r.a_to_b_mbit + r.b_to_a_mbit))


class LinkCounters:
    """Samples every link's counters; `pid_of(node)` is a process in the node's namespace."""

    def __init__(self, net: Network, pid_of: Callable[[str], int]):
        from ..underlay.emulation import link_ends
        self.ends = {link.index: link_ends(net, link) for link in net.links}
        self.names = {link.index: f"{link.a} - {link.b}" for link in net.links}
        self.pid_of = pid_of

    def sample(self) -> Dict[int, Count]:
        """Link index -> Count (tx: a -> b, received at b; rx: b -> a, received at a)."""
        by_pid: Dict[int, Optional[Dict[str, Count]]] = {}

        def read(node: str, interface: str) -> Optional[Count]:
            pid = self.pid_of(node)
            if pid not in by_pid:
                try:
                    with open(f"/proc/{pid}/net/dev") as f:
                        by_pid[pid] = parse_dev(f.read())
                except OSError:
                    by_pid[pid] = None
            return (by_pid[pid] or {}).get(interface)
        out = {}
        for index, (a, b) in self.ends.items():
            at_a, at_b = read(*a), read(*b)
            if at_a is not None and at_b is not None:
                out[index] = Count(at_a.rx_bytes, at_a.rx_packets, at_b.rx_bytes,
                                   at_b.rx_packets, at_a.drops + at_b.drops)
        return out


def totals(rows: List[Rate]) -> Tuple[float, float]:
    """(Mbit/s over all links, drops/s over all links)."""
    return (sum(r.a_to_b_mbit + r.b_to_a_mbit for r in rows), sum(r.drops_s for r in rows))
