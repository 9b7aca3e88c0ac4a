"""The CDN's metrics and plots, from its agents' records (the harness knows nothing of
CDNs). Definitions:

- `requests`: client requests (flash crowd included); `failed`: the share that got no
  object (timeout, connection refused, DNS, HTTP error, `overload`);
- `hit_ratio`: of the requests clients made to edges, the share served from the edge's
  cache (`hit`; a request that waited for the same object's fetch under way counts as a
  hit, as in nginx); `revalidated` (a 304 from the origin) and `peer` (from another edge,
  Coral) are not hits. `byte_hit_ratio`: the same in bytes;
- `oracle_hit_ratio`: an offline simulation of each edge's cache (same capacity and
  policy, LRU or LFU) on the *same* requests: lookups in the edge's arrival order, each
  object stored when its fetch completed (a real cache cannot store it sooner; with a
  cache of a few objects and fetches of tens of ms, storing at arrival instead would
  differ by points), all edges together; `oracle_gap_points` = |hit_ratio -
  oracle_hit_ratio| x 100, the run's own correctness check (object sizes from the
  catalog; Python edges without Coral; no expiry during the run);
  `oracle_instant_hit_ratio`: the textbook simulation, each object stored at its first
  request (what fetch times cost the hit ratio: the difference);
- `origin_requests`, `origin_bytes`: what the origin served (200s and 304s), and
  `offload` = 1 - origin bytes / bytes clients received;
- `origin_fetches_per_object`: the origin's 200s per distinct object it served;
  `flash_origin_fetches_per_object`: the same over the flash crowd's objects;
- `ttfb_median_ms`, `ttfb_p95_ms`, `total_median_ms` over successful requests,
  `dns_lookup_median_ms` over those that asked the router (not answered from the client's
  cache), and `ttfb_median_ms.as<N>` per client AS;
- `dns_share.<edge>`: the share of the router's answers naming each edge;
  `edge_requests.<edge>`: client requests each edge served;
- `outage_max_s`, `outage_mean_s`: per client that saw a failure, from the first failed
  request's start to the next successful one's (the longest run per client);
  `recovery_lag_max_s`: how long after the DNS answer used by the last failed request
  expired the client succeeded (small: clients recover when their TTL runs out).
"""
from __future__ import annotations

import re
import statistics
from collections import defaultdict
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Tuple

from ..spec import Deployed
from . import CdnParams
from .catalog import cache_bytes, flash_ids, sizes

AS_OF_HOST = re.compile(r"^as([0-9]+)\.")


