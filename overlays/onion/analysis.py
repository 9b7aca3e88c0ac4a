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

`onion_model.png`: every circuit build and stream against its model (the line where they
are equal, and the 15% band the experiments allow a stream's time to first byte).
"""
from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any, Dict, List

from ..plotting import figure, finish


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


def model_plot(deployments: List[Any], folder: Path) -> List[Path]:
    """`onion_model.png`: measured against modelled ms, circuit builds (model: 3 x the
    sum of the hops' RTTs) and streams' time to first byte (2 x (circuit RTT + exit RTT))."""
    points: Dict[str, List[Any]] = {"circuit build (model 3 x sum of hop RTTs)": [],
                                    "stream time to first byte": []}
    for dep in deployments:
        for records in dep.records.values():
            for r in records:
                model = r.get("model_ms")
                if not isinstance(model, (int, float)) or model <= 0:
                    continue
                if r.get("metric") == "circuit_build_ms":
                    points["circuit build (model 3 x sum of hop RTTs)"].append(
                        (3 * model, r["value"]))
                elif r.get("metric") == "stream_ttfb_ms" and r.get("circuit_wait_ms", 0) < 1:
                    points["stream time to first byte"].append((model, r["value"]))
    if not any(points.values()):
        return []
    fig, ax = figure(size=(6, 5))
    top = max(max(m, v) for pts in points.values() for m, v in pts) * 1.1
    ax.plot([0, top], [0, top], "-", color="gray", label="measured = model")
    ax.fill_between([0, top], [0, 0.85 * top], [0, 1.15 * top], color="gray", alpha=0.15,
                    label="within 15%")
    for name, pts in points.items():
        if pts:
            ax.plot([m for m, _ in pts], [v for _, v in pts], "o", alpha=0.6,
                    label=f"{name} ({len(pts)})")
    ax.set_xlim(0, top)
    ax.set_ylim(0, top)
    ax.set_xlabel("model from the configured delays (ms)")
    ax.set_ylabel("measured (ms)")
    return finish(fig, [ax], folder / "onion_model.png")
