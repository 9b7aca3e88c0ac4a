"""The all-pairs RTT matrix (the mini-Internet's connectivity matrix, with RTTs): every
host probes every other host, all sources at once, and the table and CSV are made of it.

Probing is paced by a budget for the whole network, not per source: every probe crosses
~8 userspace switches and emulated links each way, so the probes themselves load the two
cores. On internet-50 (9,900 pairs, one probe each), measured RTT minus configured RTT at
the median: 74 ms at 200 probes/s (49 s), 97 ms at 400/s (25 s), 161 ms at 1,000/s (10 s,
and a cold first round then loses probes to 1 s timeouts); ~20 ms of that is there for a
single quiet pair. The default, 400/s, finishes in ~25 s. Pairs left unanswered get
`retries` more rounds (a cold network loses the first packets of a flow while switches
set it up), so "unreachable" means unanswered `1 + retries` times.
"""
from __future__ import annotations

import csv
from concurrent.futures import ThreadPoolExecutor
from typing import IO, Dict, List, Optional, Tuple

from ..model.network import Network
from ..underlay.api import UnderlayAPI
from .probes import PingResult

Pair = Tuple[str, str]

CSV_FIELDS = ["src", "dst", "src_asn", "dst_asn", "sent", "received", "loss", "rtt_min_ms",
              "rtt_median_ms", "rtt_mean_ms", "rtt_max_ms"]


def rtt_matrix(underlay: UnderlayAPI, hosts: Optional[List[str]] = None, kind: str = "icmp",
               count: int = 1, budget: float = 400.0, timeout: float = 2.0,
               retries: int = 2) -> Dict[Pair, PingResult]:
    """Every ordered pair of `hosts` (default: all): `count` probes of `kind` each."""
    net: Network = underlay.net
    hosts = sorted(hosts or net.hosts)
    with ThreadPoolExecutor(max_workers=16) as pool:  # forking probers: mostly waiting
        probers = dict(zip(hosts, pool.map(underlay.prober, hosts)))
    todo = {src: [d for d in hosts if d != src] for src in hosts}
    matrix: Dict[Pair, PingResult] = {}
    for _ in range(1 + retries):
        sources = [s for s in hosts if todo.get(s)]
        if not sources:
            break
        rate = max(budget / len(sources), 1.0)
        streams = {src: probers[src].start("ping", dst=[net.hosts[d].ip for d in todo[src]],
                                           kind=kind, count=count, rate=rate, timeout=timeout,
                                           quiet=True) for src in sources}
        by_ip = {net.hosts[h].ip: h for h in hosts}
        for src, stream in streams.items():
            for ip, rtts in stream.done()["rtt_ms"].items():
                matrix[(src, by_ip[ip])] = PingResult(ip, rtts)
        todo = {s: [d for d in todo[s] if not matrix[(s, d)].received] for s in sources}
    return matrix


def write_csv(net: Network, matrix: Dict[Pair, PingResult], out: IO[str]) -> None:
    writer = csv.writer(out)
    writer.writerow(CSV_FIELDS)
    for (src, dst), result in sorted(matrix.items()):
        stats = result.stats()
        writer.writerow([src, dst, net.hosts[src].asn, net.hosts[dst].asn, result.sent,
                         result.received, round(result.loss, 4),
                         *("" if stats[k] is None else round(stats[k], 3)  # type: ignore[arg-type]
                           for k in ("min", "median", "mean", "max"))])
