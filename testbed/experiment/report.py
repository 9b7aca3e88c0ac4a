"""report.md and a self-contained report.html (plots embedded) for a run: what was run,
on what, whether it completed, the metrics with their confidence intervals, the
expectations, the timeline's accuracy, fidelity, and how to reproduce it.
"""
from __future__ import annotations

import base64
import html
from pathlib import Path
from typing import Any, Dict, List, Optional


def fmt(value: Optional[float]) -> str:
    if value is None:
        return "–"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:.4g}" if abs(value) < 1000 else f"{value:.1f}"
    return str(int(value)) if isinstance(value, float) else str(value)


def wanted(e: Dict[str, Any]) -> str:
    """An expectation's target: a number, or another metric with its measured mean."""
    times = f"{fmt(e['scale'])} × " if e.get("scale", 1.0) != 1.0 else ""
    if isinstance(e["value"], str):
        return f"{times}{e['value']} ({fmt(e.get('target'))})"
    return f"{times}{fmt(e['value'])}"


def _facts(run: Any) -> List[List[str]]:
    m, cfg = run.manifest, run.config
    status = m.get("status", "?") + ("" if m.get("complete") else " — INCOMPLETE")
    versions = m.get("versions", {})
    inputs = m.get("inputs", {})
    return [["status", status],
            ["experiment", f"{cfg.get('name')} ({inputs.get('experiment', {}).get('source')})"],
            ["topology", f"{inputs.get('topology', {}).get('source')} "
                         f"(sha256 {inputs.get('topology_as_run', {}).get('sha256', '')[:12]} as run)"],
            ["seed, trials", f"{m.get('seed')}, {m.get('trials_done', 0)} of {m.get('trials')} done"],
            ["duration", f"{cfg.get('duration')} s per trial"],
            ["started, ended", f"{m.get('started')}, {m.get('ended') or '–'}"],
            ["routers, links, datapath", f"{m.get('dataplane')} ({m.get('dataplane_reason')}), "
                                         f"{m.get('link_backend')}, {m.get('datapath')}"],
            ["fidelity", str(m.get("fidelity", "unknown"))],
            ["versions", f"kernel {versions.get('kernel')}, {versions.get('ovs')}, Mininet "
                         f"{versions.get('mininet')}, Python {versions.get('python')}, "
                         f"commit {str(versions.get('git_commit'))[:10]}"
                         + (" (dirty)" if versions.get("git_dirty") else "")]]


def _metric_rows(metrics: Dict[str, Any]) -> List[List[str]]:
    rows = []
    for name, s in metrics["across_trials"].items():
        ci = f"± {fmt(s['ci95'])}" if s["ci95"] is not None else ""
        rows.append([name, fmt(s["mean"]), ci, fmt(s["median"]), fmt(s["std"]), str(s["n"]),
                     ", ".join(fmt(v) for v in s["values"][:10])])
    return rows


def judged_on(e: Dict[str, Any]) -> str:
    """What an expectation's `measured` is: the worst trial's value, or a statistic."""
    if e.get("aggregate", "all") != "all":
        return f"{e['aggregate']} of {len(e.get('trials', []))} trials"
    return "every trial (worst shown)"


def per_trial(e: Dict[str, Any]) -> str:
    """Each trial's value, a failing one marked: `1: 1.02, 2: 4.1 FAIL`."""
    return ", ".join(f"{t['trial']}: {fmt(t['measured'])}" + ("" if t["passed"] else " FAIL")
                     for t in e.get("trials", []))


def _expect_rows(metrics: Dict[str, Any]) -> List[List[str]]:
    return [[e["metric"], f"{e['op']} {wanted(e)}" + (f" ± {fmt(e['tolerance'])}"
                                                     if e["tolerance"] else ""),
             judged_on(e), fmt(e["measured"]), per_trial(e),
             "PASS" if e["passed"] else "FAIL"]
            for e in metrics["expectations"]]


