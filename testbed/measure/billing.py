"""Transit bills as ISPs compute them: 95th-percentile billing on provider links, peers
settlement-free (or a flat cost), from the bytes counted on every inter-AS link.

The industry's rule: the provider samples the link's rate every 5 minutes over a month
(about 8,640 samples), drops the top 5% (432 samples, 36 hours of bursts) and bills the
highest sample left, at a price per Mbit/s per month; a link's rate is the larger of its
two directions. An experiment lasts seconds, so its bins are seconds long (`bin`, default
1 s): the bill is what a month shaped like the run would cost. Each AS pays for the
provider links on which it is the customer, is paid for those on which it is the
provider, and pays each peering's flat `peering_cost` (the topology's `price` and
`peering_cost`). A `reprice` during the run bills the month pro rata: each price times
the 95th percentile of its own period, weighted by the period's share of the run. Pure:
the counters come in as (time, bytes a->b, bytes b->a) samples.

Who carries what for whom, from the per-class counters (an overlay's traffic, by its
ports): `class_mbytes` per AS pair and class, and `unpaid_mbytes`: overlay bytes an AS
took in from one provider or peer and sent on to another, the valley-free rule's
forbidden transit, which an overlay relay inside the AS creates: nobody pays the AS for
it (it pays its providers both ways).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Sequence, Tuple

from ..model.network import Link, Network

Sample = Tuple[float, int, int]  # (seconds since T=0, bytes a->b so far, bytes b->a so far)
# (seconds since T=0, class -> [bytes a->b, bytes b->a] so far)
ClassSample = Tuple[float, Dict[str, Sequence[int]]]
PriceChange = Tuple[float, int, float]  # (seconds since T=0, link index, new price)


def percentile95(rates: Sequence[float]) -> float:
    """The billed rate: samples sorted, the top 5% (rounded down) dropped, the highest
    left. 8,640 samples: the 433rd highest; 20 samples: the 2nd highest; under 20: the
    highest."""
    if not rates:
        return 0.0
    ordered = sorted(rates)
    return ordered[len(ordered) - 1 - int(len(ordered) * 0.05)]


def binned_mbit(samples: Sequence[Sample], bin_s: float) -> Tuple[List[float], List[float]]:
    """Mbit/s per bin of `bin_s` seconds, each direction, from cumulative counter samples:
    each bin ends at its last sample, and its rate is the bytes since the previous bin's
    last sample over the time between the two (sampling jitter does not empty a bin)."""
    last: Dict[int, Sample] = {}
    ordered = sorted(samples)
    for s in ordered:
        last[int((s[0] - ordered[0][0]) // bin_s)] = s
    ends = [last[k] for k in sorted(last)]
    ab, ba = [], []
    for (t0, a0, b0), (t1, a1, b1) in zip(ends, ends[1:]):
        if t1 > t0:
            ab.append((a1 - a0) * 8 / (t1 - t0) / 1e6)
            ba.append((b1 - b0) * 8 / (t1 - t0) / 1e6)
    return ab, ba


@dataclass
class Bill:
    """One AS's month: what it pays its providers and for peerings, what its customers
    pay it, per link."""
    asn: int
    pays: float = 0.0
    paid: float = 0.0
    lines: List[str] = field(default_factory=list)

    @property
    def net_cost(self) -> float:
        return self.pays - self.paid


def _customer_provider(net: Network, link: Link) -> Tuple[int, int]:
    a, b = net.asn_of(link.a), net.asn_of(link.b)
    return (b, a) if link.relationship == "provider-customer" else (a, b)


def _billed(rows: Sequence[Sample], bin_s: float) -> float:
    ab, ba = binned_mbit(rows, bin_s)
    return max(percentile95(ab), percentile95(ba))


def link_charge(rows: Sequence[Sample], bin_s: float, price: float,
                changes: Sequence[Tuple[float, float]] = ()) -> Tuple[float, float]:
    """(billed Mbit/s over all the samples, the month's amount) of one provider link,
    `changes` (time, new price) splitting the samples into pro-rata periods."""
    rows = sorted(rows)
    if len(rows) < 2:
        return 0.0, 0.0
    start, end = rows[0][0], rows[-1][0]
    later = []  # (from, price) of the changes inside the samples
    for t, new in sorted(changes):
        if t <= start:
            price = new
        elif t < end:
            later.append((t, new))
    bounds = [start] + [t for t, _ in later] + [end]
    prices = [price] + [p for _, p in later]
    amount = sum(_billed([r for r in rows if lo <= r[0] <= hi], bin_s) * p * (hi - lo)
                 / (end - start) for lo, hi, p in zip(bounds, bounds[1:], prices))
    return _billed(rows, bin_s), amount


def bills(net: Network, samples: Dict[int, Sequence[Sample]], bin_s: float,
          prices: Sequence[PriceChange] = ()) -> Dict[int, Bill]:
    """Every AS's bill from the inter-AS links' samples (link index -> samples), with the
    run's price changes."""
    out = {asn: Bill(asn) for asn in net.ases}
    for link in net.links:
        if link.kind != "inter":
            continue
        if link.relationship == "peer-peer":
            if link.peering_cost:
                for asn in (net.asn_of(link.a), net.asn_of(link.b)):
                    out[asn].pays += link.peering_cost
                    out[asn].lines.append(f"peering {link.a}-{link.b}: "
                                          f"{link.peering_cost:g} flat")
            continue
        changes = [(t, price) for t, index, price in prices if index == link.index]
        if not link.price and not changes:
            continue
        rate, amount = link_charge(samples.get(link.index, []), bin_s, link.price or 0.0,
                                   changes)
        customer, provider = _customer_provider(net, link)
        out[customer].pays += amount
        out[provider].paid += amount
        line = f"{link.a}-{link.b}: {rate:.3f} Mbit/s x {link.price or 0:g}" + \
            (" (repriced: pro rata)" if changes else "")
        out[customer].lines.append(line)
        out[provider].lines.append(line)
    return out


def sent_mbytes(net: Network, samples: Dict[int, Sequence[Sample]]) -> Dict[Tuple[int, int], float]:
    """(AS a, AS b) -> megabytes a sent b over the samples, summed over their links."""
    sent: Dict[Tuple[int, int], float] = {}
    for link in net.links:
        rows = sorted(samples.get(link.index, []))
        if len(rows) < 2:
            continue
        a, b = net.asn_of(link.a), net.asn_of(link.b)
        sent[(a, b)] = sent.get((a, b), 0.0) + (rows[-1][1] - rows[0][1]) / 1e6
        sent[(b, a)] = sent.get((b, a), 0.0) + (rows[-1][2] - rows[0][2]) / 1e6
    return sent


def class_mbytes(net: Network, samples: Dict[int, Sequence[ClassSample]]
                 ) -> Dict[Tuple[int, int, str], float]:
    """(AS a, AS b, class) -> megabytes of that class a sent b over the samples."""
    sent: Dict[Tuple[int, int, str], float] = {}
    for link in net.links:
        rows = sorted(samples.get(link.index, []), key=lambda r: r[0])
        if len(rows) < 2:
            continue
        a, b = net.asn_of(link.a), net.asn_of(link.b)
        first, last = rows[0][1], rows[-1][1]
        for cls, (ab, ba) in last.items():
            ab0, ba0 = first.get(cls, (0, 0))
            sent[(a, b, cls)] = sent.get((a, b, cls), 0.0) + (ab - ab0) / 1e6
            sent[(b, a, cls)] = sent.get((b, a, cls), 0.0) + (ba - ba0) / 1e6
    return sent


def unpaid_mbytes(net: Network, by_class: Dict[Tuple[int, int, str], float],
                  classes: Sequence[str]) -> Dict[int, float]:
    """Per AS: the `classes`' megabytes it took in from one provider or peer and sent on
    to another (per class and entry neighbour, the smaller of what came in there and what
    left to the others; summed, at most what left). An estimate: counters cannot tell a
    relay from a member that talks to both, but an AS with one non-customer neighbour,
    like a stub talking to its provider, gets 0."""
    from ..control.policy import ASGraph
    graph = ASGraph.from_network(net)
    paying = {asn: [graph.asns[n] for n in graph.providers[i] + graph.peers[i]]
              for i, asn in enumerate(graph.asns)}  # AS -> its providers and peers
    out = {}
    for asn in net.ases:
        total = 0.0
        for cls in classes:
            took = {x: by_class.get((x, asn, cls), 0.0) for x in paying[asn]}
            sent = {y: by_class.get((asn, y, cls), 0.0) for y in paying[asn]}
            relayed = sum(min(took[x], sum(v for y, v in sent.items() if y != x)) for x in took)
            total += min(relayed, sum(sent.values()))
        out[asn] = total
    return out