def _percentile(values: List[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, -(-len(ordered) * q // 100) - 1)] if q < 100 else ordered[-1]


def oracle_hits(events: Iterable[Tuple[str, str, int]], capacity: int, policy: str) -> int:
    """Hits of a byte-bounded LRU or LFU cache on `events` [("get" | "put", key, size)],
    simulated independently of overlays/cdn/cache.py (a plain scan for the victim: slow,
    obvious). A get of a key absent but fetched already (a get missed it, its put is still
    to come) is a hit: it waits for that fetch. Without puts, every miss stores at once
    (the textbook trace simulation)."""
    stored: Dict[str, int] = {}  # key -> size
    last_use: Dict[str, int] = {}
    uses: Dict[str, int] = {}
    pending = set()
    timed = any(kind == "put" for kind, _, _ in events)
    used, hits = 0, 0
    for clock, (kind, key, size) in enumerate(events):
        if kind == "get":
            if key in stored:
                hits += 1
                last_use[key], uses[key] = clock, uses[key] + 1
                continue
            if key in pending:
                hits += 1
                continue
            if timed:
                pending.add(key)
                continue
        pending.discard(key)
        if size > capacity:
            continue
        while used + size > capacity:
            if policy == "lru":
                victim = min(stored, key=lambda k: last_use[k])
            else:
                victim = min(stored, key=lambda k: (uses[k], last_use[k]))
            used -= stored.pop(victim)
        stored[key], last_use[key], uses[key] = size, clock, 1
        used += size
    return hits


def _served(records: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Edge records of client requests (not peers')."""
    return [r for r in records if "edge_req" in r and not r.get("peer")]


def _oracle(served: List[Dict[str, Any]],
            params: CdnParams) -> Optional[Tuple[float, float]]:
    """Each edge's cache replayed on its requests: (hit ratio with lookups in arrival
    order and objects stored when their fetch completed, the edge's clock ordering both;
    hit ratio of the textbook simulation, storing each object at its first request)."""
    if params.edge != "python" or params.coral.enabled or not served:
        return None
    catalog = sizes(params.catalog)
    capacity = cache_bytes(params.cache.size, sum(catalog))
    per_edge: Dict[str, List[Tuple[int, str, str, int]]] = defaultdict(list)
    gets = 0
    for r in served:
        if r["cache"] == "error":
            continue
        size = catalog[int(r["edge_req"].rsplit("/", 1)[-1])]
        per_edge[r["host"]].append((r["seq"], "get", r["edge_req"], size))
        gets += 1
        if r.get("stored") is not None:
            per_edge[r["host"]].append((r["stored"], "put", r["edge_req"], size))
    if not gets:
        return None
    timed = sum(oracle_hits([e[1:] for e in sorted(events)], capacity, params.cache.policy)
                for events in per_edge.values())
    instant = sum(oracle_hits([e[1:] for e in sorted(events) if e[1] == "get"], capacity,
                              params.cache.policy) for events in per_edge.values())
    return timed / gets, instant / gets


def _outages(requests: List[Dict[str, Any]]) -> Tuple[List[float], List[float]]:
    """Per client: (longest failure run, recovery lag after its cached answer expired).
    A run still failing at the client's last request counts until that request's end:
    a client that never recovers had the longest outage, not none."""
    outages, lags = [], []
    by_host: Dict[str, List[Dict[str, Any]]] = defaultdict(list)
    for r in requests:
        if r.get("error") != "overload":
            by_host[r["host"]].append(r)
    for rs in by_host.values():
        rs.sort(key=lambda r: r["t"] - r.get("elapsed_ms", 0) / 1000)
        longest, since, last_fail = 0.0, None, None
        for r in rs:
            began = r["t"] - r.get("elapsed_ms", 0) / 1000
            if "error" in r:
                since = began if since is None else since
                last_fail = r
            elif since is not None:
                longest = max(longest, began - since)
                if last_fail is not None and "expires_in" in last_fail:
                    expiry = last_fail["t"] - last_fail["elapsed_ms"] / 1000 + \
                        last_fail["expires_in"]
                    lags.append(max(0.0, began - expiry))
                since = None
        if since is not None:
            longest = max(longest, rs[-1]["t"] - since)
        if longest:
            outages.append(longest)
    return outages, lags


def metrics(records: List[Dict[str, Any]], params: CdnParams) -> Dict[str, float]:
    out: Dict[str, float] = {}
    requests = [r for r in records if "cdn_req" in r]
    ok = [r for r in requests if r.get("status") == 200]
    out["requests"] = len(requests)
    if requests:
        out["failed"] = 1 - len(ok) / len(requests)
    served = _served(records)
    if served:
        out["hit_ratio"] = sum(r["cache"] == "hit" for r in served) / len(served)
        sent = sum(r["bytes"] for r in served)
        if sent:
            out["byte_hit_ratio"] = sum(r["bytes"] for r in served if r["cache"] == "hit") / sent
        for status in ("miss", "revalidated", "peer"):
            out[f"{status}_ratio"] = sum(r["cache"] == status for r in served) / len(served)
    oracle = _oracle(served, params)
    if oracle is not None and "hit_ratio" in out:
        out["oracle_hit_ratio"], out["oracle_instant_hit_ratio"] = oracle
        out["oracle_gap_points"] = abs(out["hit_ratio"] - oracle[0]) * 100
    origin = [r for r in records if "origin_req" in r and r.get("status") in (200, 304)]
    out["origin_requests"] = len(origin)
    out["origin_bytes"] = sum(r["bytes"] for r in origin)
    received = sum(r.get("bytes", 0) for r in ok)
    if received and params.workload.via == "cdn":
        out["offload"] = 1 - out["origin_bytes"] / received
    fetched = [r["origin_req"] for r in origin if r["status"] == 200]
    if fetched:
        out["origin_fetches_per_object"] = len(fetched) / len(set(fetched))
    if params.workload.flash:
        hot = {f"/obj/{i}" for i in flash_ids(params.catalog, params.workload.flash.objects)}
        asked = {f"/obj/{r['cdn_req']}" for r in requests if r.get("flash")}
        if asked:
            out["flash_origin_fetches_per_object"] = \
                sum(p in hot for p in fetched) / len(asked & hot)
    if ok:
        for key, name in (("ttfb_ms", "ttfb"), ("total_ms", "total"),
                          ("dns_ms", "dns_lookup")):
            values = [r[key] for r in ok if r.get(key)]  # dns: the lookups made
            if values:
                out[f"{name}_median_ms"] = statistics.median(values)
        out["ttfb_p95_ms"] = _percentile([r["ttfb_ms"] for r in ok], 95)
        by_as: Dict[str, List[float]] = defaultdict(list)
        for r in ok:
            m = AS_OF_HOST.match(r["host"])
            if m:
                by_as[m.group(1)].append(r["ttfb_ms"])
        for asn, values in by_as.items():
            out[f"ttfb_median_ms.as{asn}"] = statistics.median(values)
    answers = [r.get("dns_answer", r.get("redirect")) for r in records
               if ("dns_answer" in r or "redirect" in r)]
    answers = [a for a in answers if a]
    for edge in params.edges:
        if answers:
            out[f"dns_share.{edge}"] = answers.count(edge) / len(answers)
        out[f"edge_requests.{edge}"] = sum(r["host"] == edge for r in served)
    outages, lags = _outages(requests)
    out["outage_max_s"] = max(outages, default=0.0)
    if outages:
        out["outage_mean_s"] = statistics.fmean(outages)
    if lags:
        out["recovery_lag_max_s"] = max(lags)
    return out


def plots(deployments: List[Deployed], folder: Path) -> List[Path]:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    made: List[Path] = []
    per_dep = [(d, [metrics(rs, d.params) for rs in d.records.values()]) for d in deployments]
    per_dep = [(d, ms) for d, ms in per_dep if ms and any("hit_ratio" in m for m in ms)]
    if per_dep:
        fig, ax = plt.subplots(figsize=(max(5, 1.2 * len(per_dep) + 2), 4))
        xs = range(len(per_dep))
        for offset, key, label in ((-0.27, "hit_ratio", "hit ratio"),
                                   (0.0, "byte_hit_ratio", "byte hit ratio"),
                                   (0.27, "oracle_hit_ratio", "offline oracle (hits)")):
            values = [statistics.fmean([m[key] for m in ms if key in m] or [0.0])
                      for _, ms in per_dep]
            ax.bar([x + offset for x in xs], values, width=0.27, label=label)
        ax.set_xticks(list(xs), [d.name for d, _ in per_dep], rotation=20, fontsize=8)
        ax.set_ylabel("ratio (mean over trials)")
        ax.set_ylim(0, 1)
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3, axis="y")
        fig.tight_layout()
        made.append(_save(fig, folder / "cdn_hit_ratio.png", plt))
    for d in deployments:
        made += _deployment_plots(d, folder, plt)
    return made


def _deployment_plots(d: Deployed, folder: Path, plt: Any) -> List[Path]:
    records = [r for rs in d.records.values() for r in rs]
    ok = [r for r in records if r.get("status") == 200 and "cdn_req" in r]
    if not ok:
        return []
    fig, axes = plt.subplots(1, 3, figsize=(14, 4))
    by_as: Dict[str, List[Dict[str, Any]]] = defaultdict(list)
    for r in ok:
        m = AS_OF_HOST.match(r["host"])
        by_as[f"AS{m.group(1)}" if m else r["host"]].append(r)
    for key, ax, title in (("ttfb_ms", axes[0], "time to first byte"),
                           ("total_ms", axes[1], "total time")):
        for label, rs in sorted(by_as.items()):
            values = sorted(r[key] for r in rs)
            ax.plot(values, [(i + 1) / len(values) for i in range(len(values))], label=label)
        ax.set_xscale("log")
        ax.set_xlabel(f"{title} (ms)")
        ax.set_ylabel("CDF of requests")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, title="client AS", title_fontsize=7)
    served = [r for r in records if "edge_req" in r and not r.get("peer")]
    t0 = min(r["t"] for r in records)
    for edge in d.params.edges:
        times = [r["t"] - t0 for r in served if r["host"] == edge]
        if times:
            axes[2].hist(times, bins=40, histtype="step", label=f"edge {edge}")
    origin = [r["t"] - t0 for r in records if "origin_req" in r]
    if origin:
        axes[2].hist(origin, bins=40, histtype="step", linestyle="--", color="black",
                     label="origin")
    axes[2].set_xlabel("seconds since the deployment's first record (all trials)")
    axes[2].set_ylabel("requests per bin")
    axes[2].legend(fontsize=7)
    axes[2].grid(alpha=0.3)
    fig.suptitle(f"{d.name}: latency per client AS, load per edge and on the origin")
    fig.tight_layout()
    return [_save(fig, folder / f"cdn_{d.name}.png", plt)]


def _save(fig: Any, path: Path, plt: Any) -> Path:
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
