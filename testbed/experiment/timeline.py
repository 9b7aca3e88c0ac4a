"""An experiment's schedule for one trial: every action with its planned time, and every
random choice made. Pure and deterministic: the same experiment, seed and trial give the
same schedule (tested), which is what lets another researcher replay a run.

Random choices draw from one generator seeded with "<seed>:<trial>" (string seeding is
stable across Python versions and machines):
- `pairs: {random: N}`: N distinct ordered host pairs;
- `link: random-inter-as`: one inter-AS link per trial, the same for every event of that
  trial that says so (so a `link_down` and a later `link_up` hit the same link); drawn
  by the action (`actions.Draws`), after the pairs.

Workloads and overlays start and stop at their own `start`/`stop` (default: the end);
`start`/`stop` events in the timeline add more. Actions at the same time keep file order,
workload and overlay starts first.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple

from ..model.network import Network
from .actions import REGISTRY, Action, Draws
from .schema import Experiment


@dataclass
class Schedule:
    trial: int
    seed: str
    actions: List[Action]
    pairs: Dict[str, List[Tuple[str, str]]]  # workload -> its host pairs
    choices: Dict[str, Any]  # what was drawn at random, for the manifest


def trial_seed(seed: int, trial: int) -> str:
    return f"{seed}:{trial}"


def schedule(exp: Experiment, net: Network, trial: int, seed: Optional[int] = None) -> Schedule:
    seed_text = trial_seed(exp.seed if seed is None else seed, trial)
    rng = random.Random(seed_text)
    choices: Dict[str, Any] = {}
    pairs: Dict[str, List[Tuple[str, str]]] = {}
    hosts = sorted(net.hosts)
    for w in exp.workloads:
        if w.from_ is not None:
            pairs[w.name] = [(w.from_, w.to or "")]
        elif isinstance(w.pairs, list):
            pairs[w.name] = [(a, b) for a, b in w.pairs]
        elif w.pairs is not None:
            every = [(a, b) for a in hosts for b in hosts if a != b]
            pairs[w.name] = sorted(rng.sample(every, w.pairs.random))
            choices[f"{w.name}.pairs"] = [list(p) for p in pairs[w.name]]
    draws = Draws(rng, net, choices)
    own = [(kind, item) for kind, items in (("workload", exp.workloads),
                                            ("overlay", exp.overlays)) for item in items]
    starts = [Action(item.start, "start", item.name, {"kind": kind}) for kind, item in own]
    stops = [Action(item.stop if item.stop is not None else exp.duration, "stop", item.name,
                    {"kind": kind}) for kind, item in own]
    timeline = []
    for ev in exp.timeline:
        target, params = REGISTRY[ev.action].resolve(ev, draws)
        timeline.append(Action(ev.at, ev.action, target, params))
    ordered = sorted(enumerate(starts + timeline + stops),
                     key=lambda item: (item[1].at, item[0]))
    return Schedule(trial, seed_text, [a for _, a in ordered], pairs, choices)
