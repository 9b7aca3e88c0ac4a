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
from typing import Any, Dict, Iterator, Set

import pydantic
import yaml

from ..model import InvalidInput, load_topology, parse_topology
from ..model.checks import Problem
from ..model.diagnostics import Diagnostic, did_you_mean
from ..model.loader import (kind_of, problem_diagnostics, pydantic_diagnostics, read_input,
                            replace_policy)
from ..model.network import Network
from ..model.yamlpos import load_with_positions
from .schema import Experiment

EXAMPLE_HINT = "see experiments/echo-line.yaml for a small complete example"
PING_METRICS = ("sent", "received", "loss", "delivery", "rtt_min_ms", "rtt_median_ms",
                "rtt_mean_ms", "rtt_p95_ms", "rtt_max_ms", "outage_s")


@dataclass
class Plan:
    experiment: Experiment
    net: Network
    source: str  # the experiment file
    text: str  # its bytes, as read
    topology_text: str  # the topology the run uses (overrides applied)
    topology_source: str


def is_experiment(path: "str | Path") -> bool:
    """An experiment file (experiment keys, no `ases`) rather than a topology?"""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return False
    keys = {"topology", "duration", "workloads", "overlays", "timeline", "trials", "expect"}
    return isinstance(data, dict) and bool(keys & set(data)) and "ases" not in data


def load_experiment(path: "str | Path") -> Plan:
    filename = str(path)
    text = read_input(path, "experiments/")
    data, positions = load_with_positions(text, filename)
    if not isinstance(data, dict):
        line, col = positions.get((), (1, 1))
        what = "empty" if data is None else f"a {kind_of(data)}"
        raise InvalidInput([Diagnostic(filename, line or 1, col or 1, "",
                                       f"the file must be a mapping with 'name', 'topology' "
                                       f"and 'duration', but it is {what}", EXAMPLE_HINT)])
    try:
        exp = Experiment.model_validate(data)
    except pydantic.ValidationError as exc:
        raise InvalidInput(pydantic_diagnostics(exc, data, positions, filename, Experiment)) from None
    topo_path = Path(os.path.normpath(Path(filename).parent / exp.topology_file))
    topo_key = ("topology",) if isinstance(data["topology"], str) else ("topology", "file")
    if not topo_path.is_file():
        raise InvalidInput(problem_diagnostics(
            [Problem(topo_key, f"no topology file '{exp.topology_file}' (looked for {topo_path})",
                     "the path is relative to the experiment file, e.g. "
                     "../topologies/line-3as.yaml")], positions, filename))
    topology_text = _with_overrides(topo_path.read_text(encoding="utf-8"), exp.overrides)
    try:
        net = load_topology(topo_path) if not exp.overrides else \
            parse_topology(topology_text, str(topo_path))
    except InvalidInput as exc:
        if not exp.overrides:
            raise
        raise InvalidInput(problem_diagnostics(
            [Problem(("topology", "overrides"), f"with these overrides the topology is invalid: "
                                                f"{d.path}: {d.message}", d.hint)
             for d in exc.diagnostics], positions, filename)) from None
    problems = list(check_experiment(exp, net, topology_text))
    if problems:
        raise InvalidInput(problem_diagnostics(problems, positions, filename))
    return Plan(exp, net, filename, text, topology_text, str(topo_path))


def _with_overrides(text: str, overrides: Dict[str, Any]) -> str:
    if not overrides:
        return text
    data = yaml.safe_load(text) or {}
    return yaml.safe_dump(merge(data, overrides), sort_keys=False)


def merge(base: Any, over: Any) -> Any:
    """Mappings merge key by key (recursively); anything else is replaced."""
    if isinstance(base, dict) and isinstance(over, dict):
        out = dict(base)
        for key, value in over.items():
            out[key] = merge(base.get(key), value) if key in base else value
        return out
    return copy.deepcopy(over)


def check_experiment(exp: Experiment, net: Network, topology_text: str) -> Iterator[Problem]:
    hosts, routers = set(net.hosts), set(net.routers)
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
    for i, o in enumerate(exp.overlays):
        if isinstance(o.hosts, list):
            for j, name in enumerate(o.hosts):
                yield from host(name, ("overlays", i, "hosts", j))
            if len(set(o.hosts)) != len(o.hosts):
                yield Problem(("overlays", i, "hosts"), "a host is listed twice")
    for i, ev in enumerate(exp.timeline):
        if ev.at > exp.duration:
            yield Problem(("timeline", i, "at"), f"at {ev.at:g} s is after the end "
                                                 f"({exp.duration:g} s)")
        if isinstance(ev.link, list):
            unknown = [n for n in ev.link if n not in hosts | routers]
            for n in unknown:
                yield Problem(("timeline", i, "link"), f"no node '{n}' in {net.name}",
                              did_you_mean(n, hosts | routers))
            if not unknown and frozenset(ev.link) not in adjacent:
                yield Problem(("timeline", i, "link"), f"no link between {ev.link[0]} and "
                                                       f"{ev.link[1]}", "name two adjacent nodes")
        if ev.node is not None and ev.node not in routers:
            yield Problem(("timeline", i, "node"), f"no router '{ev.node}' in {net.name}",
                          did_you_mean(ev.node, routers) or "node_fail/node_recover take routers")
        if ev.workload is not None and ev.workload not in workloads:
            yield Problem(("timeline", i, "workload"), f"no workload '{ev.workload}'",
                          did_you_mean(ev.workload, workloads))
        if ev.overlay is not None and ev.overlay not in overlays:
            yield Problem(("timeline", i, "overlay"), f"no overlay '{ev.overlay}'",
                          did_you_mean(ev.overlay, overlays))
        if ev.action == "policy" and ev.asn is not None and ev.policy is not None:
            if ev.asn not in net.ases:
                yield Problem(("timeline", i, "asn"), f"no AS {ev.asn} in {net.name}")
            else:
                try:
                    parse_topology(replace_policy(topology_text, ev.asn,
                                               ev.policy.model_dump(exclude_defaults=True)))
                except InvalidInput as exc:
                    for d in exc.diagnostics:
                        yield Problem(("timeline", i, "policy"), d.message, d.hint)
    for i, e in enumerate(exp.expect):
        subject, _, metric = e.metric.partition(".")
        if subject in workloads:
            if metric not in PING_METRICS:
                yield Problem(("expect", i, "metric"), f"a workload has no metric '{metric}'",
                              did_you_mean(metric, PING_METRICS) or f"one of {', '.join(PING_METRICS)}")
        elif subject not in overlays:
            yield Problem(("expect", i, "metric"), f"'{subject}' is no workload or overlay",
                          did_you_mean(subject, workloads | overlays))


def _few(names: Set[str], n: int = 6) -> str:
    ordered = sorted(names)
    return ", ".join(ordered[:n]) + (" ..." if len(ordered) > n else "")
