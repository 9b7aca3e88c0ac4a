"""Each kind of check, graded: `grade_check(check, ctx)` -> `Result`. Student code runs
only in the sandbox (sandbox.py); the grader itself (root) reads what comes out of it as
untrusted data.

Partial credit: unit tests and route assertions in proportion to what passes; experiment
expectations an equal share each, `partial_credit` of it for a miss within `band`.
"""
from __future__ import annotations

import os
import shutil
import sys
import time
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from .. import model
from ..control import policy
from ..model.loader import read_input
from . import sandbox
from .schema import (ExperimentCheck, FilesCheck, Limits, LiveCheck, ReachCheck,
                     RoutesCheck, TraceCheck, UnitCheck)

REPO = Path(__file__).resolve().parents[2]


@dataclass
class Context:
    base: Path  # the rubric's directory
    submission: Path  # the submission's files (a private copy)
    work: Path  # scratch space for this submission (outside /tmp's tmpfs in the sandbox)
    limits: Limits


@dataclass
class Result:
    name: str
    title: str
    kind: str
    hidden: bool
    max: float
    points: float = 0.0
    reason: str = ""  # why it lost points, in plain words
    details: List[str] = field(default_factory=list)
    output: str = ""  # what the student's code printed (never shown for hidden checks)
    wall_s: float = 0.0

    @property
    def passed(self) -> bool:
        return self.points >= self.max - 1e-9


def _stage(ctx: Context, extra: Dict[str, Path]) -> Path:
    """A root-only directory with the submission's files and the check's own files
    (copied into the sandbox's work directory by the jail)."""
    stage = Path(tempfile.mkdtemp(prefix="stage-", dir=ctx.work))
    os.chmod(stage, 0o700)
    shutil.copytree(ctx.submission, stage, dirs_exist_ok=True, symlinks=False)
    for name, src in extra.items():
        dst = stage / name
        dst.parent.mkdir(parents=True, exist_ok=True)
        (shutil.copytree if src.is_dir() else shutil.copy)(src, dst)
    return stage


def _limits(ctx: Context) -> Dict[str, Any]:
    return ctx.limits.model_dump()


def _sandboxed(result: Result, outcome: sandbox.Outcome) -> bool:
    """Carry the outcome into the result; False when it earns nothing (a limit, a crash)."""
    result.output, result.wall_s = outcome.output, outcome.wall_s
    result.details += outcome.notes
    if outcome.reason:
        result.reason = outcome.reason
        return False
    if outcome.report is None:
        result.reason = f"it stopped before reporting (exit code {outcome.returncode})"
        return False
    return True


def files(check: FilesCheck, ctx: Context, result: Result) -> None:
    missing = [f for f in check.require if not (ctx.submission / f).is_file()]
    result.points = check.points * (1 - len(missing) / len(check.require))
    if missing:
        result.reason = "missing: " + ", ".join(missing)


def unit(check: UnitCheck, ctx: Context, result: Result) -> None:
    extra = {f"_tests/{Path(t).name}": ctx.base / t for t in check.tests}
    stage = _stage(ctx, extra)
    outcome = sandbox.run([sys.executable, "-m", "testbed.grading.inside",
                           "unit", *sorted(extra)], _limits(ctx), check.timeout, stage,
                          pythonpath=str(REPO))
    shutil.rmtree(stage, ignore_errors=True)
    if not _sandboxed(result, outcome):
        return
    cases = outcome.report.get("cases", []) if isinstance(outcome.report, dict) else []
    cases = [c for c in cases if isinstance(c, dict)][:10_000]
    if not cases:
        result.reason = "no test ran (does the module import?)"
        return
    passed = [c for c in cases if c.get("passed") is True]
    result.points = check.points * len(passed) / len(cases)
    failed = [c for c in cases if c.get("passed") is not True]
    result.details += [f"{str(c.get('name'))[:100]}: {str(c.get('message'))[:200]}"
                       for c in failed]
    if failed:
        result.reason = f"{len(failed)} of {len(cases)} tests failed" + \
            (f" ({outcome.notes[0]})" if outcome.notes else "")


