"""A synthetic submission: the first light edge, near or far (loses the latency)."""
from __future__ import annotations

from typing import List, Optional

from overlays.cdn import Routing
from overlays.cdn.routing import Client, EdgeState


def choose(edges: List[EdgeState], client: Client, now: float,
           routing: Routing) -> Optional[EdgeState]:
    alive = [e for e in edges if now - e.last_report <= routing.dead_after]
    if not alive:
        return None
    light = [e for e in alive if e.load < routing.load_threshold]
    if not light:
        return min(alive, key=lambda e: (e.load, e.name))
    return light[0]
