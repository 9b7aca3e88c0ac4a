"""A run directory read back: measurements -> metrics.json, expectations, plots, reports.
Used at the end of `testbed run` and by `testbed report RUN` (which remakes all of it from
the files alone, e.g. after a kill -9) and `testbed compare`.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Set, Tuple

from overlays.spec import Deployed

from ..stats import percentile
from . import derive, divergence
from .overlays import NoSpec, spec_of
from .rundir import read_jsonl
from .schema import METRICS

SELECT = {"rtt": ("rtt_min_ms", "rtt_median_ms", "rtt_mean_ms", "rtt_p95_ms", "rtt_max_ms"),
          "loss": ("sent", "received", "loss"), "outage": ("outage_s",),
          "delivery": ("delivery",)}


class RunError(Exception):
    """Not a run directory (or not readable as one)."""


@dataclass
class Run:
    path: Path
    manifest: Dict[str, Any]
    events: List[Dict[str, Any]]

    @property
    def config(self) -> Dict[str, Any]:
        return self.manifest.get("configuration", {})

    @property
    def trials(self) -> List[int]:
        return sorted({e["trial"] for e in self.events if e.get("type") == "trial_started"})

    def probes(self, trial: int, workload: str) -> List[Dict[str, Any]]:
        return read_jsonl(self.path / "measurements" / f"trial-{trial}" / f"{workload}.jsonl")

    def overlay_records(self, trial: int, overlay: str) -> List[Dict[str, Any]]:
        """All agents' records of a trial, each with the reporting `host` added (and its
        `instance`, where the deployment ran several agents per host: file `host@k`)."""
        folder = self.path / "overlays" / f"trial-{trial}" / overlay
        return [{**r, **_agent_of(f.stem)} for f in sorted(folder.glob("*.jsonl"))
                for r in read_jsonl(f)]

    def link_samples(self, trial: int) -> Tuple[Dict[int, List[Tuple[float, int, int]]],
                                                Dict[int, List[Tuple[float, Dict[str, Any]]]]]:
        """Inter-AS link index -> (t, bytes a->b, bytes b->a) counter samples, and -> (t,
        class -> [bytes a->b, bytes b->a]) where classes were counted (accounting)."""
        out: Dict[int, List[Tuple[float, int, int]]] = {}
        classes: Dict[int, List[Tuple[float, Dict[str, Any]]]] = {}
        for r in read_jsonl(self.path / "measurements" / f"trial-{trial}" / "_links.jsonl"):
            out.setdefault(int(r["link"]), []).append((float(r["t"]), int(r["ab"]),
                                                       int(r["ba"])))
            if isinstance(r.get("classes"), dict):
                classes.setdefault(int(r["link"]), []).append((float(r["t"]), r["classes"]))
        return out, classes

    def price_changes(self, trial: int, net: Any) -> List[Tuple[float, int, float]]:
        """(seconds since T=0, link index, price) of the trial's `reprice` actions."""
        index = {frozenset((l.a, l.b)): l.index for l in net.links}
        return [(float(e["actual"]), index[frozenset(e["link"])], float(e["price"]))
                for e in self.events if e.get("type") == "action" and e.get("trial") == trial
                and e.get("action") == "reprice" and frozenset(e.get("link", ())) in index]

    def fidelity_windows(self, trial: int) -> List[Dict[str, Any]]:
        """The trial's per-second fidelity rows (watch.py; none in runs made before)."""
        return read_jsonl(self.path / "measurements" / f"trial-{trial}" / "_fidelity.jsonl")

    def spans(self, trial: int) -> List[Tuple[str, float, float]]:
        """(what, from, to) seconds after T=0 of what ran in the trial: each workload and
        overlay deployment from its start action to its stop (or the end), each phase."""
        end = float(self.config.get("duration", 0))
        spans, open_at = [], {}
        for e in self.events:
            if e.get("type") != "action" or e.get("trial") != trial \
                    or e.get("action") not in ("start", "stop"):
                continue
            name = f"{e.get('kind', '')} {e['target']}".strip()
            if e["action"] == "start":
                open_at.setdefault(name, float(e["actual"]))
            elif name in open_at:
                spans.append((name, open_at.pop(name), float(e["actual"])))
        spans += [(name, at, end) for name, at in open_at.items()]
        spans += [(f"phase {name}", float(lo), float(hi))
                  for name, (lo, hi) in self.config.get("phases", {}).items()]
        return spans

    def t0(self, trial: int) -> float:
        return next((e["t0_wall"] for e in self.events
                     if e.get("type") == "trial_started" and e.get("trial") == trial), 0.0)

    def flows(self, trial: int, overlay: str) -> Dict[str, List[Dict[str, Any]]]:
        return derive.flow_probes(self.overlay_records(trial, overlay), self.t0(trial))

    def deployments(self) -> List[Tuple[Any, Deployed]]:
        """(spec, Deployed) of every overlay deployment whose module still has a spec (a
        run made by another version may name one that no longer exists)."""
        out = []
        for o in self.config.get("overlays", []):
            try:
                spec = spec_of(o.get("module", ""))
                params = spec.params.model_validate(o.get("params", {}))
            except (NoSpec, ValueError):
                continue
            hosts = o["hosts"] if isinstance(o["hosts"], list) else []
            out.append((spec, Deployed(o["name"], params, hosts,
                                       {t: self.overlay_records(t, o["name"])
                                        for t in self.trials})))
        return out


