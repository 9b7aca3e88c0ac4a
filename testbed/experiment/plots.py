"""Plots of a run (matplotlib, headless): what happened over time, with the timeline's
actions marked, and how the measurements are distributed.

- `topology.png`: the network as run (model/drawing.py), with the links and routers
  that trial 1's timeline failed in red;
- `transit.png`: with the `transit` metrics, each AS's transit bill and revenue and the
  megabytes between neighbour ASes (trial 1);
- `rtt.png`: RTT of every probe over time, one panel per workload, all trials (lost probes
  as red marks at the bottom);
- `delivery.png`: share of probes answered per 1 s bin, workloads and overlays reporting
  `delivered`, trial 1 — an outage is a dip;
- `rtt_cdf.png`: CDF of RTT per workload, all trials pooled;
- `<overlay>_pairs_cdf.png`: for an overlay that reports its chosen paths (divergence.py),
  CDFs over member pairs of latency stretch and path divergence;
- whatever an overlay's spec draws (`OverlaySpec.plots`, e.g. RON's probe overhead).
Vertical lines mark the timeline's actions of trial 1 that their family marks (link,
node and policy changes).
`delivery.png` also shows application flows (by send time).
"""
from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any, Dict, List, Tuple

from .actions import marked

def _markers(run: Any) -> List[Tuple[float, str]]:
    first = run.trials[0] if run.trials else 1
    drawn = marked()
    return [(e["actual"], f"{e['action']} {e['target']}") for e in run.events
            if e.get("type") == "action" and e.get("trial") == first and e["action"] in drawn]


def _mark(ax: Any, markers: List[Tuple[float, str]]) -> None:
    for i, (t, label) in enumerate(markers):
        ax.axvline(t, color="tab:red", linestyle="--", linewidth=1)
        ax.annotate(label, (t, 1), xycoords=("data", "axes fraction"), rotation=90,
                    fontsize=7, va="top", ha="right", color="tab:red")


def make_all(run: Any, folder: Path) -> List[Path]:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    cfg = run.config
    workloads = [w["name"] for w in cfg.get("workloads", [])]
    duration = float(cfg.get("duration", 0))
    markers = _markers(run)
    made: List[Path] = _topology(run, folder)

    if workloads:
        fig, axes = plt.subplots(len(workloads), 1, figsize=(9, 2.6 * len(workloads)),
                                 sharex=True, squeeze=False)
        for ax, name in zip(axes[:, 0], workloads):
            for trial in run.trials:
                probes = run.probes(trial, name)
                ok = [(p["t"], p["rtt_ms"]) for p in probes if p["rtt_ms"] is not None]
                lost = [p["t"] for p in probes if p["rtt_ms"] is None]
                if ok:
                    ax.plot(*zip(*ok), ".", markersize=2, label=f"trial {trial}", alpha=0.7)
                if lost:
                    ax.plot(lost, [0] * len(lost), "|", color="tab:red", markersize=8)
            ax.set_ylabel("RTT (ms)")
            ax.set_title(name, fontsize=9, loc="left")
            ax.set_ylim(bottom=0)
            _mark(ax, markers)
        axes[-1, 0].set_xlabel("time since T=0 (s)")
        axes[-1, 0].set_xlim(0, duration or None)
        fig.tight_layout()
        made.append(_save(fig, folder / "rtt.png"))

        fig, ax = plt.subplots(figsize=(6, 4))
        for name in workloads:
            rtts = sorted(p["rtt_ms"] for t in run.trials for p in run.probes(t, name)
                          if p["rtt_ms"] is not None)
            if rtts:
                ax.plot(rtts, [(i + 1) / len(rtts) for i in range(len(rtts))], label=name)
        ax.set_xlabel("RTT (ms)")
        ax.set_ylabel("fraction of probes")
        ax.set_ylim(0, 1)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        fig.tight_layout()
        made.append(_save(fig, folder / "rtt_cdf.png"))

    made += _transit(run, folder, plt)
    by_spec: Dict[int, Tuple[Any, List[Any]]] = {}
    for spec, dep in run.deployments():
        made += _pairs_cdf(run, dep.name, [r for rs in dep.records.values() for r in rs], folder)
        by_spec.setdefault(id(spec), (spec, []))[1].append(dep)
    for spec, deps in by_spec.values():
        if spec.plots is not None:
            made += spec.plots(deps, folder)

    series = _delivery_series(run, workloads)
    if series:
        fig, ax = plt.subplots(figsize=(9, 3.5))
        for name, points in series.items():
            ax.step(*zip(*points), where="post", label=name)
        ax.set_xlabel("time since T=0 (s)")
        ax.set_ylabel("delivered (1 s bins)")
        ax.set_ylim(-0.05, 1.05)
        ax.set_xlim(0, duration or None)
        _mark(ax, markers)
        ax.legend(fontsize=8, loc="lower right")
        fig.tight_layout()
        made.append(_save(fig, folder / "delivery.png"))
    return made


