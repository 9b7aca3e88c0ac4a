"""All-destination policy route computation on a synthetic 10,000-AS Internet-like graph.

Runs the controller's own code path (ASGraph -> policy.compute) on one core and prints the
total time, the time per destination and peak memory, against the issue's targets
(<= 30 s, <= 4 GB). Baseline, measured in the same run: a bare numpy sweep doing the same
number of row operations (one np.minimum per relationship edge per sweep) with no policy
logic, i.e. the floor of this design on this machine; the ratio is the cost of the rules.

    .venv/bin/python bench/policy_routes.py [--ases 10000] [--seed 1]
"""
from __future__ import annotations

import argparse
import os

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")

import resource  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from testbed.control.policy import ASGraph, compute  # noqa: E402
from testbed.control.verify import valley_free  # noqa: E402
from testbed.model.synthetic import internet_as_graph  # noqa: E402


def bare_sweep(graph: ASGraph) -> float:
    n = len(graph.asns)
    rows = np.zeros((n, n), np.int16)
    started = time.perf_counter()
    order = graph.customers_first()
    for neighbours in ([graph.customers[x] for x in order], [graph.peers[x] for x in order],
                       [graph.providers[x] for x in reversed(order)]):
        for x, nbrs in zip(order, neighbours):
            for nbr in nbrs:
                np.minimum(rows[x], rows[nbr] + 1, out=rows[x])
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ases", type=int, default=10000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    asns, pc, peers = internet_as_graph(args.ases, args.seed)
    graph = ASGraph.build(asns, pc, peers)
    degrees = sorted((len(graph.neighbours(i)) for i in range(len(asns))), reverse=True)
    print(f"{args.ases} ASes, {len(pc)} provider-customer and {len(peers)} peer links; "
          f"max degree {degrees[0]}, median {degrees[len(degrees) // 2]}")
    base = bare_sweep(graph)
    started = time.perf_counter()
    routes = compute(graph)
    took = time.perf_counter() - started
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 ** 2
    reachable = float((routes.nh >= 0).mean())
    rng = np.random.default_rng(args.seed)
    sample = [(int(a), int(b)) for a, b in rng.integers(0, len(asns), (200, 2))]
    valley = sum(1 for x, d in sample if routes.path(x, d) and not valley_free(routes, routes.path(x, d)))
    print(f"policy.compute: {took:.1f} s (target <= 30 s), {1000 * took / args.ases:.2f} ms per "
          f"destination, peak RSS {peak_gb:.2f} GB (target <= 4 GB)")
    print(f"baseline bare row sweep: {base:.1f} s; ratio {took / base:.2f}")
    print(f"{100 * reachable:.2f}% of (AS, destination) pairs routed; {valley} of 200 sampled "
          "paths not valley-free (expected 0)")


if __name__ == "__main__":
    main()
