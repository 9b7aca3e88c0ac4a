"""CDN edge throughput: Python edges against nginx on the same load, in the same run.

The CDN's agents run as local processes on loopback addresses (overlays/local.py: the
HTTP machinery without the emulated Internet, whose link emulator would be the limit).
A load generator (aiohttp, keep-alive connections, one process per edge) requests objects
the edges hold, for `--seconds` each:

- small objects (1 KiB, 100 of them): requests/s through 1 and 2 Python edges (target
  >= 1,000/s in all), with the edges' CPU share (CPU seconds / wall seconds; 1.0 = one
  core), and the same through one nginx edge: the ratio Python/nginx;
- large objects (8 MiB): Mbit/s through one Python edge (target >= 200) and one nginx edge;
- one request trace (2,000 requests, Zipf 0.8 over 1,000 objects, ~250/s, one at a time)
  through a Python and an nginx edge at cache sizes 5%, 20% and 100%: both hit ratios.
  nginx enforces `max_size` only when its cache manager wakes (up to 10 s apart: nginx's
  ngx_http_file_cache_manager), so with a bounded cache it holds more than its budget.

    .venv/bin/python bench/cdn.py [--seconds 5]
"""
from __future__ import annotations

import argparse
import asyncio
import http.client
import multiprocessing
import random
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Tuple

import aiohttp

from overlays.cdn import CdnParams
from overlays.cdn.analysis import metrics
from overlays.cdn.catalog import Zipf
from overlays.local import LocalDeployment
from testbed.process import process_cpu_seconds

PORTS = {"dns": 5398, "http": 28080, "origin": 28000, "redirect": 28053, "control": 27300}


def params(edges: List[str], edge: str, objects: int, size: int) -> Dict:
    return {"origin": "o", "router": "r", "edges": edges, "clients": [], "edge": edge,
            "catalog": {"objects": objects, "size": "fixed", "median_bytes": size,
                        "max_bytes": size},
            "cache": {"size": "100%"}, "ports": PORTS}


def same_trace(edge: str, cache: str, trace: List[int]) -> float:
    """Hit ratio of one edge on the trace, replayed one request at a time at ~250/s."""
    p = {"origin": "o", "router": "r", "edges": ["e"], "clients": [], "edge": edge,
         "catalog": {"objects": 1000}, "cache": {"size": cache}, "ports": PORTS}
    with tempfile.TemporaryDirectory() as tmp:
        with LocalDeployment("overlays.cdn", p, ["o", "r", "e"], Path(tmp)) as cdn:
            time.sleep(1.5)
            conn = http.client.HTTPConnection(cdn.ip("e"), PORTS["http"], timeout=10)
            for obj in trace:
                conn.request("GET", f"/obj/{obj}", headers={"Host": "o.cdn.test"})
                conn.getresponse().read()
                time.sleep(0.003)
            time.sleep(0.5)
        return metrics(cdn.records(), CdnParams.model_validate(p))["hit_ratio"]


async def _load(ip: str, objects: int, seconds: float, concurrency: int,
                out: "multiprocessing.Queue") -> None:
    done, nbytes = 0, 0
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        async def worker(k: int) -> None:
            nonlocal done, nbytes
            i = k
            while time.monotonic() < end:
                async with session.get(f"http://{ip}:{PORTS['http']}/obj/{i % objects}",
                                       headers={"Host": "o.cdn.test"}) as r:
                    nbytes += len(await r.read())
                done += 1
                i += concurrency
        for i in range(objects):  # warm the cache
            async with session.get(f"http://{ip}:{PORTS['http']}/obj/{i}",
                                   headers={"Host": "o.cdn.test"}) as r:
                await r.read()
        begin = time.monotonic()
        end = begin + seconds
        await asyncio.gather(*(worker(k) for k in range(concurrency)))
        out.put((done, nbytes, time.monotonic() - begin))


def load(ip: str, objects: int, seconds: float, concurrency: int, out) -> None:
    asyncio.run(_load(ip, objects, seconds, concurrency, out))


def measure(edge: str, n_edges: int, objects: int, size: int, seconds: float,
            concurrency: int) -> Tuple[float, float, float]:
    """(requests/s, Mbit/s, edges' CPU share) over all edges."""
    names = [f"e{i}" for i in range(n_edges)]
    with tempfile.TemporaryDirectory() as tmp:
        with LocalDeployment("overlays.cdn", params(names, edge, objects, size), ["o", "r", *names], Path(tmp)) as cdn:
            time.sleep(1.5)
            pids = [cdn.procs[n].pid for n in names]
            if edge == "nginx":  # the agent is idle: nginx's processes do the work
                pids = [int(p) for p in Path(tmp).glob("*.nginx/nginx.pid")
                        for p in [p.read_text().split()[0]]]
                pids += [c for p in pids for c in _children(p)]
            out: "multiprocessing.Queue" = multiprocessing.Queue()
            procs = [multiprocessing.Process(target=load, args=(cdn.ip(n), objects, seconds,
                                                                concurrency, out))
                     for n in names]
            cpu0 = sum(process_cpu_seconds(p) for p in pids)
            for p in procs:
                p.start()
            results = [out.get(timeout=seconds + 60) for _ in procs]
            cpu = sum(process_cpu_seconds(p) for p in pids) - cpu0
            for p in procs:
                p.join()
    wall = max(r[2] for r in results)
    return (sum(r[0] for r in results) / wall, sum(r[1] for r in results) * 8 / wall / 1e6,
            cpu / wall)


def _children(pid: int) -> List[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(c) for c in text.split()]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    s = args.seconds
    print("small objects (1 KiB), keep-alive, 32 connections per edge:")
    rows = {}
    for edge, n in (("python", 1), ("python", 2), ("nginx", 1)):
        rps, _, cpu = measure(edge, n, 100, 1024, s, 32)
        rows[(edge, n)] = rps
        print(f"  {edge:6} x{n}: {rps:8.0f} requests/s   edges' CPU share {cpu:.2f}")
    best = max(rows[("python", 1)], rows[("python", 2)])
    print(f"  Python edges, best aggregate: {best:.0f}/s (target >= 1,000): "
          f"{'ok' if best >= 1000 else 'MISSED'}; ratio to one nginx edge "
          f"{rows[('python', 1)] / rows[('nginx', 1)]:.2f}")
    print("large objects (8 MiB), 4 connections, one edge:")
    mbit = {}
    for edge in ("python", "nginx"):
        _, mbit[edge], cpu = measure(edge, 1, 4, 8 << 20, s, 4)
        print(f"  {edge:6}: {mbit[edge]:8.0f} Mbit/s   edge's CPU share {cpu:.2f}")
    print(f"  Python edge (target >= 200 Mbit/s): {'ok' if mbit['python'] >= 200 else 'MISSED'}"
          f"; ratio to nginx {mbit['python'] / mbit['nginx']:.2f}")
    rng, zipf = random.Random(1), Zipf(1000, 0.8)
    trace = [zipf.draw(rng) for _ in range(2000)]
    print("one trace (2,000 requests, Zipf 0.8, 1,000 objects), hit ratio:")
    for cache in ("5%", "20%", "100%"):
        py, ng = same_trace("python", cache, trace), same_trace("nginx", cache, trace)
        print(f"  cache {cache:>4}: python {py:.3f}  nginx {ng:.3f}  "
              f"difference {100 * (ng - py):+.1f} points")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
