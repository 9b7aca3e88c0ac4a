"""The swarm's metrics of one trial: leechers report `complete_s` (their start to the
last piece verified) and `verified` 1; every peer reports `uploaded_mib` and
`downloaded_mib` at its stop.

- `completion_mean_s`, `completion_max_s`: over the leechers that completed;
- `completed`: the share of leechers that did (those with `left` at their stop count 0);
- `seed_upload_share`: the seeds' part of all bytes uploaded (1.0 in client-server).
"""
from __future__ import annotations

import statistics
from typing import Any, Dict, List


def metrics(records: List[Dict[str, Any]], params: Any) -> Dict[str, float]:
    out: Dict[str, float] = {}
    done = [r["value"] for r in records if r.get("metric") == "complete_s"]
    if done:
        out["completion_mean_s"] = round(statistics.mean(done), 3)
        out["completion_max_s"] = round(max(done), 3)
    leechers = [r for r in records if r.get("event") == "stopped" and not r.get("seed")]
    if leechers:
        out["completed"] = round(sum(r["left"] == 0 for r in leechers) / len(leechers), 4)
    stops = [r for r in records if r.get("event") == "stopped"]
    total = sum(r.get("uploaded_mib", 0) for r in stops)
    if total > 0 and all("uploaded_mib" in r for r in stops):  # transmission counts none
        out["seed_upload_share"] = round(
            sum(r["uploaded_mib"] for r in stops if r.get("seed")) / total, 4)
    return out
