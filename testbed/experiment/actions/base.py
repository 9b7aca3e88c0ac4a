"""What a timeline action is: one class per family of actions, registered once.

A family declares its `Event` (the pydantic model of its timeline entries: `at`,
`action` — a Literal of the family's names — and its own keys), then

- `check(event, ctx)`: problems only the network can reveal (a link that does not exist),
  as (key, message, hint) under the entry's own path;
- `resolve(event, draws)`: the schedule's (target, params) for one trial, random choices
  drawn from `draws` (seeded by the experiment's seed and the trial);
- `apply(action, trial)`: carry it out on the running trial; returns extra fields for
  the action's event in events.jsonl;
- `marked`: whether the run's plots draw it as a vertical line.

The experiment schema is the discriminated union of every family's `Event`, and the
runner looks an action up by name, so an action that validates is always one the runner
can carry out.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import (TYPE_CHECKING, Any, ClassVar, Dict, FrozenSet, Iterator, List, Optional,
                    Set, Tuple, Type)

from ...model.network import Network
from ..fields import Seconds, Strict

if TYPE_CHECKING:
    from ...underlay.api import UnderlayAPI


@dataclass(frozen=True)
class Action:
    """One scheduled action of a trial."""
    at: float  # seconds after T=0
    action: str  # a registered action name
    target: str  # what it acts on, for people: "as1.r1-as2.r1", "ping-direct"
    params: Dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> Dict[str, Any]:
        return {"at": self.at, "action": self.action, "target": self.target, **self.params}


class EventBase(Strict):
    at: Seconds


@dataclass
class CheckContext:
    """What an action's check may look at."""
    exp: Any  # schema.Experiment
    net: Network
    topology_text: str
    adjacent: FrozenSet[FrozenSet[str]]
    workloads: Set[str]
    overlays: Set[str]


class Draws:
    """A trial's random choices, drawn on first use from the trial's generator and
    recorded (for the manifest) under a name; the same name gives the same draw within a
    trial, so a `link_down` and a later `link_up` of `random-inter-as` hit one link."""

    def __init__(self, rng: random.Random, net: Network, choices: Dict[str, Any]):
        self.rng, self.net, self.choices = rng, net, choices
        self._drawn: Dict[str, Any] = {}

    def inter_as_link(self) -> Tuple[str, str]:
        if "random-inter-as" not in self._drawn:
            inter = sorted((l.a, l.b) for l in self.net.links if l.kind == "inter")
            self._drawn["random-inter-as"] = self.rng.choice(inter)
            self.choices["random-inter-as"] = list(self._drawn["random-inter-as"])
        return self._drawn["random-inter-as"]


class Running:
    """What an action can act on during a trial (runner.Trial)."""
    underlay: "UnderlayAPI"

    def start(self, name: str, kind: str) -> Dict[str, Any]: ...

    def stop(self, name: str, kind: str) -> Dict[str, Any]: ...


class ActionFamily:
    names: ClassVar[Tuple[str, ...]]
    Event: ClassVar[Type[EventBase]]
    marked: ClassVar[bool] = False

    def check(self, event: Any, ctx: CheckContext) -> Iterator[Tuple[str, str, str]]:
        return iter(())

    def resolve(self, event: Any, draws: Draws) -> Tuple[str, Dict[str, Any]]:
        raise NotImplementedError

    def apply(self, action: Action, trial: Running) -> Dict[str, Any]:
        raise NotImplementedError


REGISTRY: Dict[str, ActionFamily] = {}
FAMILIES: List[ActionFamily] = []


def register(cls: Type[ActionFamily]) -> Type[ActionFamily]:
    """Class decorator: make the family's actions known to the schema and the runner."""
    family = cls()
    for name in cls.names:
        if name in REGISTRY:
            raise ValueError(f"action '{name}' is registered twice")
        REGISTRY[name] = family
    FAMILIES.append(family)
    return cls


def family_of(name: str) -> Optional[ActionFamily]:
    return REGISTRY.get(name)
