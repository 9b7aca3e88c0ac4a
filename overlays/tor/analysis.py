"""The Tor network's metrics of one trial, beyond the harness's means of its metric lines
(`bootstrap_s` per node, `bootstrapped` 1/0):

- `bootstrap_max_s`: the slowest node's time from its tor's start to "Bootstrapped
  100%" (the target: every client within 90 s);
- `clients_bootstrapped`: the share of clients that got there.
"""
from __future__ import annotations

from typing import Any, Dict, List


def metrics(records: List[Dict[str, Any]], params: Any) -> Dict[str, float]:
    out: Dict[str, float] = {}
    boots = [r["value"] for r in records if r.get("metric") == "bootstrap_s"]
    if boots:
        out["bootstrap_max_s"] = round(max(boots), 3)
    clients = [r for r in records if r.get("metric") == "bootstrapped"
               and r.get("role") == "client"]
    if clients:
        out["clients_bootstrapped"] = round(sum(r["value"] for r in clients) / len(clients), 4)
    return out
