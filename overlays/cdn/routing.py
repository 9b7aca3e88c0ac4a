"""The request router's policies: which edge answers a client. Pure (no I/O).

The router knows each edge from the edge's own reports (every `report_interval`): that it
is alive, its load (requests/s over the last second) and the RTTs it measured to members
with UDP probes. So `nearest` is nearest by *measured* RTT from the edge's side (what
Akamai's mapping does with its probes), not by the topology's configured latency; a client
no edge has measured yet (or a host outside the deployment) gets the edges in round-robin.

- nearest: the lowest measured RTT to the client;
- as-local: an edge in the client's AS, else the fewest AS hops (the underlay's policy
  routes at start), ties by measured RTT;
- round-robin: the alive edges in turn;
- random: uniformly;
- load-aware: the nearest among the edges below `load_threshold` requests/s (the least
  loaded if none is).
Only alive edges are answered; with none alive, None (the router answers SERVFAIL).
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Dict, List, Optional


@dataclass
class EdgeState:
    name: str
    ip: str
    asn: int
    last_report: float = float("-inf")  # monotonic time of its last report
    load: float = 0.0  # requests/s
    rtt_ms: Dict[str, float] = field(default_factory=dict)  # member ip -> measured RTT


@dataclass
class Client:
    ip: str
    asn: Optional[int]  # None: not a member (the router cannot place it)


class Router:
    def __init__(self, edges: List[EdgeState], policy: str, load_threshold: float,
                 dead_after: float, as_hops: Dict[int, Dict[int, int]], rng: random.Random):
        self.edges, self.policy = edges, policy
        self.load_threshold, self.dead_after = load_threshold, dead_after
        self.as_hops, self.rng = as_hops, rng
        self._turn = 0

    def alive(self, now: float) -> List[EdgeState]:
        return [e for e in self.edges if now - e.last_report <= self.dead_after]

    def choose(self, client: Client, now: float) -> Optional[EdgeState]:
        edges = self.alive(now)
        if not edges:
            return None
        if self.policy == "random":
            return self.rng.choice(edges)
        if self.policy == "round-robin":
            return self._round_robin(edges)
        if self.policy == "load-aware":
            light = [e for e in edges if e.load < self.load_threshold]
            if not light:
                return min(edges, key=lambda e: e.load)
            edges = light
        if self.policy == "as-local" and client.asn is not None:
            local = [e for e in edges if e.asn == client.asn]
            if local:
                edges = local
            else:
                hops = self.as_hops.get(client.asn, {})
                fewest = min(hops.get(e.asn, 1 << 30) for e in edges)
                edges = [e for e in edges if hops.get(e.asn, 1 << 30) == fewest]
        measured = [e for e in edges if client.ip in e.rtt_ms]
        if not measured:
            return self._round_robin(edges)
        return min(measured, key=lambda e: (e.rtt_ms[client.ip], e.name))

    def _round_robin(self, edges: List[EdgeState]) -> EdgeState:
        self._turn += 1
        return edges[self._turn % len(edges)]