def load_run(path: Path) -> Run:
    manifest_path = path / "manifest.json"
    if not manifest_path.is_file():
        raise RunError(f"{path} is not a run directory (no manifest.json)")
    try:
        manifest = json.loads(manifest_path.read_text())
    except ValueError as exc:
        raise RunError(f"{manifest_path} is not valid JSON: {exc}") from None
    return Run(path, manifest, read_jsonl(path / "events.jsonl"))


def transit_metrics(run: Run, trial: int) -> Dict[str, Optional[float]]:
    """Per AS pair with a link: the megabytes sent each way (`transit.mbytes.asA>asB`);
    and per AS over the whole trial (`transit.*`) and each of the experiment's phases
    (`transit.<phase>.*`): `bill_usd.asN` (95th percentile over `billing_bin` bins, what
    it pays providers and for peerings), `revenue_usd.asN` (what its customers pay it),
    and where classes were counted, `share.<overlay>.asN` (the overlay's part of the
    bytes on the AS's inter-AS links) and `unpaid_mbytes.asN` (billing.unpaid_mbytes)."""
    samples, classes = run.link_samples(trial)
    if not samples:
        return {}
    from ..measure.billing import sent_mbytes
    from ..model import load_topology
    net = load_topology(run.path / "inputs" / "topology.run.yaml")
    prices = run.price_changes(trial, net)
    out: Dict[str, Optional[float]] = {f"transit.mbytes.as{a}>as{b}": v
                                       for (a, b), v in sorted(sent_mbytes(net, samples).items())}
    windows = {"transit": (0.0, float("inf"))}
    windows.update({f"transit.{name}": (lo, hi)
                    for name, (lo, hi) in run.config.get("phases", {}).items()})
    for prefix, (lo, hi) in windows.items():
        def inside(rows: List[Any]) -> List[Any]:
            return [r for r in rows if lo <= r[0] <= hi]
        out.update(_transit_window(run, net, {k: inside(v) for k, v in samples.items()},
                                   {k: inside(v) for k, v in classes.items()}, prices, prefix))
    return out


