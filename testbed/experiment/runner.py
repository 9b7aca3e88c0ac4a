"""`testbed run`: one experiment file -> one run directory.

Per trial: bring the underlay up (start() returns once the controller has installed every
route: T=0 is "routing converged"), start the probers the workloads need, then play the
schedule — each action at T0 + planned, its actual time and duration logged — until the
duration, stop what runs, copy the controller's events of the trial, tear down. After the
trials: metrics, expectations, plots, report. Measurements are flushed as they arrive,
and the manifest says `complete: false` until the very end, so Ctrl-C, SIGTERM or a crash
leaves a readable partial run (metrics and report are still made from what is there,
except after kill -9, where `testbed report RUN` makes them later).

Scheduling: the loop sleeps until the next action's time in steps of at most 0.1 s (so
progress and Ctrl-C stay responsive) and never sleeps past it; an action runs to
completion before the next starts, so a slow action delays those behind it (visible as
`late_ms` in events.jsonl).
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

from ..measure import fidelity
from ..model import parse_topology
from ..model.network import Network
from ..underlay.api import UnderlayAPI
from .actions import REGISTRY, Action
from .agents import AgentWrap, Deployment
from .overlays import class_ports
from .loader import Plan
from .rundir import RunDir, versions
from .timeline import Schedule, schedule
from .watch import Watch
from .workloads import PingWorkload

UnderlayFactory = Callable[[Network], UnderlayAPI]


@dataclass
class RunOutcome:
    run: Path
    status: str  # complete | interrupted | failed
    error: Optional[str] = None
    summary: Dict[str, Any] = field(default_factory=dict)


class Progress:
    """What the runner tells a person; the CLI gives a rich one, tests a silent one."""

    def phase(self, trial: int, trials: int, text: str) -> None: ...

    def tick(self, trial: int, trials: int, elapsed: float, duration: float) -> None: ...


class Trial:
    """One trial's live objects, so that anything may be stopped from anywhere."""

    def __init__(self, plan: Plan, run: RunDir, index: int, sched: Schedule, topo_path: Path,
                 make_underlay: UnderlayFactory, wrap_agents: Optional[AgentWrap] = None):
        self.plan, self.run, self.index, self.sched = plan, run, index, sched
        self.wrap_agents = wrap_agents
        self.net = parse_topology(plan.topology_text, str(topo_path))
        self.underlay = make_underlay(self.net)
        self.workloads: Dict[str, PingWorkload] = {}
        self.stopped_loads: List[PingWorkload] = []  # still draining probes in flight
        self.deployments: Dict[str, Deployment] = {}
        self.t0 = 0.0
        self.t0_ns = 0
        self.capture: Optional[Any] = None  # underlay.capture.Capture while one runs
        self.accounting: Optional[Tuple[threading.Thread, threading.Event]] = None
        self.watch: Optional[Watch] = None  # the data plane, second by second

    def now(self) -> float:
        return time.monotonic() - self.t0

    # --- actions (actions/: each family applies itself through start, stop, underlay) ---
    def execute(self, action: Action) -> Dict[str, Any]:
        """Carry out one action; returns extra fields for its event."""
        return REGISTRY[action.action].apply(action, self)

    def start(self, name: str, kind: str) -> Dict[str, Any]:
        exp = self.plan.experiment
        if kind == "workload":
            if name in self.workloads and self.workloads[name].running:
                return {"note": "already running"}
            spec = next(w for w in exp.workloads if w.name == name)
            end = spec.stop if spec.stop is not None else exp.duration
            stops = [a.at for a in self.sched.actions
                     if a.action == "stop" and a.target == name and a.at >= self.now()]
            length = (min(stops) if stops else end) - self.now()
            rel = f"measurements/trial-{self.index}/{name}.jsonl"
            load = PingWorkload(spec, self.sched.pairs[name], self.net, self.index, self.t0_ns,
                                max(length, 0.1), lambda rec: self.run.append(rel, rec))
            load.start(self.underlay.prober)
            self.workloads[name] = load
            return {"pairs": [list(p) for p in self.sched.pairs[name]]}
        previous = self.deployments.get(name)
        if previous is not None and previous.running:
            return {"note": "already running"}
        if previous is not None and previous.procs:
            self._reaped(name, previous)  # its agents must be gone: same ports
        spec_o = next(o for o in exp.overlays if o.name == name)
        dep = Deployment(spec_o, self.net, self.run.path / "overlays" / f"trial-{self.index}" / name,
                         self.sched.seed, time.time() - self.now())
        pids = dep.start(self.underlay.spawn, self.wrap_agents)
        self.deployments[name] = dep
        return {"agents": len(pids)}

    def stop(self, name: str, kind: str) -> Dict[str, Any]:
        if kind == "workload":
            load = self.workloads.get(name)
            if load is None or not load.running:
                return {"note": "not running"}
            load.stop()
            self.stopped_loads.append(load)
            return {"errors": load.errors} if load.errors else {}
        dep = self.deployments.get(name)
        if dep is None or not dep.running:
            return {"note": "not running"}
        early = dep.exited_early()
        dep.signal()
        return {"exited_early": early} if early else {}

    def _reaped(self, name: str, dep: Deployment) -> None:
        """Wait for a stopped overlay's agents; log how long they took (the contract)."""
        self.run.event(type="overlay_stopped", trial=self.index, overlay=name, **dep.reap())

    def start_accounting(self, every: float = 1.0) -> None:
        """Every `every` seconds from T=0, each inter-AS link's byte counters (a -> b and
        b -> a, and per traffic class where the link back end counts them) into
        measurements/trial-<k>/_links.jsonl (no workload name starts with "_"): what
        billing.py bills."""
        inter = {link.index for link in self.net.links if link.kind == "inter"}
        stop = threading.Event()

        def sample() -> None:
            while True:  # a last sample when stopped: the trial's last second counts
                done = stop.is_set()
                t = round(self.now(), 3)
                classes = self.underlay.class_counters()
                for index, c in self.underlay.link_counters().items():
                    if index in inter:
                        row = {"t": t, "link": index, "ab": c.tx_bytes, "ba": c.rx_bytes}
                        if index in classes:
                            row["classes"] = classes[index]
                        self.run.append(f"measurements/trial-{self.index}/_links.jsonl", row)
                if done:
                    return
                stop.wait(every)
        thread = threading.Thread(target=sample, name="accounting", daemon=True)
        thread.start()
        self.accounting = (thread, stop)

    def stop_accounting(self) -> None:
        if self.accounting is not None:
            thread, stop = self.accounting
            stop.set()
            thread.join(5)
            self.accounting = None

    def start_capture(self, folder: Path) -> None:
        from ..underlay.capture import Capture, points
        spec = self.plan.experiment.capture
        at = ["all"] if spec.at == "all" else spec.at
        self.capture = Capture(self.underlay, folder, points(self.net, at), spec.max_mb,
                               spec.files, spec.snaplen)
        self.capture.start()

    def stop_capture(self) -> None:
        if self.capture is not None:
            self.capture.stop()
            self.capture = None

    def stop_all(self) -> None:
        loads = list(self.workloads.values()) + self.stopped_loads
        for load in loads:
            load.stop()
        for dep in self.deployments.values():
            if dep.running:
                dep.signal()
        for load in loads:
            load.join(wait_s=3.0)
        for name, dep in self.deployments.items():
            if dep.procs:
                self._reaped(name, dep)


