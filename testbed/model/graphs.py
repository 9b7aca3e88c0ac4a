"""Breadth-first search, the one graph walk several layers need (connectivity checks,
the looking glass's "is there any path", fewest hops in the inflation report). It lives
in `model`, the bottom layer, so every layer can use it."""
from __future__ import annotations

from collections import deque
from typing import Callable, Dict, Hashable, Iterable, TypeVar

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
