"""Experiment file -> validated `Plan` (the experiment, its network, the topology text the
controller will load), or `InvalidInput` with every problem at file:line:col.

Passes, each reporting all it finds: YAML syntax, the schema, the topology (its own file's
diagnostics, or — with overrides — the merged document's, pinned to `topology.overrides`),
then rules that need the network: named hosts, routers and links exist, names are
unique, times fall inside the duration, expectations name something measured, and every
policy change yields a valid topology.
"""
from __future__ import annotations

import copy
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterator, Set, Tuple

import pydantic
import yaml

from ..model import InvalidInput
from ..model.checks import Problem
from ..model.diagnostics import Diagnostic, did_you_mean, excerpt
from ..model.loader import (kind_of, problem_diagnostics, pydantic_diagnostics, read_input,
                            validate_topology)
from ..model.network import Network
from ..model.yamlpos import Positions, load_with_positions
from .actions import REGISTRY, CheckContext
from .overlays import check_overlays, params_errors, spec_of
from .schema import Experiment

EXAMPLE_HINT = "see experiments/echo-line.yaml for a small complete example"
PING_METRICS = ("sent", "received", "loss", "delivery", "rtt_min_ms", "rtt_median_ms",
                "rtt_mean_ms", "rtt_p95_ms", "rtt_max_ms", "outage_s")
# keys only an experiment has: a file with any of them is read as an experiment
EXPERIMENT_KEYS = {"topology", "duration", "workloads", "overlays", "timeline", "trials",
                   "expect"}
TOPOLOGY_SUFFIXES = (".yaml", ".yml")


@dataclass
class Plan:
    experiment: Experiment
    net: Network
    source: str  # the experiment file
    text: str  # its bytes, as read
    topology_text: str  # the topology the run uses (overrides applied)
    topology_source: str


def read_document(path: "str | Path") -> Tuple[str, Any, Positions]:
    """(text, data, positions) of an input file, within the limits of `yamlpos`."""
    text = read_input(path, "experiments/ and topologies/")
    data, positions = load_with_positions(text, str(path))
    return text, data, positions


def is_experiment(data: Any) -> bool:
    """Parsed YAML of an experiment file rather than a topology?"""
    return isinstance(data, dict) and bool(EXPERIMENT_KEYS & set(map(str, data)))


def load_experiment(path: "str | Path") -> Plan:
    text, data, positions = read_document(path)
    return validate_experiment(str(path), text, data, positions)


def validate_experiment(filename: str, text: str, data: Any, positions: Positions) -> Plan:
    if not isinstance(data, dict):
        line, col = positions.get((), (1, 1))
        what = "empty" if data is None else kind_of(data)
        raise InvalidInput([Diagnostic(filename, line or 1, col or 1, "",
                                       f"the file must be a mapping with 'name', 'topology' "
                                       f"and 'duration', but it is {what}", EXAMPLE_HINT)])
    if "ases" in data:
        raise InvalidInput(problem_diagnostics(
            [Problem(("ases", "<key>"), "an experiment does not define ASes itself",
                     "put them in a topology file and name it with 'topology: FILE'")],
            positions, filename))
    try:
        exp = Experiment.model_validate(data)
    except pydantic.ValidationError as exc:
        raise InvalidInput(pydantic_diagnostics(exc, data, positions, filename, Experiment)) from None
    topo_path = Path(os.path.normpath(Path(filename).parent / exp.topology_file))
    topo_key = ("topology",) if isinstance(data["topology"], str) else ("topology", "file")
    where = excerpt(exp.topology_file, 80)
    if topo_path.suffix not in TOPOLOGY_SUFFIXES or not topo_path.is_file():
        problem = f"no topology file '{where}'" if not topo_path.is_file() else \
            f"'{where}' is not a topology file (they end in .yaml)"
        raise InvalidInput(problem_diagnostics(
            [Problem(topo_key, problem, "the path is relative to the experiment file, e.g. "
                                        "../topologies/line-3as.yaml")], positions, filename))
    net, topology_text = _topology(topo_path, exp.overrides, positions, filename)
    diagnostics = problem_diagnostics(list(check_experiment(exp, net, topology_text)),
                                      positions, filename)
    for i, error in params_errors(exp).items():
        o = exp.overlays[i]
        diagnostics += pydantic_diagnostics(error, o.params, positions, filename,
                                            spec_of(o.module).params,
                                            prefix=("overlays", i, "params"))
    if diagnostics:
        raise InvalidInput(sorted(diagnostics, key=lambda d: (d.line, d.col)))
    return Plan(exp, net, filename, text, topology_text, str(topo_path))


def _topology(path: Path, overrides: Dict[str, Any], positions: Positions,
              filename: str) -> Tuple[Network, str]:
    """The topology the experiment runs on, and its text (overrides merged in). Problems
    of the file itself are reported at its own lines; problems the overrides cause, at
    the experiment's `topology.overrides`."""
    text, data, topo_positions = read_document(path)
    if not overrides:
        return validate_topology(data, topo_positions, str(path)), text
    merged = merge(data if isinstance(data, dict) else {}, overrides)
    try:
        net = validate_topology(merged, {}, str(path))
    except InvalidInput as exc:
        raise InvalidInput(problem_diagnostics(
            [Problem(("topology", "overrides"), f"with these overrides the topology is invalid: "
                                                f"{d.path}: {d.message}", d.hint)
             for d in exc.diagnostics], positions, filename)) from None
    return net, yaml.safe_dump(merged, sort_keys=False)