def _delivery_series(run: Any, workloads: List[str]) -> Dict[str, List[Tuple[float, float]]]:
    if not run.trials:
        return {}
    trial = run.trials[0]
    t0 = next((e["t0_wall"] for e in run.events
               if e.get("type") == "trial_started" and e.get("trial") == trial), None)
    bins: Dict[str, Dict[int, List[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for name in workloads:
        for p in run.probes(trial, name):
            cell = bins[name][int(p["t"])]
            cell[0] += p["rtt_ms"] is not None
            cell[1] += 1
    for o in run.config.get("overlays", []):
        for flow, packets in run.flows(trial, o["name"]).items():
            for p in packets:
                cell = bins[f"{o['name']}.{flow}"][int(p["t"])]
                cell[0] += p["rtt_ms"] is not None
                cell[1] += 1
        for r in run.overlay_records(trial, o["name"]):
            if r.get("metric") == "delivered" and t0 is not None:
                cell = bins[o["name"]][int(r["t"] - t0)]
                cell[0] += int(r["value"])
                cell[1] += 1
    return {name: [(float(s), ok / n) for s, (ok, n) in sorted(b.items()) if n]
            for name, b in bins.items()}


def _pairs_cdf(run: Any, name: str, records: List[Dict[str, Any]], folder: Path) -> List[Path]:
    import matplotlib.pyplot as plt

    from .divergence import pair_values
    values = pair_values(run, records)
    if len(values) < 2:  # a distribution of one pair shows nothing
        return []
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for ax, keys, label in ((axes[0], ["stretch"], "latency stretch (overlay / direct)"),
                            (axes[1], ["divergence_links", "divergence_edit"], "path divergence")):
        for key in keys:
            xs = sorted(v[key] for v in values)
            ax.step(xs, [(i + 1) / len(xs) for i in range(len(xs))], where="post", label=key)
        ax.set_xlabel(label)
        ax.set_ylabel("fraction of member pairs")
        ax.set_ylim(0, 1.02)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    axes[0].axvline(1.0, color="gray", linestyle=":")
    fig.suptitle(f"{name}: {len(values)} member pairs", fontsize=10)
    fig.tight_layout()
    return [_save(fig, folder / f"{name}_pairs_cdf.png")]


def _topology(run: Any, folder: Path) -> List[Path]:
    """The network as run (overrides applied), what failed in trial 1's timeline in red,
    and, for the first overlay that reports its paths, the pair whose overlay path
    differs most from the underlay's, both drawn; routers and hosts drawn up to 60 ASes,
    one box per AS above. None for a run directory
    without its topology (made by hand, or by an older version)."""
    from ..model import load_topology
    from ..model.drawing import draw
    from .divergence import most_divergent
    source = run.path / "inputs" / "topology.run.yaml"
    if not source.is_file():
        return []
    net = load_topology(source)
    first = run.trials[0] if run.trials else 1
    actions = [e for e in run.events if e.get("type") == "action" and e.get("trial") == first]
    down = [tuple(e["link"]) for e in actions if e["action"] == "link_down" and "link" in e]
    dead = [e["target"] for e in actions if e["action"] == "node_fail"]
    paths = {}
    for _, dep in run.deployments():
        chosen = most_divergent(run, [r for rs in dep.records.values() for r in rs])
        if chosen:
            src, dst, under, over = chosen
            paths = {f"underlay {src} -> {dst}": [src, *under, dst],
                     f"{dep.name} overlay {src} -> {dst}": [src, *over, dst]}
            break
    return [draw(net, folder / "topology.png", level="router" if len(net.ases) <= 60 else "as",
                 down=down, dead=dead, paths=paths)]


def _transit(run: Any, folder: Path, plt: Any) -> List[Path]:
    """Trial 1's transit bill per AS (and revenue; or with phases, the bill in each
    phase: with and without an overlay, before and after an ISP reacts), and the
    megabytes each AS sent each neighbour AS (a heat map: row sends to column)."""
    samples, _ = run.link_samples(run.trials[0]) if run.trials else ({}, {})
    if not samples:
        return []
    import numpy as np

    from ..measure.billing import bills, sent_mbytes
    from ..model import load_topology
    net = load_topology(run.path / "inputs" / "topology.run.yaml")
    bin_s = float(run.config.get("billing_bin", 1.0))
    prices = run.price_changes(run.trials[0], net)
    asns = sorted(net.ases)
    sent = np.zeros((len(asns), len(asns)))
    for (a, b), mbytes in sent_mbytes(net, samples).items():
        sent[asns.index(a), asns.index(b)] = mbytes
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    x = np.arange(len(asns))
    phases = run.config.get("phases", {})
    if phases:
        width = 0.8 / len(phases)
        for k, (name, (lo, hi)) in enumerate(phases.items()):
            got = bills(net, {i: [r for r in rows if lo <= r[0] <= hi]
                              for i, rows in samples.items()}, bin_s, prices)
            left.bar(x - 0.4 + width * (k + 0.5), [got[a].pays for a in asns], width,
                     label=f"{name} ({lo:g}-{hi:g} s)")
        left.set_title("transit bill per phase, trial 1", fontsize=9, loc="left")
    else:
        got = bills(net, samples, bin_s, prices)
        left.bar(x - 0.2, [got[a].pays for a in asns], 0.4, label="pays (transit, peerings)")
        left.bar(x + 0.2, [got[a].paid for a in asns], 0.4, label="is paid (by customers)")
        left.set_title("transit bills, trial 1", fontsize=9, loc="left")
    left.set_xticks(x, [f"AS{a}" for a in asns], rotation=60, fontsize=7)
    left.set_ylabel("USD per month (95th percentile)")
    left.legend(fontsize=8)
    image = right.imshow(sent, cmap="Blues")
    right.set_xticks(x, [f"AS{a}" for a in asns], rotation=60, fontsize=7)
    right.set_yticks(x, [f"AS{a}" for a in asns], fontsize=7)
    right.set_title("MB sent, row AS to column AS", fontsize=9, loc="left")
    fig.colorbar(image, ax=right, shrink=0.8)
    fig.tight_layout()
    return [_save(fig, folder / "transit.png")]


def _save(fig: Any, path: Path) -> Path:
    import matplotlib.pyplot as plt
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