def _timeline_rows(run: Any) -> List[List[str]]:
    first = run.trials[0] if run.trials else 1
    return [[fmt(e["planned"]), fmt(e["actual"]), fmt(e["late_ms"]), fmt(e["took_ms"]),
             e["action"], e["target"]]
            for e in run.events if e.get("type") == "action" and e.get("trial") == first]


def _md_table(head: List[str], rows: List[List[str]]) -> str:
    if not rows:
        return "(none)\n"
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _html_table(head: List[str], rows: List[List[str]]) -> str:
    if not rows:
        return "<p>(none)</p>"
    cells = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td class='{_cls(c)}'>{html.escape(c)}</td>" for c in row)
                   + "</tr>" for row in rows)
    return f"<table><tr>{cells}</tr>{body}</table>"


def _cls(cell: str) -> str:
    return {"PASS": "pass", "FAIL": "fail"}.get(cell, "")


def _who_pays_rows(run: Any, metrics: Dict[str, Any]) -> List[List[str]]:
    """Per AS: its relationships (the looking glass's) beside what the run measured: its
    bill, its revenue, the transit it carried for others unpaid, the overlays' shares."""
    across = metrics["across_trials"]
    if not any(name.startswith("transit.bill_usd.") for name in across):
        return []
    from ..control.policy import ASGraph
    from ..model import load_topology
    graph = ASGraph.from_network(load_topology(run.path / "inputs" / "topology.run.yaml"))

    def mean(name: str) -> Optional[float]:
        return across.get(name, {}).get("mean")

    def names(indices: Any) -> str:
        return ", ".join(str(graph.asns[n]) for n in indices) or "–"
    overlays = [o["name"] for o in run.config.get("overlays", [])]
    rows = []
    for i, asn in enumerate(graph.asns):
        shares = ", ".join(f"{o} {fmt(mean(f'transit.share.{o}.as{asn}'))}" for o in overlays
                           if mean(f"transit.share.{o}.as{asn}") is not None)
        rows.append([f"AS{asn}", names(graph.providers[i]), names(graph.customers[i]),
                     names(graph.peers[i]), fmt(mean(f"transit.bill_usd.as{asn}")),
                     fmt(mean(f"transit.revenue_usd.as{asn}")),
                     fmt(mean(f"transit.unpaid_mbytes.as{asn}")), shares or "–"])
    return rows


WHO_PAYS_HEAD = ["AS", "providers", "customers", "peers", "bill USD", "revenue USD",
                 "carried for others unpaid, MB", "overlay share of its bytes"]
METRIC_HEAD = ["metric", "mean", "95% CI", "median", "std", "trials", "per trial"]
EXPECT_HEAD = ["expectation", "wanted", "judged on", "measured", "per trial", ""]
TIMELINE_HEAD = ["planned s", "actual s", "late ms", "took ms", "action", "target"]


WINDOW_HEAD = ["trial", "t s", "problems", "running then"]
WINDOWS_SHOWN = 30  # per trial; the rest are counted


def _fidelity_text(f: Dict[str, Any]) -> str:
    """A trial's verdict, from its windows where it has them, and its CPU averages."""
    text = f"trial {f['trial']}: {f['verdict']}"
    if "windows" in f:
        text += (f", {len(f['compromised'])} of {f['windows']} one-second windows "
                 f"compromised, worst link p99 lateness {fmt(f['p99_ms_max'])} ms")
    return text + (f" (over the trial: CPU idle {fmt(f['cpu_idle'])}, taken by the "
                   f"hypervisor {fmt(f.get('cpu_steal'))}, busiest emulator process "
                   f"{fmt(f['emulator_cpu'])} of a core)")


def _window_rows(metrics: Dict[str, Any]) -> List[List[str]]:
    rows = []
    for f in metrics["fidelity"]:
        bad = f.get("compromised", [])
        rows += [[str(f["trial"]), fmt(w["t"]), "; ".join(w["problems"]),
                  ", ".join(w["during"]) or "–"] for w in bad[:WINDOWS_SHOWN]]
        if len(bad) > WINDOWS_SHOWN:
            rows.append([str(f["trial"]), "…", f"{len(bad) - WINDOWS_SHOWN} more", ""])
    return rows


