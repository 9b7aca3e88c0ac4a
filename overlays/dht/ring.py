"""Chord's identifier ring, pure: ids, intervals, finger starts, the choice of the next
hop, and the ground truth a lookup is judged against (Stoica et al., SIGCOMM 2001).

Ids are 160-bit SHA-1 values, as in the paper: a node's is the hash of "ip:port#life"
(`life` counts its rejoins, so a node that comes back after failing is a new node), a
key's the hash of its name. Intervals run clockwise and wrap: `between(x, a, b)` is x in
(a, b), `up_to(x, a, b)` is x in (a, b]; with a == b the interval is the whole ring but a.
"""
from __future__ import annotations

import bisect
import hashlib
import math
from typing import Iterable, List, Optional, Sequence

BITS = 160
RING = 1 << BITS


def ident(text: str) -> int:
    return int.from_bytes(hashlib.sha1(text.encode()).digest(), "big")


def between(x: int, a: int, b: int) -> bool:
    """x in the open interval (a, b) going clockwise from a."""
    if a < b:
        return a < x < b
    return x != a and (x > a or x < b)


def up_to(x: int, a: int, b: int) -> bool:
    """x in (a, b]."""
    return x == b or between(x, a, b)


def finger_start(n: int, i: int) -> int:
    """Where finger i of node n starts: n + 2^i; finger i is the first node from there."""
    return (n + (1 << i)) % RING


def closest_preceding(me: int, key: int, known: Iterable[int]) -> List[int]:
    """The nodes of `known` in (me, key), closest to the key first: the next hops a node
    offers for `key` (Chord's closest_preceding_finger, with the rest as fallbacks when
    the closest has failed)."""
    ahead = [n for n in set(known) if between(n, me, key)]
    return sorted(ahead, key=lambda n: (key - n) % RING)


def successor(key: int, ring: Sequence[int]) -> Optional[int]:
    """The node responsible for `key` among the sorted ids `ring`: the first at or after
    it, clockwise (the ground truth)."""
    if not ring:
        return None
    i = bisect.bisect_left(ring, key)
    return ring[i % len(ring)]


def expected_hops(n: int) -> float:
    """The paper's mean lookup path length, ½·log2 N: each finger jump halves the
    distance, and about half of the log2 N bits that separate a node from a key need a
    jump."""
    return 0.5 * math.log2(n)