def _transit_window(run: Run, net: Any, samples: Dict[int, Any], classes: Dict[int, Any],
                    prices: List[Tuple[float, int, float]], prefix: str
                    ) -> Dict[str, Optional[float]]:
    from ..measure.billing import bills, class_mbytes, sent_mbytes, unpaid_mbytes
    out: Dict[str, Optional[float]] = {}
    for asn, bill in bills(net, samples, float(run.config.get("billing_bin", 1.0)),
                           prices).items():
        out[f"{prefix}.bill_usd.as{asn}"] = bill.pays
        out[f"{prefix}.revenue_usd.as{asn}"] = bill.paid
    if not classes:
        return out
    by_class = class_mbytes(net, classes)
    sent = sent_mbytes(net, samples)
    overlays = [o["name"] for o in run.config.get("overlays", [])]
    for asn in sorted(net.ases):
        total = sum(v for (a, b), v in sent.items() if asn in (a, b))
        for name in overlays:
            mine = sum(v for (a, b, c), v in by_class.items() if c == name and asn in (a, b))
            out[f"{prefix}.share.{name}.as{asn}"] = mine / total if total > 0 else None
    for asn, mbytes in unpaid_mbytes(net, by_class, overlays).items():
        out[f"{prefix}.unpaid_mbytes.as{asn}"] = mbytes
    return out


def wire_metrics(run: Run, trial: int) -> Dict[str, Optional[float]]:
    """Per overlay deployment whose members' access links were captured (the experiment's
    `capture`): `<overlay>.wire_pps`, the packets per second a member sent on the
    deployment's ports while it ran, from the pcap files (measure.pcap: the wire's count,
    not the agents'), the mean over its captured members. Each host's files are read
    once, keeping only the packets some deployment of it counts."""
    folder = run.path / "captures" / f"trial-{trial}"
    if not folder.is_dir():
        return {}
    from ..measure.pcap import PcapError, packets, sent_rate
    from ..model import load_topology
    net = load_topology(run.path / "inputs" / "topology.run.yaml")
    t0 = run.t0(trial)
    spans = {name: (a, b) for name, a, b in run.spans(trial)}
    wanted: Dict[str, List[Tuple[str, Set[int], float, float]]] = {}  # host -> deployments
    for spec, dep in run.deployments():
        if f"overlay {dep.name}" in spans:
            start, end = spans[f"overlay {dep.name}"]
            for host in dep.members or sorted(net.hosts):  # none listed: `hosts: all`
                ports = {p.number for p in spec.ports(dep.params, host)}
                wanted.setdefault(host, []).append((dep.name, ports, t0 + start, t0 + end))
    rates: Dict[str, List[float]] = {}
    for host, deps in wanted.items():
        ip = net.hosts[host].ip
        link = next(l for l in net.links if host in (l.a, l.b))
        try:
            sent = [p for f in sorted(folder.glob(f"{link.a}_{link.b}*.pcap"))
                    for p in packets(f) if p.src == ip and any(
                        lo <= p.t <= hi and (p.sport in ports or p.dport in ports)
                        for _, ports, lo, hi in deps)]
        except (OSError, PcapError):
            continue
        for name, ports, lo, hi in deps:
            rate = sent_rate(sent, ip, ports, lo, hi)
            if rate is not None:
                rates.setdefault(name, []).append(rate)
    return {f"{name}.wire_pps": sum(r) / len(r) for name, r in rates.items()}


