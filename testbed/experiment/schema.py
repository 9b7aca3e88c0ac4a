"""The experiment file's schema (pydantic), the twin of the topology schema: one schema for
validation, messages and the JSON Schema editors use (`testbed schema --experiment`).

An experiment names a topology (with optional overrides), the overlays to deploy, the
workloads to run, a timeline of changes, how long and how often to run it, and what to
expect of the results. Times are seconds (`at: 10` = `at: 10s`; `500ms` works too).
Rules that need the topology (do the hosts exist?) are in `checks`.
"""
from __future__ import annotations

import re
from typing import Any, Dict, List, Literal, Optional, Union

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema, model_validator
from typing_extensions import Annotated

from ..model import units
from ..model.schema import Mbits, Milliseconds, Percent, Policy

Seconds = Annotated[float, BeforeValidator(units.parse_seconds),
                    WithJsonSchema({"anyOf": [{"type": "number", "minimum": 0},
                                              {"type": "string", "pattern": units.DURATION_PATTERN}],
                                    "description": "seconds; a number or '10s', '500ms'"})]
Ident = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]*$", max_length=40,
                             description="lower-case letters, digits, '-' and '_'")]


def _pattern(regex: str, what: str) -> Any:
    compiled = re.compile(regex)

    def check(value: Any) -> Any:
        if isinstance(value, str) and not compiled.match(value):
            raise ValueError(f"'{value}' is not {what}")
        return value
    return BeforeValidator(check)


NODE_RE = r"^as\d+\.[a-z][a-z0-9_-]*$"
MODULE_RE = r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$"
# the friendly check runs first; the pattern (never failing after it) feeds the JSON Schema
NodeName = Annotated[str, _pattern(NODE_RE, "a node name like as100.h1 or as100.r1"),
                     Field(pattern=NODE_RE, description="a router or host: as<asn>.<name>")]
Module = Annotated[str, _pattern(MODULE_RE, "a Python module like overlays.echo"),
                   Field(pattern=MODULE_RE,
                         description="Python module run as `python -m MODULE`, e.g. overlays.echo")]

METRICS = ("rtt", "loss", "outage", "delivery", "overlay")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class TopologyRef(_Strict):
    file: str = Field(description="topology YAML, relative to this file")
    overrides: Dict[str, Any] = Field(
        default_factory=dict, description="merged into the topology's top-level keys before "
                                          "validation, e.g. {routing: {convergence_delay: 5s}}")


class RandomPairs(_Strict):
    random: int = Field(ge=1, description="this many distinct host pairs, chosen by the seed")


class Overlay(_Strict):
    """An overlay deployment: one agent process per host, all with the same module."""
    name: Ident
    module: Module
    hosts: Union[Literal["all"], List[NodeName]] = Field(description="hosts that run an agent")
    params: Dict[str, Any] = Field(default_factory=dict, description="passed to every agent")
    start: Seconds = Field(0.0, description="when the agents start")
    stop: Optional[Seconds] = Field(None, description="when they stop (default: the end)")


class Workload(_Strict):
    """Probes between host pairs (type ping), measured per probe."""
    name: Ident
    type: Literal["ping"] = "ping"
    from_: Optional[NodeName] = Field(None, alias="from")
    to: Optional[NodeName] = None
    pairs: Optional[Union[RandomPairs, List[List[NodeName]]]] = Field(
        None, description="instead of from/to: [[a, b], ...] or {random: N}")
    kind: Literal["icmp", "udp", "tcp"] = "icmp"
    rate: float = Field(10.0, gt=0, le=2000, description="probes per second per pair")
    size: Optional[int] = Field(None, ge=28, le=1500, description="IP bytes (default 84)")
    timeout: Seconds = Field(1.0, description="a probe unanswered this long is lost")
    start: Seconds = 0.0
    stop: Optional[Seconds] = Field(None, description="default: the end of the experiment")

    @model_validator(mode="after")
    def _endpoints(self) -> "Workload":
        if (self.from_ is None) != (self.to is None):
            raise ValueError("give both 'from' and 'to'")
        if (self.from_ is None) == (self.pairs is None):
            raise ValueError("give either 'from' and 'to', or 'pairs'")
        return self


