"""Path-divergence metrics: pure functions, defined in docs/definitions.md (with their sources).

A path is a sequence of node names (routers, or ASNs for AS paths); its router set is the
set of its elements, its link set the set of unordered consecutive pairs.

- latency stretch (relative delay penalty) = d_overlay / d_underlay; < 1 means the overlay
  found the better path;
- inflation = d_policy / d_shortest, in router hops, AS hops or ms;
- Jaccard distance = 1 - |A n B| / |A u B| (0 for two empty sets: nothing differs);
- normalised edit distance = Levenshtein(P, Q) / max(|P|, |Q|) (0 for two empty paths),
  Levenshtein counting insertions, deletions and substitutions of one element, each 1.
"""
from __future__ import annotations

from typing import AbstractSet, Callable, FrozenSet, Hashable, List, Sequence, Set, TypeVar

T = TypeVar("T", bound=Hashable)


def _ratio(numerator: float, denominator: float, what: str) -> float:
    if denominator <= 0:
        raise ValueError(f"{what}: the reference value must be positive, not {denominator}")
    return numerator / denominator


def latency_stretch(overlay_ms: float, underlay_ms: float) -> float:
    """d_overlay / d_underlay."""
    return _ratio(overlay_ms, underlay_ms, "latency stretch")


def inflation(policy: float, shortest: float) -> float:
    """d_policy / d_shortest (hops or ms)."""
    return _ratio(policy, shortest, "inflation")


def jaccard_distance(a: AbstractSet[T], b: AbstractSet[T]) -> float:
    union = a | b
    if not union:
        return 0.0
    return 1.0 - len(a & b) / len(union)


def node_set(path: Sequence[T]) -> Set[T]:
    return set(path)


def link_set(path: Sequence[T]) -> Set[FrozenSet[T]]:
    """Unordered consecutive pairs: a link is the same whichever way it is crossed."""
    return {frozenset((a, b)) for a, b in zip(path, path[1:]) if a != b}


def levenshtein(p: Sequence[T], q: Sequence[T]) -> int:
    previous = list(range(len(q) + 1))
    for i, x in enumerate(p, 1):
        current = [i]
        for j, y in enumerate(q, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x != y)))
        previous = current
    return previous[-1]


def normalised_edit_distance(p: Sequence[T], q: Sequence[T]) -> float:
    longest = max(len(p), len(q))
    return levenshtein(p, q) / longest if longest else 0.0


def collapse(path: Sequence[T], key: Callable[[T], Hashable]) -> List[Hashable]:
    """Map each node (e.g. router -> its ASN) and merge consecutive repeats: the AS path
    of a router path."""
    out: List[Hashable] = []
    for node in path:
        k = key(node)
        if not out or out[-1] != k:
            out.append(k)
    return out
