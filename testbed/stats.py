"""The project's one percentile, in a module that imports nothing, so every layer and
child process (the link emulator's per-second lateness) computes it the same way."""
from __future__ import annotations

import math
from typing import Iterable


def percentile(values: Iterable[float], q: float) -> float:
    """The q-th percentile (q in 0..100) by the nearest-rank method: the smallest value
    with at least q% of the values at or below it (one of the values, never interpolated).
    The one percentile of the project (p95 RTT, p90 inflation, p99 lateness)."""
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]
