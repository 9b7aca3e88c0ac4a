"""The onion overlay's metrics of one trial, beyond the harness's means of its metric
lines (`circuit_build_ms`, `stream_ttfb_ms`, `as_shared`, `circuit_rtt_ms`, ...):

- `build_model_ratio`: median of circuit build time / the sum of its hops' configured
  RTTs. Telescoping costs, per hop k, a TCP handshake and a CREATE round trip between
  hop k-1 and hop k, plus the EXTEND round trip from the client to hop k-1: about 1 + 2
  + 3 of the hop RTTs when they are alike, so about 3 x their sum with TCP;
- `build_over_target_ms`: median of build time - 3 x that sum (the target: <= 50 ms);
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
    builds = [r["value"] - 3 * r["model_ms"] for r in records
              if r.get("metric") == "circuit_build_ms"
              and isinstance(r.get("model_ms"), (int, float))]
    if builds:
        out["build_over_target_ms"] = round(statistics.median(builds), 3)
    ttfb = [r["value"] for r in records if r.get("metric") == "stream_ttfb_ms"]
    if ttfb:
        out["stream_ttfb_median_ms"] = round(statistics.median(ttfb), 3)
    return out