def compute_metrics(run: Run) -> Dict[str, Any]:
    cfg = run.config
    wanted = set(cfg.get("metrics", METRICS))
    keep = {m for group in wanted if group in SELECT for m in SELECT[group]}
    per_trial: Dict[str, Dict[str, Optional[float]]] = {}
    specs = {dep.name: (spec, dep) for spec, dep in run.deployments()}
    phases = {"": (0.0, float("inf"))}  # the whole trial, and each phase: "<phase>."
    phases.update({f"{name}.": (lo, hi) for name, (lo, hi) in cfg.get("phases", {}).items()})

    def windowed(probes: List[Dict[str, Any]]) -> Iterator[Tuple[str, List[Dict[str, Any]]]]:
        for prefix, (lo, hi) in phases.items():
            yield prefix, [p for p in probes if lo <= p["t"] < hi] if prefix else probes
    for trial in run.trials:
        flat: Dict[str, Optional[float]] = {}
        for w in cfg.get("workloads", []):
            for phase, probes in windowed(run.probes(trial, w["name"])):
                for name, value in derive.ping_metrics(probes).items():
                    if name in keep:
                        flat[f"{w['name']}.{phase}{name}"] = value
        if "overlay" in wanted:
            for o in cfg.get("overlays", []):
                records = run.overlay_records(trial, o["name"])
                for name, value in derive.overlay_metrics(records).items():
                    flat[f"{o['name']}.{name}"] = value
                for flow, all_probes in run.flows(trial, o["name"]).items():
                    for phase, probes in windowed(all_probes):
                        for name, value in derive.flow_metrics(probes).items():
                            flat[f"{o['name']}.{flow}.{phase}{name}"] = value
                for name, value in divergence.pair_metrics(run, records).items():
                    flat[f"{o['name']}.{name}"] = value
                spec, dep = specs.get(o["name"], (None, None))
                if spec is not None and spec.metrics is not None:
                    for name, value in spec.metrics(records, dep.params).items():
                        flat[f"{o['name']}.{name}"] = value
        if "transit" in wanted:
            flat.update(transit_metrics(run, trial))
        if "overlay" in wanted:
            flat.update(wire_metrics(run, trial))
        per_trial[str(trial)] = flat
    across = derive.across_trials(list(per_trial.values()))
    expectations = [derive.judge(e, per_trial, across) for e in cfg.get("expect", [])]
    late = sorted(e["late_ms"] for e in run.events if e.get("type") == "action")
    timeline = {"actions": len(late)}
    if late:
        timeline.update({"late_ms_p50": percentile(late, 50),
                         "late_ms_p99": percentile(late, 99), "late_ms_max": late[-1]})
    fidelity = [trial_fidelity(run, e) for e in run.events if e.get("type") == "trial_fidelity"]
    return {"per_trial": per_trial, "across_trials": across, "expectations": expectations,
            "timeline": timeline, "fidelity": fidelity}


def trial_fidelity(run: Run, event: Dict[str, Any]) -> Dict[str, Any]:
    """A trial's fidelity: its verdict from its per-second windows (watch.py), each
    compromised window with its problems and what ran during it; the trial's CPU
    averages beside them, for the record. (Runs made before the windows were recorded
    keep the verdict their trial_fidelity event gave.)"""
    trial = event["trial"]
    out = {k: event.get(k) for k in ("trial", "cpu_idle", "cpu_steal", "emulator_cpu",
                                     "verdict")}
    rows = run.fidelity_windows(trial)
    if not rows:
        return out
    spans = run.spans(trial)
    compromised = []
    for r in rows:
        if not r["problems"]:
            continue
        hi = r["t"]
        lo = hi - r.get("seconds", 1.0)
        compromised.append({"t": hi, "problems": r["problems"],
                            "during": [name for name, a, b in spans if a < hi and b > lo]})
    lateness = [r["p99_ms"] for r in rows if r.get("p99_ms") is not None]
    out.update(windows=len(rows), compromised=compromised,
               p99_ms_max=max(lateness) if lateness else None,
               verdict="degraded" if compromised else "ok")
    return out


def finish_run(path: Path, status: Optional[str] = None, progress: Any = None) -> Dict[str, Any]:
    """metrics.json, plots and reports for the run at `path`; returns metrics.json's data."""
    from . import plots, report
    run = load_run(path)
    if status is not None:
        run.manifest["status"] = status
        run.manifest["complete"] = status == "complete"
    metrics = compute_metrics(run)
    fidelity = metrics["fidelity"]
    verdict = "ok" if fidelity and all(f["verdict"] == "ok" for f in fidelity) else \
        ("degraded" if fidelity else "unknown")
    run.manifest["fidelity"] = metrics["fidelity_verdict"] = verdict
    (path / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    manifest_path = path / "manifest.json"
    if status is None:  # `testbed report`: record the verdict without touching the status
        data = json.loads(manifest_path.read_text())
        data["fidelity"] = verdict
        manifest_path.write_text(json.dumps(data, indent=2, default=str) + "\n")
    if progress is not None:
        progress.phase(0, 0, "plotting and writing the report")
    images = plots.make_all(run, path / "plots")
    report.write(run, metrics, images)
    return metrics


def _agent_of(label: str) -> Dict[str, Any]:
    host, _, instance = label.partition("@")
    return {"host": host, "instance": int(instance)} if instance.isdigit() else {"host": label}