class Overdue(Exception):
    """The run's deadline passed."""


class Runner:
    def __init__(self, plan: Plan, out: Path, trials: Optional[int] = None,
                 seed: Optional[int] = None, progress: Optional[Progress] = None,
                 make_underlay: Optional[UnderlayFactory] = None,
                 wrap_agents: Optional[AgentWrap] = None, deadline: Optional[float] = None):
        if make_underlay is None:
            from ..underlay.emulation import Underlay
            make_underlay = Underlay
        self.make_underlay = make_underlay
        self.wrap_agents = wrap_agents  # the grader confines student agents with it
        # time.monotonic() past which the run stops as interrupted (a grading check's
        # timeout); `overdue` says it did
        self.deadline, self.overdue = deadline, False
        self.plan = plan
        self.exp = plan.experiment
        self.trials = trials or self.exp.trials
        self.seed = self.exp.seed if seed is None else seed
        self.out = out
        self.progress = progress or Progress()
        self.run: Optional[RunDir] = None
        self.trial: Optional[Trial] = None

    def prepare(self) -> RunDir:
        """Create the run directory and its manifest (before anything can fail)."""
        run = RunDir(self.out, self.exp.name)
        plan = self.plan
        run.add_input("experiment", Path(plan.source).name, plan.text.encode(), plan.source)
        run.add_input("topology", Path(plan.topology_source).name,
                      Path(plan.topology_source).read_bytes(), plan.topology_source)
        run.add_input("topology_as_run", "topology.run.yaml", plan.topology_text.encode())
        run.write_manifest(seed=self.seed, trials=self.trials,
                           configuration=self.exp.model_dump(by_alias=True, mode="json"),
                           versions=versions(), trials_done=0)
        self.run = run
        return run

    def execute(self) -> RunOutcome:
        """All trials; always ends with the run marked and everything torn down."""
        run = self.run or self.prepare()
        status, error = "complete", None
        try:
            for k in range(1, self.trials + 1):
                self._trial(run, k)
                run.write_manifest(trials_done=k)
        except KeyboardInterrupt:
            status, error = "interrupted", "interrupted (Ctrl-C)"
        except Overdue:
            status, error = "interrupted", "interrupted (its deadline passed)"
        except SystemExit as exc:
            status, error = "interrupted", f"interrupted (signal {int(exc.code or 0) - 128})"
        except Exception as exc:  # the run directory keeps what is there, and says why
            status, error = "failed", f"{type(exc).__name__}: {exc}"
        finally:
            if self.trial is not None:
                self._end_trial(self.trial)
        if error:
            run.event(type="run_ended", status=status, error=error)
        run.write_manifest(error=error)
        run.mark_ended()
        from .results import finish_run
        summary: Dict[str, Any] = {}
        try:
            summary = finish_run(run.path, status, self.progress)
            run.write_manifest(fidelity=summary["fidelity_verdict"])
        except Exception as exc:  # keep the run; `testbed report RUN` can retry
            run.write_manifest(report_error=f"{type(exc).__name__}: {exc}")
        finally:
            run.finish(status)
        return RunOutcome(run.path, status, error, summary)

    # --- one trial ----------------------------------------------------------------------
    def _trial(self, run: RunDir, k: int) -> None:
        trials, duration = self.trials, self.exp.duration
        self.progress.phase(k, trials, "bringing up")
        sched = schedule(self.exp, self.plan.net, k, self.seed)
        topo_path = run.path / "inputs" / "topology.run.yaml"
        trial = self.trial = Trial(self.plan, run, k, sched, topo_path, self.make_underlay,
                                   self.wrap_agents)
        run.event(type="trial_starting", trial=k, seed=sched.seed, choices=sched.choices)
        u = trial.underlay
        u.start()
        if k == 1:
            run.write_manifest(link_backend=u.link_backend, datapath=u.datapath,
                               dataplane=u.dataplane, dataplane_reason=u.dataplane_reason,
                               routing_ready_s=round(u.timings["routes_installed"], 3))
        if self.exp.fidelity == "full" and k == 1:
            self.progress.phase(k, trials, "checking fidelity")
            verdict = fidelity.check(u, throughput=False)
            run.write_manifest(fidelity_check=verdict.as_dict())
        if self.exp.capture is not None:
            self.progress.phase(k, trials, "starting captures")
            trial.start_capture(run.path / "captures" / f"trial-{k}")
        u.set_classes(class_ports(self.exp, u.net))
        sources = sorted({a for pairs in sched.pairs.values() for a, _ in pairs})
        for src in sources:
            u.prober(src)  # forked before T=0, so a workload starts in microseconds
        times0 = fidelity.cpu_times()
        emu0 = u.emulator_seconds()
        trial.t0, trial.t0_ns = time.monotonic(), time.time_ns()
        trial.watch = Watch(u, trial.now, lambda row: run.append(
            f"measurements/trial-{k}/_fidelity.jsonl", row))
        trial.watch.start()
        if "transit" in self.exp.metrics:
            trial.start_accounting()
        run.event(type="trial_started", trial=k, t0_wall=trial.t0_ns / 1e9)
        self.progress.phase(k, trials, "running")
        for action in sched.actions:
            self._wait_until(trial, action.at, k)
            actual = trial.now()
            fields = trial.execute(action)
            took = trial.now() - actual
            run.event(type="action", trial=k, **action.as_dict(), planned=action.at,
                      actual=round(actual, 6), late_ms=round((actual - action.at) * 1000, 3),
                      took_ms=round(took * 1000, 3), **fields)
        self._wait_until(trial, duration, k)
        trial.watch.stop()
        cpu_idle, cpu_steal = fidelity.cpu_shares(times0, fidelity.cpu_times())
        wall = trial.now()
        emu, polling = fidelity.emulator_shares(emu0, u.emulator_seconds(), wall)
        cpu_idle += polling
        # the verdict is the windows' (watch.py); the trial's averages are for the record
        windows = trial.watch.rows
        compromised = sum(1 for w in windows if w["problems"])
        run.event(type="trial_fidelity", trial=k, cpu_idle=round(cpu_idle, 3),
                  cpu_steal=round(cpu_steal, 3),
                  emulator_cpu=None if emu is None else round(emu, 3),
                  windows=len(windows), compromised=compromised,
                  verdict="ok" if windows and not compromised else "degraded")
        self._end_trial(trial)

    def _wait_until(self, trial: Trial, at: float, k: int) -> None:
        while True:
            if self.deadline is not None and time.monotonic() > self.deadline:
                self.overdue = True
                raise Overdue()
            left = at - trial.now()
            self.progress.tick(k, self.trials, trial.now(), self.exp.duration)
            if left <= 0:
                return
            time.sleep(min(left, 0.1))

    def _end_trial(self, trial: Trial) -> None:
        """Stop workloads and agents, keep the controller's events, tear down."""
        self.progress.phase(trial.index, self.trials, "tearing down")
        assert self.run is not None
        if trial.watch is not None:
            trial.watch.stop()
        trial.stop_accounting()
        try:
            trial.stop_all()
        finally:
            trial.stop_capture()
            if trial.t0_ns:
                t0 = trial.t0_ns / 1e9
                for event in trial.underlay.controller_events():
                    if event.get("t", 0) >= t0 - 1:
                        self.run.event(type="controller", trial=trial.index,
                                       at=round(event["t"] - t0, 6), **event)
            trial.underlay.stop()
            self.run.event(type="trial_ended", trial=trial.index,
                           teardown_s=round(trial.underlay.timings.get("teardown", 0), 3))
            self.trial = None

