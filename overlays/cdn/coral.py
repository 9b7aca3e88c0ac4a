"""CoralCDN's index, the pure parts: RTT clusters, XOR closeness, the sloppy store.

Coral (Freedman et al., NSDI 2004) keeps a DHT not of content but of pointers: key =
SHA-1 of a URL, values = the edges that hold (or are fetching) it. Each node belongs to
clusters by RTT: with levels [20, 60] ms, its level-2 cluster is the edges within 20 ms,
level 1 those within 60 ms, level 0 every edge; it searches the nearest cluster first, so
it finds a copy nearby before one far away, and puts its pointer into every level.

Membership here is complete (every edge knows every other from the deployment, and
measures its RTT with the probes): a key's home in a cluster is the member whose ID is
closest to the key by XOR, reached in one hop, where Kademlia at Internet scale would
route in O(log n) hops; the closeness metric, the spill and the cluster search are
Coral's. "Sloppy": a node holding `max_values` pointers for a key is *full* and refuses
more, so the put goes to the next-closest node, spreading a hot key's pointers instead of
piling them on one node (Coral's answer to hot spots).
"""
from __future__ import annotations

import hashlib
from typing import Dict, Iterable, List, Sequence


def ident(text: str) -> int:
    """160-bit ID of a node (its address) or a key (a URL)."""
    return int.from_bytes(hashlib.sha1(text.encode()).digest(), "big")


def by_closeness(key: str, nodes: Iterable[str]) -> List[str]:
    """Nodes, closest to the key by XOR distance first."""
    k = ident(key)
    return sorted(nodes, key=lambda n: ident(n) ^ k)


def clusters(me: str, rtt_ms: Dict[str, float], levels_ms: Sequence[float],
             edges: Sequence[str]) -> List[List[str]]:
    """My clusters, nearest (smallest threshold) first, ending with every edge; a
    cluster equal to the one before it is skipped (nothing new to search there)."""
    out: List[List[str]] = []
    for limit in sorted(levels_ms):
        members = sorted({me, *(e for e in edges if rtt_ms.get(e, float("inf")) <= limit)})
        if not out or members != out[-1]:
            out.append(members)
    everyone = sorted({me, *edges})
    if not out or everyone != out[-1]:
        out.append(everyone)
    return [c for c in out if len(c) > 1 or c == everyone]


class Store:
    """What this node keeps for the keys whose home it is: key -> holders, in order."""

    def __init__(self, max_values: int):
        self.max_values = max_values
        self.values: Dict[str, List[str]] = {}

    def put(self, key: str, holder: str) -> bool:
        """Add a pointer; False if full for this key (the putter tries the next node)."""
        holders = self.values.setdefault(key, [])
        if holder in holders:
            return True
        if len(holders) >= self.max_values:
            return False
        holders.append(holder)
        return True

    def get(self, key: str) -> List[str]:
        return list(self.values.get(key, []))