def _reproduce(run: Any) -> str:
    m = run.manifest
    source = m.get("inputs", {}).get("experiment", {}).get("source", "EXPERIMENT.yaml")
    return f"testbed run {source} --seed {m.get('seed')} --trials {m.get('trials')}"


def write(run: Any, metrics: Dict[str, Any], images: List[Path]) -> None:
    cfg = run.config
    title = f"{cfg.get('name')}: run {run.path.name}"
    tl = metrics["timeline"]
    accuracy = (f"{tl['actions']} actions; lateness p50 {fmt(tl.get('late_ms_p50'))} ms, "
                f"p99 {fmt(tl.get('late_ms_p99'))} ms, max {fmt(tl.get('late_ms_max'))} ms")
    fidelity = "; ".join(_fidelity_text(f) for f in metrics["fidelity"])
    windows = _window_rows(metrics)
    md = [f"# {title}\n", cfg.get("description", "") + "\n",
          _md_table(["", ""], _facts(run)), "\n## Metrics (across trials)\n",
          _md_table(METRIC_HEAD, _metric_rows(metrics)), "\n## Expectations\n",
          _md_table(EXPECT_HEAD, _expect_rows(metrics))]
    who = _who_pays_rows(run, metrics)
    if who:
        md += ["\n## Who pays (whole trial, mean across trials)\n", _md_table(WHO_PAYS_HEAD, who)]
    md += ["\n## Timeline (trial 1)\n",
          accuracy + "\n\n", _md_table(TIMELINE_HEAD, _timeline_rows(run)),
          "\n## Fidelity\n", (fidelity or "not measured") + "\n"]
    if windows:
        md += ["\nCompromised windows (the second ending at t):\n\n",
               _md_table(WINDOW_HEAD, windows)]
    md += ["\n## Plots\n"]
    md += [f"![{p.stem}](plots/{p.name})\n" for p in images]
    md += ["\n## Reproduce\n", f"    {_reproduce(run)}\n"]
    (run.path / "report.md").write_text("\n".join(md))

    figures = "".join(
        f"<figure><img alt='{p.stem}' src='data:image/png;base64,"
        f"{base64.b64encode(p.read_bytes()).decode()}'><figcaption>{p.stem}</figcaption></figure>"
        for p in images)
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:sans-serif;max-width:60em;margin:2em auto;padding:0 1em;color:#222}}
table{{border-collapse:collapse;margin:.5em 0}}td,th{{border:1px solid #ccc;padding:.2em .5em;
text-align:left;font-size:.9em}}.pass{{color:#070;font-weight:bold}}.fail{{color:#b00;
font-weight:bold}}img{{max-width:100%}}code{{background:#f4f4f4;padding:.1em .3em}}</style>
</head><body><h1>{html.escape(title)}</h1><p>{html.escape(cfg.get('description', ''))}</p>
{_html_table(['', ''], _facts(run))}
<h2>Metrics (across trials)</h2>{_html_table(METRIC_HEAD, _metric_rows(metrics))}
<h2>Expectations</h2>{_html_table(EXPECT_HEAD, _expect_rows(metrics))}
{"<h2>Who pays (whole trial, mean across trials)</h2>" + _html_table(WHO_PAYS_HEAD, who)
 if who else ""}
<h2>Timeline (trial 1)</h2><p>{html.escape(accuracy)}</p>
{_html_table(TIMELINE_HEAD, _timeline_rows(run))}
<h2>Fidelity</h2><p>{html.escape(fidelity or 'not measured')}</p>
{"<p>Compromised windows (the second ending at t):</p>" + _html_table(WINDOW_HEAD, windows)
 if windows else ""}
<h2>Plots</h2>{figures}
<h2>Reproduce</h2><p><code>{html.escape(_reproduce(run))}</code></p></body></html>
"""
    (run.path / "report.html").write_text(page)