def _reference(net: model.Network) -> Dict[Tuple[int, int], Optional[List[int]]]:
    routes = policy.compute(policy.ASGraph.from_network(net))
    asns = sorted(net.ases)
    return {(a, d): routes.path(routes.graph.index(a), routes.graph.index(d))
            for a in asns for d in asns}


def _naive(net: model.Network) -> Dict[Tuple[int, int], Optional[List[int]]]:
    """The paths routing by AS-path length alone chooses (every route exported, the
    shortest path, the lowest neighbour on a tie): what a submission gets right without
    any policy, and so earns nothing for."""
    from .bgp import simulate
    paths = simulate(net, lambda r, p: (len(r.path), r.neighbour or 0),
                     lambda r, n, p: True)["paths"]
    return {(int(a), int(d)): p for a, row in paths.items() for d, p in row.items()}


def valley(path: List[int], rel: Dict[Tuple[int, int], str]) -> bool:
    """Whether a path (from the source AS) has a valley: after going down to a customer
    or across a peering, it goes up or across again."""
    down = False
    for a, b in zip(path, path[1:]):
        kind = rel.get((a, b))  # what b is to a
        if kind is None:
            return True  # not even neighbours
        if kind in ("provider", "peer") and down:
            return True
        if kind in ("customer", "peer"):
            down = True
    return False


def routes(check: RoutesCheck, ctx: Context, result: Result) -> None:
    from .bgp import neighbours
    topo = ctx.base / check.topology
    stage = _stage(ctx, {"_topology.yaml": topo})
    if not (ctx.submission / check.module).is_file():
        result.reason = f"no {check.module} in the submission"
        return
    outcome = sandbox.run([sys.executable, "-m", "testbed.grading.inside", "routes",
                           "_topology.yaml", check.module], _limits(ctx), check.timeout,
                          stage, pythonpath=str(REPO))
    shutil.rmtree(stage, ignore_errors=True)
    if not _sandboxed(result, outcome):
        return
    report = outcome.report if isinstance(outcome.report, dict) else {}
    paths = report.get("paths") if isinstance(report.get("paths"), dict) else {}
    if not report.get("converged"):
        result.reason = "the routes never settled (the rules oscillate)"
        return
    net = model.load_topology(topo)
    got: Dict[Tuple[int, int], Optional[List[int]]] = {}
    for a in net.ases:
        row = paths.get(str(a), {}) if isinstance(paths.get(str(a)), dict) else {}
        for d in net.ases:
            p = row.get(str(d))
            got[(a, d)] = [int(x) for x in p] if isinstance(p, list) and \
                all(isinstance(x, int) for x in p) else None
    parts: List[Tuple[str, float]] = []  # (what, fraction earned)
    e = check.expect
    if e.match_reference:
        ref, naive = _reference(net), _naive(net)
        wrong = [k for k in ref if ref[k] != got.get(k)]
        free = sum(1 for k in ref if naive.get(k) == ref[k])
        if free < len(ref):  # credit for the paths policy decides, not those length does
            share = max(0, len(ref) - len(wrong) - free) / (len(ref) - free)
            parts.append(("paths equal to Gao-Rexford's (beyond what routing by path length "
                          "alone gets right)", share))
        elif wrong:  # nothing to decide here: any wrong path is all lost
            parts.append(("paths equal to Gao-Rexford's", 0.0))
        result.details += [f"AS{a} -> AS{d}: {got.get((a, d))} (expected {ref[(a, d)]})"
                           for a, d in wrong[:10]]
    if e.valley_free:
        rel = {(a, n.asn): n.relationship for a, ns in neighbours(net).items() for n in ns}
        bad = [p for p in got.values() if p and valley(p, rel)]
        parts.append(("valley-free", 0.0 if bad else 1.0))
        result.details += [f"valley: {p}" for p in bad[:5]]
    for want in e.paths:
        have = got.get((want.path[0], want.path[-1]))
        parts.append((f"path {want.path}", 1.0 if have == want.path else 0.0))
        if have != want.path:
            result.details.append(f"AS{want.path[0]} -> AS{want.path[-1]}: {have} "
                                  f"(expected {want.path})")
    if not parts:
        result.points = check.points
        return
    result.points = check.points * sum(f for _, f in parts) / len(parts)
    missed = [what for what, f in parts if f < 1]
    if missed:
        result.reason = "not met: " + "; ".join(missed[:5])


