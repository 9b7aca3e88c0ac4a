"""The swarm's metrics of one trial: leechers report `complete_s` (their start to the
last piece their client verified); every peer reports `uploaded_mib`, `downloaded_mib`
and the SHA-1 of each piece it holds (`pieces`) at its stop.

- `completion_mean_s`, `completion_max_s`: over the leechers that completed;
- `completed`: the share of leechers whose client says it has every piece (`left` 0);
- `verified`: the share of leechers that hold the published file, every piece's digest
  equal to the digest of that piece of the file the params define. The digests expected
  are made here from the content alone, not by the peers' code or the torrent maker, so
  a peer that takes a bad piece for good (or a client that says it is done when it is
  not) is caught: `completed` 1 with `verified` below it;
- `seed_upload_share`: the seeds' part of all bytes uploaded (1.0 in client-server).
"""
from __future__ import annotations

import hashlib
import statistics
from typing import Any, Dict, List

from .metainfo import content

MIB = 1 << 20


def published_digests(params: Any) -> List[str]:
    """SHA-1 (hex) of each piece of the file the params define."""
    data = content(int(params.file_mib * MIB), params.seed)
    size = params.piece_kib * 1024
    return [hashlib.sha1(data[i:i + size]).hexdigest() for i in range(0, len(data), size)]


def metrics(records: List[Dict[str, Any]], params: Any) -> Dict[str, float]:
    out: Dict[str, float] = {}
    done = [r["value"] for r in records if r.get("metric") == "complete_s"]
    if done:
        out["completion_mean_s"] = round(statistics.mean(done), 3)
        out["completion_max_s"] = round(max(done), 3)
    leechers = [r for r in records if r.get("event") == "stopped" and not r.get("seed")]
    if leechers:
        out["completed"] = round(sum(r["left"] == 0 for r in leechers) / len(leechers), 4)
    if leechers and all("pieces" in r for r in leechers):
        want = published_digests(params)
        out["verified"] = round(sum(r["pieces"] == want for r in leechers) / len(leechers), 4)
    stops = [r for r in records if r.get("event") == "stopped"]
    total = sum(r.get("uploaded_mib", 0) for r in stops)
    if total > 0 and all("uploaded_mib" in r for r in stops):  # transmission counts none
        out["seed_upload_share"] = round(
            sum(r["uploaded_mib"] for r in stops if r.get("seed")) / total, 4)
    return out
