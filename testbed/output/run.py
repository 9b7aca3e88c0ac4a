"""What a person sees of a run: live progress (phase, trial, time left) and the one-screen
summary at the end; and two runs side by side (`testbed compare`)."""
from __future__ import annotations

from typing import Any, Dict, List

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ..experiment.report import fmt, judged_on, per_trial, wanted


class RichRunProgress:
    """runner.Progress on a rich progress bar over all trials."""

    def __init__(self, console: Console, duration: float, trials: int):
        self.duration, self.trials = duration, trials
        self.bar = Progress(TextColumn("{task.description}"), BarColumn(),
                            TimeElapsedColumn(), console=console, transient=False)
        self.task = self.bar.add_task("starting", total=duration * trials)
        self.phase_text = "starting"
        self.trial = 1

    def __enter__(self) -> "RichRunProgress":
        self.bar.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.bar.stop()

    def phase(self, trial: int, trials: int, text: str) -> None:
        self.phase_text = text
        if trial:
            self.trial = trial
        self.bar.update(self.task, description=self._describe(None))

    def tick(self, trial: int, trials: int, elapsed: float, duration: float) -> None:
        self.trial = trial
        done = (trial - 1) * duration + min(elapsed, duration)
        self.bar.update(self.task, completed=done,
                        description=self._describe(self.duration * self.trials - done))

    def _describe(self, left: Any) -> str:
        text = f"trial {self.trial}/{self.trials} · {self.phase_text}"
        return text + (f" · {left:.0f} s of experiment time left" if left is not None else "")


def print_run_summary(console: Console, outcome: Any) -> None:
    summary: Dict[str, Any] = outcome.summary
    style = {"complete": "green", "interrupted": "yellow"}.get(outcome.status, "red")
    console.print(f"[bold {style}]{outcome.status}[/]" +
                  (f": {outcome.error}" if outcome.error else ""), highlight=False)
    if summary:
        table = Table(title="metrics (mean over trials, 95% CI)")
        for col in ("metric", "mean", "± CI", "trials"):
            table.add_column(col)
        for name, s in list(summary["across_trials"].items())[:24]:
            table.add_row(name, fmt(s["mean"]), fmt(s["ci95"]), str(s["n"]))
        console.print(table)
        for e in summary["expectations"]:
            mark = "[green]PASS[/]" if e["passed"] else "[red]FAIL[/]"
            console.print(f"{mark} {e['metric']} {e['op']} {wanted(e)} "
                          f"(measured {fmt(e['measured'])}, {judged_on(e)}; per trial "
                          f"{per_trial(e)})", highlight=False)
        tl = summary["timeline"]
        if tl.get("actions"):
            console.print(f"timeline: {tl['actions']} actions, lateness p99 "
                          f"{fmt(tl['late_ms_p99'])} ms", highlight=False)
        style = "green" if summary["fidelity_verdict"] == "ok" else "yellow"
        console.print(f"fidelity: [{style}]{summary['fidelity_verdict']}[/]", highlight=False)
        for f in summary["fidelity"]:
            bad = f.get("compromised")
            if bad:
                console.print(f"  trial {f['trial']}: {len(bad)} of {f['windows']} seconds "
                              f"compromised; the first, ending at {fmt(bad[0]['t'])} s: "
                              f"{'; '.join(bad[0]['problems'])}", highlight=False)
    console.print(f"results: {outcome.run}  (report.html, report.md, metrics.json)",
                  highlight=False)


def print_comparison(console: Console, runs: List[Any], metrics: List[Dict[str, Any]]) -> None:
    a, b = metrics
    names = sorted(set(a["across_trials"]) | set(b["across_trials"]))
    table = Table(title=f"A = {runs[0].path}\nB = {runs[1].path}")
    for col in ("metric", "A mean ± CI", "B mean ± CI", "B − A"):
        table.add_column(col)
    for name in names:
        sa, sb = a["across_trials"].get(name, {}), b["across_trials"].get(name, {})
        ma, mb = sa.get("mean"), sb.get("mean")
        diff = mb - ma if ma is not None and mb is not None else None
        table.add_row(name, f"{fmt(ma)} ± {fmt(sa.get('ci95'))}",
                      f"{fmt(mb)} ± {fmt(sb.get('ci95'))}", fmt(diff))
    console.print(table)
    for run in runs:
        m = run.manifest
        console.print(f"{run.path.name}: {m.get('status')}, seed {m.get('seed')}, "
                      f"{m.get('trials_done', 0)}/{m.get('trials')} trials, links "
                      f"{m.get('link_backend')}, fidelity {m.get('fidelity')}", highlight=False)
