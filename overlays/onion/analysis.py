"""The onion overlay's metrics of one trial, beyond the harness's means of its metric
lines (`circuit_build_ms`, `stream_ttfb_ms`, `as_shared`, `circuit_rtt_ms`, ...):

- `build_model_ratio`: median of circuit build time / the sum of its hops' configured
  RTTs (telescoping costs one round trip to the first hop, two to the second, ...: a
  3-hop build is about 1 + 2 + 3 hop-RTTs when the hops are alike, within 3 x the sum);
- `ttfb_model_ratio`: median of a stream's time to first byte / its model, 2 x (circuit
  RTT + exit-to-destination RTT), over streams that found their circuit built;
- `stream_ttfb_median_ms`.
"""
from __future__ import annotations

import statistics
from typing import Any, Dict, List


def _ratios(records: List[Dict[str, Any]], metric: str) -> List[float]:
    return [r["value"] / r["model_ms"] for r in records
            if r.get("metric") == metric and isinstance(r.get("model_ms"), (int, float))
            and r["model_ms"] > 0 and r.get("circuit_wait_ms", 0) < 1.0]


def metrics(records: List[Dict[str, Any]], params: Any) -> Dict[str, float]:
    out: Dict[str, float] = {}
    for name, metric in (("build_model_ratio", "circuit_build_ms"),
                         ("ttfb_model_ratio", "stream_ttfb_ms")):
        ratios = _ratios(records, metric)
        if ratios:
            out[name] = round(statistics.median(ratios), 4)
    ttfb = [r["value"] for r in records if r.get("metric") == "stream_ttfb_ms"]
    if ttfb:
        out["stream_ttfb_median_ms"] = round(statistics.median(ttfb), 3)
    return out