def _credit(e: Dict[str, Any], band: float, partial: float) -> float:
    if e.get("passed"):
        return 1.0
    measured, target = e.get("measured"), e.get("target")
    if measured is None or target is None:
        return 0.0
    scale = abs(target) or 1.0
    miss = {"<": measured - target, "<=": measured - target, ">": target - measured,
            ">=": target - measured,
            "==": abs(measured - target) - e.get("tolerance", 0.0)}.get(e["op"])
    return partial if miss is not None and miss / scale <= band else 0.0


def unparsable(files: List[Path]) -> Optional[str]:
    """Why one of the Python files does not compile, or None. Compiling runs none of
    the code; a file that does not parse would only crash every agent."""
    for path in files:
        if path.suffix != ".py":
            continue
        try:
            compile(path.read_bytes(), path.name, "exec", dont_inherit=True)
        except SyntaxError as exc:
            return f"{path.name} does not parse: line {exc.lineno}: {exc.msg}"
        except (ValueError, RecursionError, MemoryError) as exc:
            return f"{path.name} does not compile: {type(exc).__name__}"
    return None


def experiment(check: ExperimentCheck, ctx: Context, result: Result) -> None:
    from ..experiment.loader import load_experiment
    missing = [src for src in check.place if not (ctx.submission / src).is_file()]
    if missing:
        result.reason = f"no {missing[0]} in the submission"
        return
    broken = unparsable([ctx.submission / src for src in check.place])
    if broken:
        result.reason = broken
        return
    plan = load_experiment(ctx.base / check.experiment)
    # The agents reach the overlay tree and their config and output files through these
    # paths: under /var/tmp, which the jail covers with a tmpfs and rebuilds the paths
    # in, so a grades folder under /root (0700) does not hide them from the student user.
    scratch = Path(tempfile.mkdtemp(prefix="testbed-grading-", dir="/var/tmp"))
    try:
        _experiment(check, ctx, result, plan, scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _experiment(check: ExperimentCheck, ctx: Context, result: Result, plan: Any,
                scratch: Path) -> None:
    from ..experiment.runner import Runner
    tree = scratch / "tree"
    shutil.copytree(REPO / "overlays", tree / "overlays",
                    ignore=shutil.ignore_patterns("__pycache__"))
    for src, dst in check.place.items():
        shutil.copy(ctx.submission / src, tree / "overlays" / dst)
    for root, dirs, names in os.walk(tree):
        for n in [root, *(os.path.join(root, x) for x in dirs + names)]:
            os.chmod(n, 0o755 if os.path.isdir(n) else 0o644)
    os.chmod(scratch, 0o755)
    uid = sandbox.student_uid()
    limits = _limits(ctx)

    def wrap(argv: List[str], config: Path, output: Path) -> List[str]:
        output.touch()
        os.chown(output, uid, -1)
        return sandbox.jail_argv(limits, argv, net=True, pythonpath=f"{tree}:{REPO}",
                                 binds=[tree, config, output])
    # the deadline stops the run between its steps (and tears it down), not in the middle
    # of bringing the network up or down
    runner = Runner(plan, scratch / "runs", wrap_agents=wrap,
                    deadline=time.monotonic() + check.timeout)
    runner.prepare()
    outcome = runner.execute()
    left = sandbox.kill_user(uid)
    kept = ctx.work / "runs" / outcome.run.relative_to(scratch / "runs")
    kept.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(outcome.run), str(kept))  # the run, for the instructor to look into
    result.details.append(f"run: {kept}")
    if left:
        result.reason = f"left {left} process(es) running after the experiment"
        return
    if runner.overdue:
        result.reason = f"the check ran over its timeout ({check.timeout:g} s)"
        return
    if outcome.status != "complete":
        result.reason = f"the experiment did not complete ({outcome.status}: {outcome.error})"
        return
    expectations = outcome.summary.get("expectations", [])
    if not expectations:
        result.reason = "the experiment has no expectations to grade"
        return
    share = check.points / len(expectations)
    earned = 0.0
    for e in expectations:
        credit = _credit(e, check.band, check.partial_credit)
        earned += share * credit
        if credit < 1:
            result.details.append(f"{e['metric']} {e['op']} {e['value']}: measured "
                                  f"{e.get('measured')}" + (" (partial credit)" if credit else ""))
    result.points = earned
    if earned < check.points:
        result.reason = "expectations missed: " + ", ".join(
            e["metric"] for e in expectations if not e.get("passed"))


