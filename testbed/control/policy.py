"""BGP-like route selection between ASes, for every destination at once.

Model (Gao-Rexford: L. Gao and J. Rexford, "Stable Internet routing without global
coordination", IEEE/ACM ToN 2001; the README's Routing section):
- Import: an AS ranks the routes its neighbours offer by
    1. relationship class of the neighbour: customer > peer > provider,
    2. policy score: a route through a `prefer` AS beats a neutral one, which beats a route
       through an `avoid` AS,
    3. local-pref of the neighbour (default 100, higher wins),
    4. AS-path length (including prepends),
    5. lowest neighbour ASN (the documented deterministic tie-break).
  Local-pref and prefer/avoid order routes *within* a class and never lift a route above its
  class: every policy expressible here is Gao-Rexford safe, so the stable state is unique and
  runs are reproducible. Routes whose path contains the AS itself are rejected.
- Export: own and customer routes to everyone; peer and provider routes only to customers
  (valley-free); nothing to a `no_export` neighbour; `prepend` repeats the own ASN k times
  on what is announced to that neighbour.

Computation: the stable state is reached in three sweeps over numpy rows (one row = one AS's
routes to all N destinations), so the cost is one vector operation per relationship edge
rather than a per-destination simulation:
    1. customer routes, customers before providers (topological order of the provider DAG);
    2. peer routes, from the peers' own and customer routes;
    3. provider routes, providers before customers.
Each sweep only reads rows the earlier ones finished, which is why the order is correct for
policies of this shape; the tests check it against a brute-force fixed point.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import AbstractSet, Dict, List, Optional, Sequence, Tuple

import numpy as np

from ..model.network import Network, Policy

NONE, PROVIDER, PEER, CUSTOMER, ORIGIN = 0, 1, 2, 3, 4
CLASS_NAMES = {ORIGIN: "origin", CUSTOMER: "customer", PEER: "peer", PROVIDER: "provider"}
DEFAULT_PREF = 100
UNREACHED = np.iinfo(np.int64).max
# The ranking packed into one int64, smaller is better; each field has room for every
# value it can take, so no field can spill into the next: neighbour index < 2^20 ASes;
# path length <= 11 hops per AS (each hop at most 10 prepends) < 2^24; 1000 - local-pref
# in 0..1000 < 2^10; policy score 0..2; ORIGIN - class 0..4.
LEN_SHIFT, PREF_SHIFT, SCORE_SHIFT, CLASS_SHIFT = 20, 44, 54, 56
_NO_POLICY = Policy()


@dataclass(frozen=True)
class ASGraph:
    """ASes (sorted ASNs; everything else by index into that list) and their relationships."""
    asns: Tuple[int, ...]
    customers: Tuple[Tuple[int, ...], ...]
    providers: Tuple[Tuple[int, ...], ...]
    peers: Tuple[Tuple[int, ...], ...]
    policies: Tuple[Policy, ...]

    @classmethod
    def build(cls, asns: Sequence[int], provider_customer: Sequence[Tuple[int, int]],
              peer_pairs: Sequence[Tuple[int, int]],
              policies: Optional[Dict[int, Policy]] = None) -> "ASGraph":
        order = tuple(sorted(set(asns)))
        index = {asn: i for i, asn in enumerate(order)}
        cust: List[set] = [set() for _ in order]
        prov: List[set] = [set() for _ in order]
        peer: List[set] = [set() for _ in order]
        for p, c in provider_customer:
            cust[index[p]].add(index[c])
            prov[index[c]].add(index[p])
        for a, b in peer_pairs:
            peer[index[a]].add(index[b])
            peer[index[b]].add(index[a])
        policies = policies or {}
        return cls(order, tuple(tuple(sorted(s)) for s in cust), tuple(tuple(sorted(s)) for s in prov),
                   tuple(tuple(sorted(s)) for s in peer),
                   tuple(policies.get(asn, _NO_POLICY) for asn in order))

    @classmethod
    def from_network(cls, net: Network, down: AbstractSet[int] = frozenset()) -> "ASGraph":
        """Two ASes are neighbours while at least one link between them is up."""
        pc, peers = set(), set()
        for link in net.links:
            if link.kind != "inter" or link.index in down:
                continue
            a, b = net.routers[link.a].asn, net.routers[link.b].asn
            if link.relationship == "peer-peer":
                peers.add((min(a, b), max(a, b)))
            elif link.relationship == "provider-customer":
                pc.add((a, b))
            else:
                pc.add((b, a))
        return cls.build(list(net.ases), sorted(pc), sorted(peers),
                         {asn: a.policy for asn, a in net.ases.items()})

    def index(self, asn: int) -> int:
        return self.asns.index(asn)

    def relationship(self, x: int, n: int) -> int:
        """Class of routes x learns from neighbour n (indices), NONE if not neighbours."""
        if n in self.customers[x]:
            return CUSTOMER
        if n in self.peers[x]:
            return PEER
        if n in self.providers[x]:
            return PROVIDER
        return NONE

    def neighbours(self, x: int) -> Tuple[int, ...]:
        return tuple(sorted(set(self.customers[x]) | set(self.peers[x]) | set(self.providers[x])))

    def exports(self, n: int, x: int, cls: int) -> bool:
        """Does n announce a route of class `cls` (as n sees it) to neighbour x?"""
        if self.asns[x] in self.policies[n].no_export:
            return False
        if x in self.customers[n]:
            return cls != NONE
        return cls in (ORIGIN, CUSTOMER)

    def customers_first(self) -> List[int]:
        """Topological order of the provider DAG, every AS after all of its customers."""
        pending = [len(c) for c in self.customers]
        ready = sorted(i for i, k in enumerate(pending) if k == 0)
        order: List[int] = []
        while ready:
            node = ready.pop(0)
            order.append(node)
            for p in self.providers[node]:
                pending[p] -= 1
                if pending[p] == 0:
                    ready.append(p)
            ready.sort()
        if len(order) != len(self.asns):
            raise ValueError("the provider-customer relationships contain a cycle")
        return order


@dataclass
class ASRoutes:
    """The stable state: for AS x and destination AS d (indices), the class of x's route, its
    AS-path length as x sees it, and x's next-hop AS (-1: no route; x itself for d == x)."""
    graph: ASGraph
    cls: np.ndarray  # int8 [N, N]
    length: np.ndarray  # int16 [N, N]
    nh: np.ndarray  # int32 [N, N]

    def path(self, x: int, d: int) -> Optional[List[int]]:
        """AS path (ASNs, from x to d, prepends not repeated) or None if unreachable."""
        if self.nh[x, d] < 0:
            return None
        hops = [x]
        while hops[-1] != d:
            hops.append(int(self.nh[hops[-1], d]))
            if len(hops) > len(self.graph.asns):
                raise RuntimeError("routing loop")  # cannot happen in a stable GR state
        return [self.graph.asns[i] for i in hops]


