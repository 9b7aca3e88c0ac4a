"""A path-vector simulator whose ranking and export rules are someone else's code: the
policy-routing lab's student module (labs/policy-routing). Every AS runs the module's
`rank(route, policy)` (a sort key, smaller is better) and `export(route, neighbour,
policy)` (announce or not) until nothing changes; the grader compares the outcome with
the testbed's own Gao-Rexford routes (testbed/control/policy.py) and checks it for
valleys. Runs inside the sandbox (testbed/grading/inside.py): it imports student code.

Simulation: synchronous rounds. In each, every AS picks for every destination the best of
its own route (to itself) and what its neighbours announced in the previous round, rejecting
paths that contain itself; then offers its choice to each neighbour its `export` allows.
A state seen before means the rules oscillate: the simulation stops and says so.
"""
from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Tuple

from ..model import load_topology
from ..model.network import Network

RELATIONSHIPS = ("customer", "peer", "provider")


@dataclass(frozen=True)
class Route:
    """A route as an AS holds it: `path` from the neighbour it came from to `dest` (empty
    for the AS's own route), `relationship` of that neighbour to this AS ("customer":
    learned from a customer; "origin": its own), and the local-pref the AS's policy gives
    that neighbour (default 100)."""
    dest: int
    path: Tuple[int, ...]
    neighbour: Optional[int]
    relationship: str
    local_pref: int


@dataclass(frozen=True)
class Neighbour:
    asn: int
    relationship: str  # what the neighbour is to this AS: customer, peer or provider


@dataclass(frozen=True)
class AsPolicy:
    asn: int
    local_pref: Dict[int, int] = field(default_factory=dict)
    no_export: Tuple[int, ...] = ()


def neighbours(net: Network) -> Dict[int, List[Neighbour]]:
    out: Dict[int, Dict[int, str]] = {asn: {} for asn in net.ases}
    for link in net.links:
        if link.kind != "inter":
            continue
        a, b = net.routers[link.a].asn, net.routers[link.b].asn
        if link.relationship == "peer-peer":
            out[a][b], out[b][a] = "peer", "peer"
        elif link.relationship == "provider-customer":
            out[a][b], out[b][a] = "customer", "provider"
        else:
            out[a][b], out[b][a] = "provider", "customer"
    return {asn: [Neighbour(n, r) for n, r in sorted(ns.items())] for asn, ns in out.items()}


def policies(net: Network) -> Dict[int, AsPolicy]:
    return {asn: AsPolicy(asn, dict(a.policy.local_pref), tuple(sorted(a.policy.no_export)))
            for asn, a in net.ases.items()}


def simulate(net: Network, rank: Callable[[Route, AsPolicy], Any],
             export: Callable[[Route, Neighbour, AsPolicy], bool]) -> Dict[str, Any]:
    """{"paths": {asn: {dest: [asn, ..., dest] or None}}, "rounds": n, "converged": bool}"""
    nbrs, pol = neighbours(net), policies(net)
    asns = sorted(net.ases)
    best: Dict[int, Dict[int, Route]] = {a: {a: Route(a, (), None, "origin", 100)} for a in asns}
    seen = set()
    rounds = 0
    for rounds in range(1, 4 * len(asns) + 8):
        offers: Dict[int, Dict[int, List[Route]]] = {a: {} for a in asns}
        for a in asns:
            for n in nbrs[a]:
                for dest, route in best[a].items():
                    if export(route, n, pol[a]):
                        path = (a, *route.path)
                        if n.asn in path:
                            continue
                        mine = next(x.relationship for x in nbrs[n.asn] if x.asn == a)
                        offers[n.asn].setdefault(dest, []).append(
                            Route(dest, path, a, mine, pol[n.asn].local_pref.get(a, 100)))
        new = {a: {a: best[a][a]} for a in asns}
        for a in asns:
            for dest, routes in offers[a].items():
                if dest != a:
                    new[a][dest] = min(routes, key=lambda r: rank(r, pol[a]))
        state = tuple((a, d, r.path) for a in asns for d, r in sorted(new[a].items()))
        if new == best:
            return _result(best, asns, rounds, True)
        if state in seen:
            return _result(new, asns, rounds, False)
        seen.add(state)
        best = new
    return _result(best, asns, rounds, False)


def _result(best: Dict[int, Dict[int, Route]], asns: List[int], rounds: int,
            converged: bool) -> Dict[str, Any]:
    paths = {str(a): {str(d): ([a, *best[a][d].path] if d in best[a] else None) for d in asns}
             for a in asns}
    return {"paths": paths, "rounds": rounds, "converged": converged}


def simulate_file(topology: str, module: str) -> Dict[str, Any]:
    spec = importlib.util.spec_from_file_location("student_policy", module)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot load {module}")
    student = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(student)
    return simulate(load_topology(topology), student.rank, student.export)
