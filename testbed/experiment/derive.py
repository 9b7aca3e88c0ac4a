"""Metrics from measurements, per trial and across trials. Pure: records in, numbers out.

A ping workload's records are its probes: {"pair": "a>b", "t": seconds after T=0 when
sent, "rtt_ms": float or None}. Per trial and workload (all its pairs together):

- sent, received; loss = 1 - received / sent; delivery = received / sent;
- rtt_min_ms, rtt_median_ms, rtt_mean_ms, rtt_p95_ms, rtt_max_ms over answered probes
  (p95 by the nearest-rank method, measure.metrics.percentile);
- outage_s: the longest time a pair went unanswered: from the first lost probe of a run
  of losses to the first answered probe after it (or to the last probe sent, if none
  came back) — what an application sees as its outage; 0 if nothing was lost.

An overlay's records are what its agents reported: {"metric": name, "value": number};
per name: `<name>` = the mean, `<name>.count` = how many. Application flow records
({"flow", "seq", "sent"[, "received"]}) give per flow the workload metrics above, with
one-way `latency_*_ms` in place of `rtt_*_ms`, named `<flow>.<metric>`.

Across trials every metric gets mean, standard deviation and a 95% confidence interval
for the mean: mean ± t(0.975, n-1) · s / sqrt(n) (Student's t; no interval for n = 1).
An expectation holds only where it holds in every trial, unless it asks for a mean or
median over them (`judge`).
"""
from __future__ import annotations

import math
import statistics
from collections import defaultdict
from typing import Any, Dict, Iterable, List, Optional

from ..stats import percentile

# two-sided 95% Student t critical values by degrees of freedom (1..30); normal beyond
_T95 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179,
        2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064,
        2.060, 2.056, 2.052, 2.048, 2.045, 2.042]


def t95(df: int) -> float:
    return _T95[df - 1] if 1 <= df <= len(_T95) else 1.96


def outage_s(probes: List[Dict[str, Any]]) -> float:
    """Longest unanswered stretch of one pair's probes (ordered by send time)."""
    longest, lost_since = 0.0, None
    for p in sorted(probes, key=lambda p: p["t"]):
        if p["rtt_ms"] is None:
            if lost_since is None:
                lost_since = p["t"]
        elif lost_since is not None:
            longest = max(longest, p["t"] - lost_since)
            lost_since = None
    if lost_since is not None and probes:
        longest = max(longest, max(p["t"] for p in probes) - lost_since)
    return longest


def ping_metrics(records: Iterable[Dict[str, Any]]) -> Dict[str, Optional[float]]:
    by_pair: Dict[str, List[Dict[str, Any]]] = defaultdict(list)
    for r in records:
        by_pair[r["pair"]].append(r)
    probes = [p for ps in by_pair.values() for p in ps]
    rtts = [p["rtt_ms"] for p in probes if p["rtt_ms"] is not None]
    sent, received = len(probes), len(rtts)
    out: Dict[str, Optional[float]] = {"sent": sent, "received": received,
                                       "loss": 1 - received / sent if sent else None,
                                       "delivery": received / sent if sent else None}
    out.update({"rtt_min_ms": min(rtts) if rtts else None,
                "rtt_median_ms": statistics.median(rtts) if rtts else None,
                "rtt_mean_ms": statistics.fmean(rtts) if rtts else None,
                "rtt_p95_ms": percentile(rtts, 95) if rtts else None,
                "rtt_max_ms": max(rtts) if rtts else None,
                "outage_s": max((outage_s(ps) for ps in by_pair.values()), default=None)})
    return out


def flow_probes(records: Iterable[Dict[str, Any]], t0: float) -> Dict[str, List[Dict[str, Any]]]:
    """Application flow records (client: flow, seq, sent; server: also received) -> per
    flow, one probe-like record per packet sent: t = send time after T=0, rtt_ms = the
    one-way latency in ms or None if it never arrived."""
    sent: Dict[str, Dict[int, float]] = defaultdict(dict)
    got: Dict[str, Dict[int, float]] = defaultdict(dict)
    for r in records:
        if "flow" not in r:
            continue
        (got if "received" in r else sent)[r["flow"]][r["seq"]] = r.get("received", r["sent"])
        sent[r["flow"]].setdefault(r["seq"], r["sent"])
    return {flow: [{"pair": flow, "t": ts - t0,
                    "rtt_ms": (got[flow][seq] - ts) * 1000 if seq in got[flow] else None}
                   for seq, ts in sorted(seqs.items())]
            for flow, seqs in sent.items()}