def _key(cls: np.ndarray, score: "np.ndarray | int", pref: np.ndarray, length: np.ndarray,
         nbr: np.ndarray) -> np.ndarray:
    """Ranking as one int64 per route, smaller is better (see the module docstring)."""
    key = ((ORIGIN - cls.astype(np.int64)) << CLASS_SHIFT) | \
          (np.asarray(score, np.int64) << SCORE_SHIFT) | \
          ((1000 - pref.astype(np.int64)) << PREF_SHIFT) | \
          (length.astype(np.int64) << LEN_SHIFT) | nbr.astype(np.int64)
    return np.where(cls == NONE, UNREACHED, key)


class _Solver:
    def __init__(self, graph: ASGraph):
        n = len(graph.asns)
        if n >= 2 ** 20:
            raise ValueError("at most 2^20 ASes")
        self.g = graph
        self.n = n
        self.cls = np.zeros((n, n), np.int8)
        # path lengths fit int16 (half the memory of int32 at 10,000 ASes) unless a chain of
        # thousands of ASes with prepends could exceed it
        self.length = np.zeros((n, n), np.int16 if 11 * n < 2 ** 15 else np.int32)
        self.nh = np.full((n, n), -1, np.int32)
        idx = np.arange(n)
        self.cls[idx, idx] = ORIGIN
        self.nh[idx, idx] = idx
        marked = sorted({a for p in graph.policies for a in (p.prefer | p.avoid)
                         if a in graph.asns})
        # through[X][x, d]: does x's current path to d cross AS X? Only for ASes a policy names.
        self.through = {asn: np.zeros((n, n), bool) for asn in marked}
        for asn, mat in self.through.items():
            mat[graph.index(asn), :] = True

    def _scores(self, x: int, via: np.ndarray) -> "np.ndarray | int":
        """Policy score (0 prefer .. 2 avoid) of x's routes through `via` (next hops)."""
        policy = self.g.policies[x]
        if not (policy.prefer or policy.avoid):
            return 1
        cols = np.arange(self.n)
        score = np.ones(self.n, np.int8)
        for asn in policy.prefer:
            if asn in self.through:
                score -= self.through[asn][via, cols]
        for asn in policy.avoid:
            if asn in self.through:
                score += self.through[asn][via, cols]
        return np.clip(score, 0, 2)

    def current_key(self, x: int) -> np.ndarray:
        g = self.g
        nh = self.nh[x]
        via = np.where(nh < 0, x, nh)
        pref_by = np.full(self.n, DEFAULT_PREF, np.int64)
        for asn, value in g.policies[x].local_pref.items():
            if asn in g.asns:
                pref_by[g.index(asn)] = value
        key = _key(self.cls[x], self._scores(x, via), pref_by[via], self.length[x], via)
        key[x] = 0
        return key

    def relax(self, x: int, neighbours: Sequence[int], cls_seen: int, own_only: bool) -> None:
        """Offer x the routes of `neighbours` (all of class cls_seen for x); keep the best.

        No loop check is needed: if x were on a neighbour's path, that path would reach x
        going down or across (going up would close a provider cycle), so x's own route
        there is a customer route, which beats any offer of a lower class."""
        g = self.g
        x_asn = g.asns[x]
        policy = g.policies[x]
        key = self.current_key(x)
        changed = np.zeros(self.n, bool)
        for nbr in neighbours:
            nbr_policy = g.policies[nbr]
            if x_asn in nbr_policy.no_export:
                continue
            row = self.cls[nbr]
            allowed = row >= CUSTOMER if own_only else row != NONE
            allowed[x] = False
            length = self.length[nbr] + (1 + nbr_policy.prepend.get(x_asn, 0))
            score = self._scores(x, np.full(self.n, nbr))
            fixed = ((ORIGIN - cls_seen) << CLASS_SHIFT) | \
                    ((1000 - policy.local_pref.get(g.asns[nbr], DEFAULT_PREF)) << PREF_SHIFT) | nbr
            cand = (np.asarray(score, np.int64) << SCORE_SHIFT) | \
                (length.astype(np.int64) << LEN_SHIFT) | fixed
            better = np.flatnonzero(allowed & (cand < key))
            if better.size:
                key[better] = cand[better]
                self.cls[x, better] = cls_seen
                self.length[x, better] = length[better]
                self.nh[x, better] = nbr
                changed[better] = True
        if self.through and changed.any():
            cols = np.nonzero(changed)[0]
            for asn, mat in self.through.items():
                mat[x, cols] = (x_asn == asn) | mat[self.nh[x, cols], cols]

    def solve(self) -> ASRoutes:
        g = self.g
        order = g.customers_first()
        for x in order:  # 1. customer routes climb the hierarchy
            self.relax(x, g.customers[x], CUSTOMER, own_only=True)
        for x in order:  # 2. one peer step, from peers' own and customer routes
            self.relax(x, g.peers[x], PEER, own_only=True)
        for x in reversed(order):  # 3. provider routes descend
            self.relax(x, g.providers[x], PROVIDER, own_only=False)
        return ASRoutes(g, self.cls, self.length, self.nh)


