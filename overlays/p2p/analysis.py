"""File search metrics of one trial (the querying peers report `found` 1/0 per query, with
`ttl` under Gnutella; Gnutella peers report at their stop how many descriptors they sent
per query id, Napster clients report each query's `messages`):

- `success` and `messages_per_query` (Napster), and under Gnutella per TTL
  `success.ttl<N>` and `messages_per_query.ttl<N>` (every QUERY and QUERYHIT any peer
  sent for the query, the origin's included, over the queries asked at that TTL);
- `download_ms_median`: time to fetch a found file from the peer that has it.
"""
from __future__ import annotations

import collections
import statistics
from typing import Any, Dict, List


def metrics(records: List[Dict[str, Any]], params: Any) -> Dict[str, float]:
    out: Dict[str, float] = {}
    asked = [r for r in records if r.get("metric") == "found"]
    downloads = [r["value"] for r in records if r.get("metric") == "download_ms"]
    if downloads:
        out["download_ms_median"] = round(statistics.median(downloads), 3)
    if params.system == "napster":
        if asked:
            out["success"] = round(sum(r["value"] for r in asked) / len(asked), 4)
            out["messages_per_query"] = round(statistics.mean(r["messages"] for r in asked), 3)
        return out
    sent: collections.Counter = collections.Counter()
    for r in records:
        if r.get("event") == "messages":
            sent.update(r["sent"])
    by_ttl: Dict[int, List[Dict[str, Any]]] = collections.defaultdict(list)
    for r in asked:
        by_ttl[r["ttl"]].append(r)
    for ttl, rs in sorted(by_ttl.items()):
        out[f"success.ttl{ttl}"] = round(sum(r["value"] for r in rs) / len(rs), 4)
        out[f"messages_per_query.ttl{ttl}"] = round(
            statistics.mean(sent.get(r["qid"], 0) for r in rs), 3)
    return out
