"""The graph walks several layers need, once each: breadth-first search (connectivity
checks, the looking glass's "is there any path", fewest hops in the inflation report) and
Dijkstra (IGP distances for the router tables, lowest delay in the inflation report).
They live in `model`, the bottom layer, so every layer can use them."""
from __future__ import annotations

import heapq
from collections import deque
from typing import Callable, Dict, Hashable, Iterable, Tuple, TypeVar

T = TypeVar("T", bound=Hashable)


def hop_counts(neighbours: Callable[[T], Iterable[T]], start: T) -> Dict[T, int]:
    """Fewest hops from start to every node reachable from it (start itself: 0)."""
    hops = {start: 0}
    todo = deque([start])
    while todo:
        node = todo.popleft()
        for nxt in neighbours(node):
            if nxt not in hops:
                hops[nxt] = hops[node] + 1
                todo.append(nxt)
    return hops


def distances(neighbours: Callable[[T], Iterable[Tuple[T, float]]], start: T) -> Dict[T, float]:
    """Dijkstra: the least total weight from start to every node reachable from it, over
    (neighbour, weight) edges with weights >= 0."""
    dist: Dict[T, float] = {start: 0.0}
    heap = [(0.0, 0, start)]  # the counter orders equal distances without comparing nodes
    pushed = 0
    while heap:
        d, _, node = heapq.heappop(heap)
        if d > dist[node]:
            continue
        for nxt, weight in neighbours(node):
            nd = d + weight
            if nd < dist.get(nxt, float("inf")):
                dist[nxt] = nd
                pushed += 1
                heapq.heappush(heap, (nd, pushed, nxt))
    return dist