def compute(graph: ASGraph) -> ASRoutes:
    """The Gao-Rexford stable state for every (AS, destination AS) pair."""
    return _Solver(graph).solve()


@dataclass(frozen=True)
class Candidate:
    """A route AS x is offered for destination d, as the looking glass shows it."""
    neighbour: int  # ASN
    cls: int
    score: int
    pref: int
    length: int
    path: Tuple[int, ...]  # ASNs from x's neighbour to d (as x would use it)

    def rank(self) -> Tuple[int, int, int, int, int]:
        return (-self.cls, self.score, -self.pref, self.length, self.neighbour)


def candidates(routes: ASRoutes, x_asn: int, d_asn: int) -> List[Candidate]:
    """Every route x is offered toward d, best first (the same rules as `compute`)."""
    g = routes.graph
    x, d = g.index(x_asn), g.index(d_asn)
    policy = g.policies[x]
    out = []
    for nbr in g.neighbours(x):
        n_cls = int(routes.cls[nbr, d])
        if n_cls == NONE or not g.exports(nbr, x, n_cls):
            continue
        path = routes.path(nbr, d)
        if path is None or x_asn in path:
            continue
        crossed = set(path)
        score = 1 - int(bool(crossed & policy.prefer)) + int(bool(crossed & policy.avoid))
        length = int(routes.length[nbr, d]) + 1 + g.policies[nbr].prepend.get(x_asn, 0)
        out.append(Candidate(g.asns[nbr], g.relationship(x, nbr), max(0, min(2, score)),
                             policy.local_pref.get(g.asns[nbr], DEFAULT_PREF), length, tuple(path)))
    return sorted(out, key=Candidate.rank)


def why(best: Candidate, others: Sequence[Candidate]) -> str:
    """The decisive step of the ranking, for people reading the looking glass."""
    if not others:
        return "only route"
    runner = others[0]
    steps = [(best.cls != runner.cls, f"{CLASS_NAMES[best.cls]} route beats "
                                      f"{CLASS_NAMES[runner.cls]} route"),
             (best.score != runner.score, "policy prefer/avoid"),
             (best.pref != runner.pref, f"local-pref {best.pref} > {runner.pref}"),
             (best.length != runner.length, f"shorter AS path ({best.length} < {runner.length})"),
             (True, f"lowest neighbour ASN among {1 + len(others)} equal routes")]
    return next(text for decisive, text in steps if decisive)
