"""RON's path choice, pure: link estimates in, best path per destination out.

Candidates are the direct path and every path through one intermediate member (RON found
one intermediate enough in most cases). A path's cost under each metric:

- latency: sum of its links' EWMA latencies (ms);
- loss: 1 - prod(1 - loss_i), the chance a packet is lost on some link;
- combined: latency + loss_penalty_ms * path loss (a lost packet costs a retransmission
  timeout, loss_penalty_ms, 500 by default).

A path with a link marked down, or with a link nobody has measured recently, is unusable.
Hysteresis against flapping: the current path is kept unless it became unusable or a
candidate is better by more than `hysteresis` (a fraction: 0.1 = 10%).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple


@dataclass(frozen=True)
class LinkEstimate:
    latency_ms: float  # one-way estimate: half the EWMA RTT
    loss: float  # 0..1 over the loss window
    up: bool


Path = Tuple[str, ...]  # members after the source, ending with the destination
Links = Dict[Tuple[str, str], LinkEstimate]


def path_cost(links: Links, src: str, path: Path, metric: str, loss_penalty_ms: float) -> float:
    hops = list(zip((src,) + path[:-1], path))
    estimates = [links.get(hop) for hop in hops]
    if any(e is None or not e.up for e in estimates):
        return math.inf
    latency = sum(e.latency_ms for e in estimates)  # type: ignore[union-attr]
    loss = 1 - math.prod(1 - e.loss for e in estimates)  # type: ignore[union-attr]
    if metric == "latency":
        return latency
    if metric == "loss":
        return loss
    return latency + loss_penalty_ms * loss


def candidates(src: str, dst: str, members: List[str]) -> List[Path]:
    return [(dst,)] + [(m, dst) for m in sorted(members) if m not in (src, dst)]


def choose(links: Links, src: str, dst: str, members: List[str], current: Optional[Path],
           metric: str = "latency", hysteresis: float = 0.1,
           loss_penalty_ms: float = 500.0) -> Optional[Path]:
    """The path to use toward dst now (None when no path is usable)."""
    costs = {p: path_cost(links, src, p, metric, loss_penalty_ms)
             for p in candidates(src, dst, members)}
    best = min(costs, key=lambda p: (costs[p], len(p), p))
    if math.isinf(costs[best]):
        return None
    if current is not None and current in costs and not math.isinf(costs[current]):
        if not costs[best] < costs[current] * (1 - hysteresis) - 1e-12:
            return current
    return best