def flow_metrics(probes: List[Dict[str, Any]]) -> Dict[str, Optional[float]]:
    """ping_metrics of a flow's packets, latencies named as what they are (one-way)."""
    return {k.replace("rtt_", "latency_"): v for k, v in ping_metrics(probes).items()}


def overlay_metrics(records: Iterable[Dict[str, Any]]) -> Dict[str, Optional[float]]:
    values: Dict[str, List[float]] = defaultdict(list)
    for r in records:
        if isinstance(r.get("metric"), str) and isinstance(r.get("value"), (int, float)):
            values[r["metric"]].append(float(r["value"]))
    out: Dict[str, Optional[float]] = {}
    for name, vs in sorted(values.items()):
        out[name] = statistics.fmean(vs)
        out[f"{name}.count"] = len(vs)
    return out


def across_trials(per_trial: List[Dict[str, Optional[float]]]) -> Dict[str, Dict[str, Any]]:
    """metric -> {mean, median, std, ci95 (half-width), n, values} over the trials that
    have it."""
    names = sorted({k for t in per_trial for k in t})
    out = {}
    for name in names:
        values = [t[name] for t in per_trial if t.get(name) is not None]
        n = len(values)
        mean = statistics.fmean(values) if values else None
        std = statistics.stdev(values) if n > 1 else None
        ci = t95(n - 1) * std / math.sqrt(n) if std is not None else None
        out[name] = {"mean": mean, "median": statistics.median(values) if values else None,
                     "std": std, "ci95": ci, "n": n, "values": values}
    return out


OPS = {"<": lambda a, b, tol: a < b + tol, "<=": lambda a, b, tol: a <= b + tol,
       ">": lambda a, b, tol: a > b - tol, ">=": lambda a, b, tol: a >= b - tol,
       "==": lambda a, b, tol: abs(a - b) <= tol, "!=": lambda a, b, tol: abs(a - b) > tol}


def check_expectation(value: Optional[float], op: str, target: Optional[float],
                      tolerance: float) -> bool:
    """Whether `value op target` holds, the tolerance counted in the value's favour (not
    when either was not measured)."""
    return value is not None and target is not None and OPS[op](value, target, tolerance)


# how far a value is on the failing side of `op target` (larger: worse), to name the
# trial that missed most
_SHORT = {"<": lambda a, b: a - b, "<=": lambda a, b: a - b, ">": lambda a, b: b - a,
          ">=": lambda a, b: b - a, "==": lambda a, b: abs(a - b),
          "!=": lambda a, b: -abs(a - b)}


def judge(expectation: Dict[str, Any], per_trial: Dict[str, Dict[str, Optional[float]]],
          across: Dict[str, Dict[str, Any]]) -> Dict[str, Any]:
    """An expectation judged on a run: with `aggregate: all` (the default) in each trial,
    a metric target taken from the same trial, passed only if it holds in every trial
    (and there is one); `measured` and `target` are then the trial that missed most (or
    came closest to missing). With `mean` or `median`, that statistic over the trials is
    judged. `trials` lists each trial's value, target and pass either way."""
    e = expectation
    op, tol, ref, scale = e["op"], e["tolerance"], e["value"], e.get("scale", 1.0)

    def scaled(x: Optional[float]) -> Optional[float]:
        return None if x is None else x * scale
    rows = []
    for trial, flat in per_trial.items():
        value = flat.get(e["metric"])
        target = scaled(flat.get(ref) if isinstance(ref, str) else ref)
        rows.append({"trial": int(trial), "measured": value, "target": target,
                     "passed": check_expectation(value, op, target, tol)})
    aggregate = e.get("aggregate", "all")
    if aggregate == "all":
        def shortfall(row: Dict[str, Any]) -> float:
            if row["measured"] is None or row["target"] is None:
                return math.inf
            return _SHORT[op](row["measured"], row["target"])
        worst = max(rows, key=shortfall, default={"measured": None, "target": None})
        value, target = worst["measured"], worst["target"]
        passed = bool(rows) and all(r["passed"] for r in rows)
    else:
        value = across.get(e["metric"], {}).get(aggregate)
        target = scaled(across.get(ref, {}).get(aggregate) if isinstance(ref, str) else ref)
        passed = check_expectation(value, op, target, tol)
    return {**e, "aggregate": aggregate, "measured": value, "target": target,
            "passed": passed, "trials": rows}