def merge(base: Any, over: Any) -> Any:
    """Mappings merge key by key (recursively); anything else is replaced."""
    if isinstance(base, dict) and isinstance(over, dict):
        out = dict(base)
        for key, value in over.items():
            out[key] = merge(base.get(key), value) if key in base else value
        return out
    return copy.deepcopy(over)


def check_experiment(exp: Experiment, net: Network, topology_text: str) -> Iterator[Problem]:
    """Rules that need the network (overlay params are checked by `params_errors`)."""
    hosts = set(net.hosts)
    adjacent = {frozenset((l.a, l.b)) for l in net.links}
    workloads = {w.name for w in exp.workloads}
    overlays = {o.name for o in exp.overlays}

    def host(name: str, path: tuple) -> Iterator[Problem]:
        if name not in hosts:
            yield Problem(path, f"no host '{name}' in {net.name}",
                          did_you_mean(name, hosts) or f"hosts: {_few(hosts)}")

    seen: Set[str] = set()
    for kind, items in (("workloads", exp.workloads), ("overlays", exp.overlays)):
        for i, item in enumerate(items):
            if item.name in seen:
                yield Problem((kind, i, "name"), f"the name '{item.name}' is used twice",
                              "workloads and overlays share one namespace (metrics use it)")
            seen.add(item.name)
            if item.start >= exp.duration:
                yield Problem((kind, i, "start"), f"starts at {item.start:g} s, not before the "
                                                  f"end ({exp.duration:g} s)")
            if item.stop is not None and not item.start < item.stop <= exp.duration:
                yield Problem((kind, i, "stop"), f"stop must be after start ({item.start:g} s) "
                                                 f"and at most the duration ({exp.duration:g} s)")
    for i, w in enumerate(exp.workloads):
        if w.from_ is not None:
            yield from host(w.from_, ("workloads", i, "from"))
            yield from host(w.to or "", ("workloads", i, "to"))
            if w.from_ == w.to:
                yield Problem(("workloads", i, "to"), "a host probing itself measures nothing")
        elif isinstance(w.pairs, list):
            for j, pair in enumerate(w.pairs):
                if len(pair) != 2:
                    yield Problem(("workloads", i, "pairs", j), "a pair is [from, to]")
                for k, name in enumerate(pair[:2]):
                    yield from host(name, ("workloads", i, "pairs", j, k))
        elif w.pairs is not None and w.pairs.random > len(hosts) * (len(hosts) - 1):
            yield Problem(("workloads", i, "pairs", "random"),
                          f"{net.name} has only {len(hosts) * (len(hosts) - 1)} host pairs")
    for name, (start, end) in exp.phases.items():
        if not start < end <= exp.duration:
            yield Problem(("phases", name), f"phase '{name}' must be [start, end] with start "
                                            f"< end <= the duration ({exp.duration:g} s), not "
                                            f"[{start:g}, {end:g}]")
    for i, o in enumerate(exp.overlays):
        if isinstance(o.hosts, list):
            for j, name in enumerate(o.hosts):
                yield from host(name, ("overlays", i, "hosts", j))
            if len(set(o.hosts)) != len(o.hosts):
                yield Problem(("overlays", i, "hosts"), "a host is listed twice")
    ctx = CheckContext(exp, net, topology_text, frozenset(adjacent), workloads, overlays)
    for i, ev in enumerate(exp.timeline):
        if ev.at > exp.duration:
            yield Problem(("timeline", i, "at"), f"at {ev.at:g} s is after the end "
                                                 f"({exp.duration:g} s)")
        for key, message, hint in REGISTRY[ev.action].check(ev, ctx):
            yield Problem(("timeline", i, key), message, hint)
    yield from check_overlays(exp, net)
    if exp.capture is not None and exp.capture.at != "all":
        from ..underlay.capture import problems
        for j, message, hint in problems(net, exp.capture.at):
            yield Problem(("capture", "at", j), message, hint)
    for i, e in enumerate(exp.expect):
        for key in ("metric", "value"):
            name = getattr(e, key)
            if not isinstance(name, str):
                continue
            subject, _, metric = name.partition(".")
            if subject in workloads:
                phase, _, rest = metric.partition(".")
                if rest and phase in exp.phases:
                    metric = rest  # w.<phase>.<metric>: the metric over that phase
                if metric not in PING_METRICS:
                    yield Problem(("expect", i, key), f"a workload has no metric '{metric}'",
                                  did_you_mean(metric, PING_METRICS) or
                                  f"one of {', '.join(PING_METRICS)}")
            elif subject == "transit" and "transit" in exp.metrics:
                continue  # per AS and AS pair: known only once the network is known
            elif subject not in overlays:
                yield Problem(("expect", i, key), f"'{subject}' is no workload or overlay",
                              did_you_mean(subject, workloads | overlays))


def _few(names: Set[str], n: int = 6) -> str:
    ordered = sorted(names)
    return ", ".join(ordered[:n]) + (" ..." if len(ordered) > n else "")
