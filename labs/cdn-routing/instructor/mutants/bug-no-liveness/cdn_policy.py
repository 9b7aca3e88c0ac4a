"""A synthetic submission: every edge counts as alive (loses the failover)."""
from __future__ import annotations

from typing import List, Optional

from overlays.cdn import Routing
from overlays.cdn.routing import Client, EdgeState


def choose(edges: List[EdgeState], client: Client, now: float,
           routing: Routing) -> Optional[EdgeState]:
    alive = list(edges)
    if not alive:
        return None
    light = [e for e in alive if e.load < routing.load_threshold]
    if not light:
        return min(alive, key=lambda e: (e.load, e.name))
    measured = [e for e in light if client.ip in e.rtt_ms]
    if not measured:
        return light[0]
    return min(measured, key=lambda e: (e.rtt_ms[client.ip], e.name))
