"""All-pairs reachability between hosts: the probe matrix (measure.matrix), reduced to
yes/no per pair and summarised per AS pair.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Dict, List, Tuple

from ..measure.matrix import rtt_matrix
from ..model.network import Network
from .api import UnderlayAPI

Matrix = Dict[Tuple[str, str], bool]


def host_matrix(underlay: UnderlayAPI) -> Matrix:
    """(src host, dst host) -> answered, for every ordered pair of hosts."""
    return {pair: result.received > 0 for pair, result in rtt_matrix(underlay).items()}


def as_summary(net: Network, matrix: Matrix) -> Dict[Tuple[int, int], Tuple[int, int]]:
    """(src asn, dst asn) -> (reachable host pairs, host pairs)."""
    counts: Dict[Tuple[int, int], List[int]] = defaultdict(lambda: [0, 0])
    for (src, dst), ok in matrix.items():
        cell = counts[(net.hosts[src].asn, net.hosts[dst].asn)]
        cell[0] += int(ok)
        cell[1] += 1
    return {key: (v[0], v[1]) for key, v in counts.items()}
