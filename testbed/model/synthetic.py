"""Seeded generator of Internet-like tiered topologies (used for internet-50).

Shape, after the usual picture of the AS hierarchy: a clique of tier-1s peering with each
other; tier-2s buying transit from one or two tier-1s and peering among themselves now
and then; stubs buying from one or two tier-2s (multihomed), chosen with preferential
attachment so provider degrees are heavy-tailed. Each AS is a ring (or line) of routers
with random IGP costs; hosts hang off the routers of stubs and tier-2s, and one off each
tier-1. The same (sizes, seed) always gives the same file.

    python -m testbed.model.synthetic --ases 50 --seed 1 > topologies/internet-50.yaml
    python -m testbed.model.synthetic --ases 200 --seed 1 > topologies/internet-200.yaml
"""
from __future__ import annotations

import argparse
import random
from typing import Dict, List, Tuple

import yaml


def generate(n_ases: int = 50, seed: int = 1, name: str = "internet-50") -> Dict:
    rng = random.Random(seed)
    n_t1 = max(2, round(n_ases * 0.06))
    n_t2 = max(1, round(n_ases * 0.24))
    n_stub = n_ases - n_t1 - n_t2
    tiers: List[Tuple[int, str, int, int]] = []  # (asn, tier, routers, hosts)
    tiers += [(i + 1, "tier1", 4, 2) for i in range(n_t1)]
    tiers += [(100 + i, "tier2", 3, 2) for i in range(n_t2)]
    tiers += [(1000 + i, "stub", 2, 2) for i in range(n_stub)]
    ases = []
    for asn, tier, n_routers, n_hosts in tiers:
        routers = [f"r{i + 1}" for i in range(n_routers)]
        links = [{"a": routers[i], "b": routers[i + 1], "cost": rng.randint(1, 10),
                  "delay": f"{rng.randint(1, 5)}ms"} for i in range(n_routers - 1)]
        if n_routers > 2:
            links.append({"a": routers[-1], "b": routers[0], "cost": rng.randint(1, 10),
                          "delay": f"{rng.randint(1, 5)}ms"})
        hosts = [{"name": f"h{i + 1}", "router": routers[i % n_routers]} for i in range(n_hosts)]
        ases.append({"asn": asn, "name": f"{tier}-{asn}", "routers": routers, "links": links,
                     "hosts": hosts})
    by_tier = {t: [a for a, tt, _, _ in tiers if tt == t] for t in ("tier1", "tier2", "stub")}
    size = {asn: n for asn, _, n, _ in tiers}
    inter: List[Dict] = []

    def router(asn: int) -> str:
        return f"as{asn}.r{rng.randint(1, size[asn])}"

    def connect(a: int, b: int, relationship: str, lo: int, hi: int) -> None:
        inter.append({"a": router(a), "b": router(b), "relationship": relationship,
                      "delay": f"{rng.randint(lo, hi)}ms"})

    t1 = by_tier["tier1"]
    for i, a in enumerate(t1):
        for b in t1[i + 1:]:
            connect(a, b, "peer-peer", 10, 30)
    degree = {asn: 1 for asn in by_tier["tier2"]}
    for asn in by_tier["tier2"]:
        for provider in rng.sample(t1, k=min(len(t1), rng.choice((1, 2)))):
            connect(provider, asn, "provider-customer", 5, 20)
    t2 = by_tier["tier2"]
    for _ in range(len(t2) // 2):
        a, b = rng.sample(t2, 2)
        if not any({l["a"].split(".")[0], l["b"].split(".")[0]} == {f"as{a}", f"as{b}"} for l in inter):
            connect(a, b, "peer-peer", 3, 15)
    for asn in by_tier["stub"]:
        k = rng.choice((1, 2, 2))
        chosen: List[int] = []
        while len(chosen) < min(k, len(t2)):
            pick = rng.choices(t2, weights=[degree[p] for p in t2])[0]
            if pick not in chosen:
                chosen.append(pick)
        for provider in chosen:
            degree[provider] += 1
            connect(provider, asn, "provider-customer", 2, 10)
    return {"name": name,
            "description": f"Synthetic tiered Internet: {n_t1} tier-1s, {n_t2} tier-2s, "
                           f"{n_stub} stubs (seed {seed}); made by testbed.model.synthetic",
            "defaults": {"link": {"delay": "1ms"}},
            "ases": ases, "inter_as_links": inter}


def internet_as_graph(n_ases: int, seed: int = 1, n_tier1: int = 12,
                      transit_share: float = 0.15) -> Tuple[List[int], List[Tuple[int, int]],
                                                            List[Tuple[int, int]]]:
    """An AS-level Internet-like graph (no routers): ASNs, (provider, customer), peer pairs.

    A clique of tier-1s; transit ASes buying from 1-3 earlier ASes and stubs from 1-2,
    both chosen with preferential attachment (weight = current degree + 1), which gives
    the heavy-tailed degrees of the real AS graph; peerings among transit ASes. Providers
    are always earlier ASes, so the hierarchy is acyclic."""
    rng = random.Random(seed)
    asns = list(range(1, n_ases + 1))
    tier1 = asns[:n_tier1]
    n_transit = int(n_ases * transit_share)
    transit = asns[n_tier1:n_tier1 + n_transit]
    last_transit = n_tier1 + n_transit  # ASNs 1..n are positions, so a comparison suffices
    degree = {asn: 1 for asn in asns}
    pc: List[Tuple[int, int]] = []
    peers = {(a, b) for i, a in enumerate(tier1) for b in tier1[i + 1:]}
    for a, b in peers:
        degree[a] += 1
        degree[b] += 1
    pool: List[int] = list(tier1)  # possible providers so far
    weights: List[int] = [degree[a] for a in pool]
    for asn in asns[n_tier1:]:
        is_transit = asn <= last_transit
        k = rng.choice((1, 2, 2, 3)) if is_transit else rng.choice((1, 1, 2))
        chosen = set()
        while len(chosen) < min(k, len(pool)):
            chosen.add(rng.choices(pool, weights=weights)[0])
        for provider in sorted(chosen):
            pc.append((provider, asn))
            degree[provider] += 1
            degree[asn] += 1
            weights[pool.index(provider)] = degree[provider]
        if is_transit:
            pool.append(asn)
            weights.append(degree[asn])
    related = {tuple(sorted(p)) for p in pc} | peers
    for _ in range(int(n_ases * 0.3)):
        a, b = rng.sample(transit, 2) if len(transit) > 1 else (None, None)
        if a is not None and tuple(sorted((a, b))) not in related:
            peers.add(tuple(sorted((a, b))))
            related.add(tuple(sorted((a, b))))
    return asns, pc, sorted(peers)


def to_yaml(topology: Dict, made_by: str = "python -m testbed.model.synthetic") -> str:
    header = ("# yaml-language-server: $schema=topology.schema.json\n"
              f"# Generated by `{made_by}`: edit the generator, not this file.\n")
    return header + yaml.safe_dump(topology, sort_keys=False, default_flow_style=None, width=100)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ases", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--name", default=None)
    args = parser.parse_args()
    print(to_yaml(generate(args.ases, args.seed, args.name or f"internet-{args.ases}")), end="")


if __name__ == "__main__":
    main()
