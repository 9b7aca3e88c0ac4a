"""Path mapping: traceroute hop address -> router -> AS through the address plan, and the
path the controller's tables say a host pair should take, set side by side.

What traceroute shows: a router answers a probe whose TTL runs out with ICMP
time-exceeded from the interface the probe *arrived on* (as most real routers do, and as
our controller does), and the destination answers the last probe itself. So the expected
hop at TTL i is router i of the forwarding path, seen through its ingress address, and the
final hop is the destination host. Pure: the comparison takes a traceroute's hops, not
sockets.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

from ..control.routes import Table
from ..model.network import Network
from . import metrics
from .paths import one_way
from .probes import Hop


@dataclass(frozen=True)
class Node:
    name: str  # as100.r1 or as100.h1
    asn: int


def address_plan(net: Network) -> Dict[str, Node]:
    """Every router interface and host address -> its node and AS."""
    return {ip: Node(node, net.asn_of(node)) for ip, node in net.owners.items()}


@dataclass(frozen=True)
class ExpectedHop:
    node: str
    asn: int
    addr: str  # the address it answers from


def expected_hops(net: Network, tables: Dict[str, Table], src: str, dst: str) -> Optional[List[ExpectedHop]]:
    """The hops a traceroute from host src to host dst should show, or None if the tables
    do not deliver it."""
    spec = one_way(net, tables, src, dst)
    if spec is None:
        return None
    hops, prev = [], src
    by_index = {l.index: l for l in net.links}
    for index in spec.links:
        link = by_index[index]
        node, port = (link.b, link.b_port) if link.a == prev else (link.a, link.a_port)
        if node in net.hosts:
            hops.append(ExpectedHop(node, net.hosts[node].asn, net.hosts[node].ip))
        else:
            hops.append(ExpectedHop(node, net.routers[node].asn, net.interfaces[(node, port)].ip))
        prev = node
    return hops


@dataclass(frozen=True)
class Row:
    ttl: int
    expected: Optional[ExpectedHop]
    addr: Optional[str]  # observed
    node: Optional[Node]  # observed, through the address plan
    rtt_ms: Tuple[float, ...]

    @property
    def agrees(self) -> bool:
        return (self.expected is not None and self.node is not None
                and self.node.name == self.expected.node)


@dataclass
class Comparison:
    src: str
    dst: str
    rows: List[Row]
    delivered_expected: bool
    reached: bool
    expected_routers: List[str] = field(default_factory=list)
    observed_routers: List[str] = field(default_factory=list)

    @property
    def agrees(self) -> bool:
        return self.delivered_expected and self.reached and all(r.agrees for r in self.rows)

    @property
    def disagreements(self) -> List[Row]:
        return [r for r in self.rows if not r.agrees]

    def as_path(self, observed: bool = True) -> List[int]:
        if observed:
            return metrics.collapse([r.node for r in self.rows if r.node is not None],
                                    key=lambda n: n.asn)  # type: ignore[return-value]
        return metrics.collapse([r.expected for r in self.rows if r.expected is not None],
                                key=lambda h: h.asn)  # type: ignore[return-value]

    def edit_distance(self) -> float:
        """Normalised edit distance between the expected and observed router sequences."""
        return metrics.normalised_edit_distance(self.expected_routers, self.observed_routers)


def compare(net: Network, tables: Dict[str, Table], src: str, dst: str,
            hops: Sequence[Hop], reached: bool,
            plan: Optional[Dict[str, Node]] = None) -> Comparison:
    """Expected hops from the tables against the hops a traceroute saw, TTL by TTL."""
    plan = plan if plan is not None else address_plan(net)
    expected = expected_hops(net, tables, src, dst)
    exp = expected or []
    observed = {h.ttl: h for h in hops}
    rows = []
    for ttl in range(1, max(len(exp), max(observed, default=0)) + 1):
        hop = observed.get(ttl)
        addr = hop.addr if hop else None
        rows.append(Row(ttl, exp[ttl - 1] if ttl <= len(exp) else None, addr,
                        plan.get(addr) if addr else None, tuple(hop.rtt_ms) if hop else ()))
    return Comparison(src, dst, rows, expected is not None, reached,
                      [h.node for h in exp if h.node in net.routers],
                      [r.node.name for r in rows if r.node and r.node.name in net.routers])