ACTIONS = ("link_down", "link_up", "set_link", "node_fail", "node_recover", "policy",
           "start", "stop")


class Event(_Strict):
    """One change at time `at`. Which other keys an action needs:
    link_down/link_up: link; set_link: link and delay/jitter/loss/bandwidth;
    node_fail/node_recover: node; policy: asn and policy; start/stop: workload or overlay."""
    at: Seconds
    action: Literal["link_down", "link_up", "set_link", "node_fail", "node_recover", "policy",
                    "start", "stop"]
    link: Optional[Union[Literal["random-inter-as"], List[NodeName]]] = Field(
        None, description="[a, b] (the nodes at its ends) or random-inter-as (by the seed)")
    node: Optional[NodeName] = None
    delay: Optional[Milliseconds] = None
    jitter: Optional[Milliseconds] = None
    loss: Optional[Percent] = None
    bandwidth: Optional[Union[Mbits, Literal[0]]] = None
    asn: Optional[int] = None
    policy: Optional[Policy] = None
    workload: Optional[Ident] = None
    overlay: Optional[Ident] = None

    @model_validator(mode="after")
    def _needs(self) -> "Event":
        need = {"link_down": ["link"], "link_up": ["link"], "set_link": ["link"],
                "node_fail": ["node"], "node_recover": ["node"], "policy": ["asn", "policy"]}
        missing = [k for k in need.get(self.action, []) if getattr(self, k) is None]
        if missing:
            raise ValueError(f"action '{self.action}' needs {' and '.join(repr(m) for m in missing)}")
        if isinstance(self.link, list) and len(self.link) != 2:
            raise ValueError("'link' names the two nodes at its ends: [a, b]")
        if self.action == "set_link" and all(getattr(self, k) is None for k in
                                             ("delay", "jitter", "loss", "bandwidth")):
            raise ValueError("set_link needs at least one of delay, jitter, loss, bandwidth")
        if self.action in ("start", "stop") and (self.workload is None) == (self.overlay is None):
            raise ValueError(f"action '{self.action}' needs one of 'workload' or 'overlay'")
        return self


class Expectation(_Strict):
    """metric OP value, within tolerance; the metric is `<workload or overlay>.<name>`
    (see the README for the names), its value the mean over trials."""
    metric: str = Field(pattern=r"^[a-z][a-z0-9_-]*\.[a-z][a-z0-9_.-]*$")
    op: Literal["<", "<=", ">", ">=", "==", "!="] = "=="
    value: float
    tolerance: float = Field(0.0, ge=0)


class Experiment(_Strict):
    name: Ident
    description: str = ""
    topology: Union[str, TopologyRef] = Field(description="topology YAML (relative to this "
                                                          "file), or {file, overrides}")
    duration: Seconds = Field(description="length of one trial, from T=0 (routing converged)")
    seed: int = Field(1, ge=0)
    trials: int = Field(1, ge=1, le=100)
    overlays: List[Overlay] = Field(default_factory=list)
    workloads: List[Workload] = Field(default_factory=list)
    timeline: List[Event] = Field(default_factory=list)
    metrics: List[Literal["rtt", "loss", "outage", "delivery", "overlay"]] = Field(
        default_factory=lambda: list(METRICS), description="which to derive (default all)")
    expect: List[Expectation] = Field(default_factory=list)
    fidelity: Literal["light", "full"] = Field(
        "light", description="light: CPU headroom and emulator load during each trial; full: "
                             "also `doctor --fidelity`'s measurements before trial 1")

    @property
    def topology_file(self) -> str:
        return self.topology if isinstance(self.topology, str) else self.topology.file

    @property
    def overrides(self) -> Dict[str, Any]:
        return {} if isinstance(self.topology, str) else self.topology.overrides


def json_schema() -> Dict[str, Any]:
    schema = Experiment.model_json_schema(by_alias=True)
    schema["$schema"] = "http://json-schema.org/draft-07/schema#"
    schema["title"] = "testbed experiment"
    return schema