def live_network(check: LiveCheck, ctx: Context, result: Result) -> Optional[model.Network]:
    """The check's topology, or None (and why, in `result.reason`) when a submitted one
    is missing, invalid or too big. A submitted file is untrusted input: the topology
    reader's own limits (size, nesting, ranges) apply, and its messages name the file as
    the student sent it, never echo its content."""
    if not check.submitted:
        return model.load_topology(ctx.base / check.topology)
    path = ctx.submission / check.topology
    if not path.is_file():
        result.reason = f"no {check.topology} in the submission"
        return None
    try:
        model.parse_topology(read_input(path, ""), check.topology)  # messages: its name
    except model.InvalidInput as exc:
        result.reason = f"{check.topology} is not a valid topology"
        result.details += [str(d) for d in exc.diagnostics[:10]]
        return None
    net = model.load_topology(path)  # the controller reads the network from its file
    if len(net.routers) > check.max_routers:
        result.reason = (f"{check.topology} has {len(net.routers)} routers; this check "
                         f"takes at most {check.max_routers}")
        return None
    return net


def reach(check: ReachCheck, ctx: Context, result: Result) -> None:
    from ..underlay.emulation import Underlay
    from ..underlay.reachability import host_matrix
    net = live_network(check, ctx, result)
    if net is None:
        return
    with Underlay(net) as u:
        matrix = host_matrix(u)
    bad = [pair for pair, ok in matrix.items() if not ok]
    result.points = check.points * (1 - len(bad) / len(matrix)) if matrix else 0.0
    if bad:
        result.reason = f"{len(bad)} of {len(matrix)} host pairs do not reach each other"
        result.details += [f"{a} -> {b}" for a, b in bad[:10]]


def trace(check: TraceCheck, ctx: Context, result: Result) -> None:
    from ..measure.pathmap import compare
    from ..underlay.emulation import Underlay
    net = live_network(check, ctx, result)
    if net is None:
        return
    unknown = sorted({h for p in check.paths for h in (p.src, p.dst) if h not in net.hosts})
    if unknown:
        result.reason = "no host " + ", ".join(unknown) + f" in {check.topology}"
        return
    matched = 0
    with Underlay(net) as u:
        tables = u.routing_state().tables()
        for p in check.paths:
            seen = u.prober(p.src).trace(net.hosts[p.dst].ip)
            cmp = compare(net, tables, p.src, p.dst, seen.hops, seen.reached)
            ases = cmp.as_path() if seen.reached else None
            if ases == p.ases:
                matched += 1
            else:
                result.details.append(f"{p.src} -> {p.dst}: AS path "
                                      f"{ases if ases else 'none (not reached)'}, "
                                      f"expected {p.ases}")
    result.points = check.points * matched / len(check.paths)
    if matched < len(check.paths):
        result.reason = f"{len(check.paths) - matched} of {len(check.paths)} paths differ"


KINDS = {"files": files, "unit": unit, "routes": routes, "experiment": experiment,
         "reach": reach, "trace": trace}


def grade_check(check: Any, ctx: Context) -> Result:
    result = Result(check.name, check.title, check.kind, check.hidden, check.points)
    KINDS[check.kind](check, ctx, result)
    result.points = round(max(0.0, min(result.points, check.points)), 2)
    return result
