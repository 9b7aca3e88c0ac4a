"""Lookups judged against the ground truth: which nodes were in the ring when.

A node is in the ring from its `joined` record until its `failed` one (or the end). A
lookup is `correct` when it answered the node responsible for the key (ring.successor)
among the nodes in the ring when it began or when it ended (membership may change while
it runs); unanswered lookups count as wrong. `nodes` is the number of first lives (N),
`hops_model` the paper's ½·log2 N and `hops_ratio` the measured mean over it;
`hops_ideal` is the mean path length on exactly the ring of first lives with every finger
right (`ideal_hops`, brute force here, sharing no code with the node's routing in
ring.py and chord.py): a ring's ids alone put it a few percent off the model, and a
correct implementation measures the ideal. `succ_ok` is the share of nodes whose last
`pointers` report named the true successor (the ring's state at the end).
"""
from __future__ import annotations

import bisect
import random
from pathlib import Path
from typing import Any, Dict, List, Sequence, Tuple

from ..plotting import figure, finish
from .ring import BITS, RING, expected_hops, successor


def metrics(records: List[Dict[str, Any]], params: Any) -> Dict[str, float]:
    changes: List[Tuple[float, int, int]] = []  # (t, +1 joined / -1 failed, id)
    first: List[int] = []
    for r in records:
        if r.get("event") in ("joined", "failed"):
            changes.append((r["t"], 1 if r["event"] == "joined" else -1, int(r["id"], 16)))
            if r["event"] == "joined" and r.get("life") == 0:
                first.append(int(r["id"], 16))
    nodes = len(first)
    changes.sort()
    times = [c[0] for c in changes]

    def ring_at(t: float) -> List[int]:
        alive: Dict[int, int] = {}
        for _, sign, node in changes[:bisect.bisect_right(times, t)]:
            alive[node] = alive.get(node, 0) + sign
        return sorted(n for n, count in alive.items() if count > 0)

    lookups = [r for r in records if r.get("metric") == "answered"]
    correct = 0
    for r in lookups:
        if "answer" not in r:
            continue
        key, answer = int(r["key"], 16), int(r["answer"], 16)
        if answer in (successor(key, ring_at(r["began"])), successor(key, ring_at(r["t"]))):
            correct += 1
    last = {r["id"]: r for r in records if r.get("event") == "pointers"}  # each node's last
    end = set(ring_at(float("inf")))
    last = {k: r for k, r in last.items() if int(k, 16) in end}  # nodes in the ring at the end
    right = [r for r in last.values() if r["succ"] and int(r["succ"][0], 16) ==
             successor((int(r["id"], 16) + 1) % RING, ring_at(r["t"]))]  # the node after it
    out_ring = {"succ_ok": round(len(right) / len(last), 4)} if last else {}
    hops = [r["value"] for r in records if r.get("metric") == "hops"]
    out: Dict[str, float] = {"nodes": nodes, **out_ring}
    if lookups:
        out["correct"] = round(correct / len(lookups), 4)
    if hops and nodes > 1:
        out["hops_model"] = round(expected_hops(nodes), 3)
        out["hops_ratio"] = round(sum(hops) / len(hops) / expected_hops(nodes), 3)
        out["hops_ideal"] = round(ideal_hops(first), 3)
    return out


def ideal_hops(ids: Sequence[int], lookups: int = 4000, seed: int = 1) -> float:
    """The mean number of finger jumps from a random node to a random key's predecessor
    on exactly the ring `ids`, every finger right: the oracle `hops` is judged against.
    Brute force from the definition, not the implementation's helpers: node n's fingers
    are the first ids at or after n + 2^i (i < 160), kept as clockwise distances from n;
    the lookup is done where the key lies in (n, n's successor], else it jumps to the
    finger farthest along that is still short of the key."""
    ring = sorted(set(ids))
    if len(ring) < 2:
        return 0.0

    def first_from(x: int) -> int:
        i = bisect.bisect_left(ring, x % RING)
        return ring[i % len(ring)]
    reach = {n: sorted({(first_from(n + (1 << i)) - n) % RING for i in range(BITS)} - {0})
             for n in ring}
    rng = random.Random(seed)
    jumps = 0
    for _ in range(lookups):
        node, key = rng.choice(ring), rng.getrandbits(BITS)
        while True:
            gap = (key - node) % RING or RING  # the key at the node: the ring around
            if gap <= reach[node][0]:  # in (node, its successor]: found
                break
            node = (node + reach[node][bisect.bisect_left(reach[node], gap) - 1]) % RING
            jumps += 1
    return jumps / lookups


def hops_plot(deployments: List[Any], folder: Path) -> List[Path]:
    """`dht_hops.png`: mean lookup path length against N over the run's rings without
    churn (one point per trial), with the paper's ½·log2 N."""
    points: List[Tuple[int, float]] = []
    for dep in deployments:
        if dep.params.churn:
            continue
        for records in dep.records.values():
            n = sum(1 for r in records if r.get("event") == "joined" and r.get("life") == 0)
            hops = [r["value"] for r in records if r.get("metric") == "hops"]
            if n > 1 and hops:
                points.append((n, sum(hops) / len(hops)))
    if not points:
        return []
    fig, ax = figure()
    grid = [2 ** (k / 4) for k in range(4, 4 * 10 + 1)
            if 2 ** (k / 4) <= 2 * max(n for n, _ in points)]
    ax.plot(grid, [expected_hops(n) for n in grid], "-", color="gray", label="½·log2 N")
    ax.plot([n for n, _ in points], [h for _, h in points], "o", label="measured (mean)")
    ax.set_xscale("log", base=2)
    ax.set_xlabel("nodes N")
    ax.set_ylabel("lookup path length (hops)")
    return finish(fig, [ax], folder / "dht_hops.png")
