"""Path selection (pure): which relays a circuit goes through (after Tor's path-spec, with
the constraints that matter on an emulated Internet).

- Every choice is weighted by the relays' consensus bandwidth.
- The guard is chosen once among Guard relays that are not exits (if any) and kept (a
  persistent guard: a client that picked a fresh entry per circuit would sooner or later
  pick one its adversary runs).
- The exit must accept the destination's address and port; middles are any relay left.
- No two relays of a circuit share a /16 or a family (one operator, one network).
- `as-aware` (Feamster & Dingledine 2004; Edman & Syverson 2009): among the exits allowed,
  keep those for which no AS lies both on the client -> guard and on the exit ->
  destination underlay paths, so that no single AS sees both ends of the circuit and can
  correlate their timing. When no exit qualifies it falls back to the vanilla choice
  (`Choice.safe` is then False).

AS paths are those of the underlay's policy routing with every link up (what BGP tells an
AS-aware client), as the harness hands them to agents; endpoints' own ASes count.
"""
from __future__ import annotations

import functools
import ipaddress
import random
from dataclasses import dataclass
from typing import Dict, FrozenSet, List, Optional, Sequence

from .directory import Descriptor

AsPaths = Dict[int, Dict[int, List[int]]]


class NoPath(RuntimeError):
    """The consensus has no relays that satisfy the constraints."""


@dataclass(frozen=True)
class Choice:
    relays: List[Descriptor]  # guard first, exit last
    shared_ases: FrozenSet[int]  # ASes on both the entry and the exit side
    safe: bool  # as-aware found an exit with no shared AS


@functools.lru_cache(maxsize=65536)
def _subnet(ip: str) -> ipaddress.IPv4Network:
    return ipaddress.IPv4Network(f"{ip}/16", strict=False)


def _related(a: Descriptor, b: Descriptor) -> bool:
    return (a.name == b.name or _subnet(a.ip) == _subnet(b.ip)
            or (a.family != "" and a.family == b.family))


def weighted(relays: Sequence[Descriptor], rng: random.Random) -> Descriptor:
    if not relays:
        raise NoPath("no relay is left to choose from")
    return rng.choices(list(relays), weights=[max(r.bandwidth, 1e-9) for r in relays])[0]


def choose_guard(consensus: Sequence[Descriptor], rng: random.Random) -> Descriptor:
    """Among Guard relays, exits only when there is nothing else: exit bandwidth is the
    scarce kind (tor's bandwidth weights make the same trade)."""
    guards = [r for r in consensus if r.guard] or list(consensus)
    return weighted([r for r in guards if not r.exit] or guards, rng)


def shared_ases(as_paths: AsPaths, client_asn: int, guard: Descriptor, exit_: Descriptor,
                dst_asn: int) -> FrozenSet[int]:
    """ASes on both the client -> guard and the exit -> destination paths."""
    entry = as_paths.get(client_asn, {}).get(guard.asn, [client_asn, guard.asn])
    leaving = as_paths.get(exit_.asn, {}).get(dst_asn, [exit_.asn, dst_asn])
    return frozenset(entry) & frozenset(leaving)


def choose(consensus: Sequence[Descriptor], guard: Descriptor, hops: int, dst_ip: str,
           dst_port: int, rng: random.Random, selection: str = "vanilla",
           as_paths: Optional[AsPaths] = None, client_asn: int = 0,
           dst_asn: Optional[int] = None) -> Choice:
    """A circuit of `hops` relays for a stream to dst_ip:dst_port, starting at `guard`."""
    as_paths = as_paths or {}
    if hops == 1:
        if not guard.accepts(dst_ip, dst_port):
            raise NoPath(f"the guard {guard.name} does not exit to {dst_ip}:{dst_port}")
        exits = [guard]
    else:
        exits = [r for r in consensus if r.accepts(dst_ip, dst_port) and not _related(r, guard)]
    if not exits:
        raise NoPath(f"no exit accepts {dst_ip}:{dst_port} apart from the guard's network")

    def shared(e: Descriptor) -> FrozenSet[int]:
        return (shared_ases(as_paths, client_asn, guard, e, dst_asn)
                if dst_asn is not None else frozenset())
    safe = True
    if selection == "as-aware" and dst_asn is not None:
        clean = [e for e in exits if not shared(e)]
        safe = bool(clean)
        exits = clean or exits
    exit_ = guard if hops == 1 else weighted(exits, rng)
    chosen = [guard] if hops == 1 else [guard, exit_]
    for _ in range(hops - 2):
        middles = [r for r in consensus if not any(_related(r, c) for c in chosen)]
        chosen.insert(-1, weighted(middles, rng))
    return Choice(chosen, shared(exit_), safe)
