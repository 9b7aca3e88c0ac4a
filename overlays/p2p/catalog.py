"""Who shares what, and what is asked for (pure, the same in every agent from `seed`).

File i (ranked 0 = most popular) is shared by max(1, round(copies / (i+1)^alpha)) peers,
drawn without replacement; queries draw files from the same Zipf(alpha) popularity, so
popular files are both asked for more and easier to find — the regime in which flooding
with a small TTL already finds most of what is asked (Lv et al. 2002).
"""
from __future__ import annotations

import random
from typing import Dict, List

from ..cdn.catalog import Zipf


def name(i: int) -> str:
    return f"file{i:05d}.mp3"


def shares(peers: List[str], files: int, copies: int, alpha: float, seed: int
           ) -> Dict[str, List[int]]:
    """peer -> the files it shares."""
    rng = random.Random(f"p2p-catalog:{seed}")
    out: Dict[str, List[int]] = {p: [] for p in peers}
    ordered = sorted(peers)
    for i in range(files):
        n = min(len(ordered), max(1, round(copies / (i + 1) ** alpha)))
        for p in rng.sample(ordered, n):
            out[p].append(i)
    return out


def overlay(peers: List[str], degree: int, seed: int) -> Dict[str, List[str]]:
    """Gnutella's neighbours: each peer picks `degree` others at random (as a servent
    joining through random known hosts would); links are both ways, so most peers end
    with more than `degree`."""
    rng = random.Random(f"p2p-overlay:{seed}")
    ordered = sorted(peers)
    links: Dict[str, set] = {p: set() for p in ordered}
    for p in ordered:
        for q in rng.sample([x for x in ordered if x != p], min(degree, len(ordered) - 1)):
            links[p].add(q)
            links[q].add(p)
    return {p: sorted(q) for p, q in links.items()}


def queries(peer: str, count: int, files: int, alpha: float, seed: int) -> List[int]:
    rng = random.Random(f"p2p-queries:{seed}:{peer}")
    zipf = Zipf(files, alpha)
    return [zipf.draw(rng) for _ in range(count)]
