"""What an overlay declares to the harness, in one place: `SPEC = OverlaySpec(...)` in the
overlay package's `__init__.py` (see overlays/README.md, "Adding an overlay").

- `params`: a pydantic model of the agent's knobs with their defaults. The harness
  validates the experiment's `params` with it (errors at the experiment's file:line:col)
  and hands the agent the complete, validated values; the agent reads them with the same
  model, so a default is written once.
- `ports(params, host)`: the ports the agent on `host` binds; two deployments that share
  a host and run at the same time must not share a port (an error when the experiment is
  validated).
- `check(params, members)`: problems the params have with this deployment's members,
  as (path inside params, message), e.g. a flow naming a host that runs no agent.
- `programs(params)`: external programs the agent runs with these params (tor, nginx),
  checked before a run with an install hint.
- `metrics(records, params)`: extra metrics from one trial's records of one deployment
  (beyond what the harness derives for every overlay: means of `metric` lines, flows,
  path divergence).
- `plots(deployments, folder)`: extra plots over the run's deployments of this overlay.
- `underlay_view`: the agents get the underlay's AS paths and configured RTTs between
  members (config key `underlay`: a JSON file), for path choices that avoid ASes and for
  latency models; off by default, as it takes a moment per hundred members.
- `instance_stride`: the overlay can run several agents per host (the deployment's
  `instances`): instance k binds every port of `ports()` plus k × stride, and finds its
  own and its peers' shift in their records (`port_shift`). 0 (the default): one agent
  per host, and `instances` above 1 is refused.

Imports nothing of the harness: agents import their package, and so this module.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple, Type

from pydantic import BaseModel, ConfigDict


class Params(BaseModel):
    """Base of every overlay's params: unknown knobs are errors (a misspelt knob would
    otherwise silently keep its default), numbers finite."""
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


@dataclass(frozen=True)
class Port:
    number: int
    proto: str = "udp"  # udp | tcp
    on: str = "host"  # host: the member's address; loopback: 127.0.0.1


@dataclass(frozen=True)
class Program:
    command: str  # looked up on PATH
    package: str  # the Debian package that has it (the install hint)


@dataclass(frozen=True)
class Deployed:
    """One deployment of the overlay in a run, for its plots."""
    name: str
    params: Any  # the validated Params
    members: List[str]
    records: Dict[int, List[Dict[str, Any]]]  # trial -> every agent's records, with `host`


def _no_ports(params: Any, host: str) -> Sequence[Port]:
    return ()


def _no_programs(params: Any) -> Sequence["Program"]:
    return ()


def _no_problems(params: Any, members: List[str]) -> Iterable[Tuple[Tuple[Any, ...], str]]:
    return ()


@dataclass(frozen=True)
class OverlaySpec:
    params: Type[Params] = Params
    ports: Callable[[Any, str], Sequence[Port]] = _no_ports
    check: Callable[[Any, List[str]], Iterable[Tuple[Tuple[Any, ...], str]]] = _no_problems
    programs: Callable[[Any], Sequence[Program]] = _no_programs
    metrics: Optional[Callable[[List[Dict[str, Any]], Any], Dict[str, float]]] = None
    plots: Optional[Callable[[List[Deployed], Path], List[Path]]] = None
    underlay_view: bool = False
    instance_stride: int = 0
