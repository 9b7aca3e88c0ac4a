"""The catalog (what the origin serves) and popularity (what clients ask for). Pure and
deterministic: every agent draws the same catalog from its params, so an edge knows the
catalog's bytes (for a cache size like '5%') without asking the origin.

Objects are `/obj/<i>`, i = 0 .. objects-1, ranked by popularity: object 0 is the most
popular under Zipf(alpha), P(i) proportional to 1 / (i + 1)^alpha. A flash crowd asks for
the catalog's last objects (`flash_ids`), which normal traffic never draws (its Zipf
covers the others): objects nobody requested before, so every edge starts cold on them.
"""
from __future__ import annotations

import bisect
import hashlib
import itertools
import math
import random
from typing import List

from . import Catalog

BLOCK = hashlib.sha256(b"cdn").digest() * 2048  # 64 KiB of filler for bodies


def sizes(catalog: Catalog) -> List[int]:
    rng = random.Random(catalog.seed)
    out = []
    for _ in range(catalog.objects):
        if catalog.size == "fixed":
            s = catalog.median_bytes
        elif catalog.size == "lognormal":
            s = rng.lognormvariate(math.log(catalog.median_bytes), catalog.sigma)
        else:
            s = catalog.median_bytes * rng.paretovariate(catalog.pareto_alpha)
        out.append(max(1, min(catalog.max_bytes, int(s))))
    return out


def body(obj: int, size: int) -> bytes:
    """The object's bytes: its id, then filler (cheap to make, and tells objects apart)."""
    head = b"object %d\n" % obj
    if size <= len(head):
        return head[:size]
    rest = size - len(head)
    return head + BLOCK * (rest // len(BLOCK)) + BLOCK[:rest % len(BLOCK)]


def cache_bytes(spec: str, catalog_bytes: int) -> int:
    """'5%' of the catalog's bytes, or a plain number of bytes."""
    if spec.endswith("%"):
        return int(catalog_bytes * float(spec[:-1]) / 100)
    return int(spec)


class Zipf:
    """Draws ranks 0..n-1 with P(i) ~ 1/(i+1)^alpha by inverting the cumulative weights."""

    def __init__(self, n: int, alpha: float):
        self.cum = list(itertools.accumulate(1.0 / (i + 1) ** alpha for i in range(n)))

    def probability(self, i: int) -> float:
        return (self.cum[i] - (self.cum[i - 1] if i else 0.0)) / self.cum[-1]

    def draw(self, rng: random.Random) -> int:
        return min(bisect.bisect_left(self.cum, rng.random() * self.cum[-1]), len(self.cum) - 1)


def flash_ids(catalog: Catalog, count: int) -> List[int]:
    """The flash crowd's objects: the catalog's last `count`, kept out of normal traffic
    (at least one object stays normal)."""
    count = min(count, catalog.objects - 1)
    return list(range(catalog.objects - count, catalog.objects))
