"""The experiment file's schema (pydantic), the twin of the topology schema: one schema for
validation, messages and the JSON Schema editors use (`testbed schema --experiment`).

An experiment names a topology (with optional overrides), the overlays to deploy, the
workloads to run, a timeline of changes, how long and how often to run it, and what to
expect of the results. Times are seconds (`at: 10` = `at: 10s`; `500ms` works too).
Rules that need the topology (do the hosts exist?) are in `loader`; each timeline
action's own keys and rules are in `actions`.
"""
from __future__ import annotations

from typing import Any, Dict, List, Literal, Optional, Tuple, Union

from pydantic import Field, model_validator
from typing_extensions import Annotated

from ..model.schema import Float, Int, matching
from .actions import event_union
from .fields import Ident, NodeName, Seconds, Strict

MODULE_RE = r"^overlays\.[a-z_][a-z0-9_]*$"
Module = Annotated[str, matching(MODULE_RE, "an overlay module like overlays.echo"),
                   Field(pattern=MODULE_RE,
                         description="the overlay's package, run as `python -m MODULE`, "
                                     "e.g. overlays.echo")]

METRICS = ("rtt", "loss", "outage", "delivery", "overlay", "transit")
class TopologyRef(Strict):
    file: str = Field(max_length=4096, description="topology YAML, relative to this file")
    overrides: Dict[str, Any] = Field(
        default_factory=dict, description="merged into the topology's top-level keys before "
                                          "validation, e.g. {routing: {convergence_delay: 5s}}")


class RandomPairs(Strict):
    random: Int = Field(ge=1, le=100_000,
                        description="this many distinct host pairs, chosen by the seed")


class Overlay(Strict):
    """An overlay deployment: `instances` agent processes per host (one by default), all
    with the same module."""
    name: Ident
    module: Module
    hosts: Union[Literal["all"], List[NodeName]] = Field(description="hosts that run an agent")
    instances: Int = Field(1, ge=1, le=64,
                           description="agents per host, on distinct ports (overlays "
                                       "whose spec allows it: a DHT of 256 nodes on 32 hosts)")
    params: Dict[str, Any] = Field(default_factory=dict,
                                   description="the overlay's knobs (checked against its "
                                               "OverlaySpec), passed to every agent")
    start: Seconds = Field(0.0, description="when the agents start")
    stop: Optional[Seconds] = Field(None, description="when they stop (default: the end)")


class Workload(Strict):
    """Probes between host pairs (type ping), measured per probe."""
    name: Ident
    type: Literal["ping"] = "ping"
    from_: Optional[NodeName] = Field(None, alias="from")
    to: Optional[NodeName] = None
    pairs: Optional[Union[RandomPairs, List[List[NodeName]]]] = Field(
        None, description="instead of from/to: [[a, b], ...] or {random: N}")
    kind: Literal["icmp", "udp", "tcp"] = "icmp"
    rate: Float = Field(10.0, gt=0, le=2000, description="probes per second per pair")
    size: Optional[Int] = Field(None, ge=28, le=1500, description="IP bytes (default 84)")
    timeout: Seconds = Field(1.0, gt=0, le=60, description="a probe unanswered this long is lost")
    start: Seconds = 0.0
    stop: Optional[Seconds] = Field(None, description="default: the end of the experiment")

    @model_validator(mode="after")
    def _endpoints(self) -> "Workload":
        if (self.from_ is None) != (self.to is None):
            raise ValueError("give both 'from' and 'to'")
        if (self.from_ is None) == (self.pairs is None):
            raise ValueError("give either 'from' and 'to', or 'pairs'")
        return self


Event = event_union()


METRIC_RE = r"^[a-z][a-z0-9_-]*\.[a-z][a-z0-9_.-]*$"
MetricName = Annotated[str, matching(METRIC_RE, "a metric like ping.rtt_median_ms or "
                                                "app.ron.outage_s"),
                       Field(pattern=METRIC_RE, max_length=120)]


class Expectation(Strict):
    """metric OP value, within tolerance; the metric is `<workload or overlay>.<name>`
    (see the README for the names). `value` is a number or another metric, to compare
    two deployments: `{metric: nearest.ttfb_median_ms, op: "<", value:
    random.ttfb_median_ms}`. By default it must hold in every trial (a metric compared
    with a metric: each trial's with the same trial's); `aggregate: mean` or `median`
    judges that statistic over the trials instead, for a study that wants one."""
    metric: MetricName
    op: Literal["<", "<=", ">", ">=", "==", "!="] = "=="
    value: Union[Float, MetricName]
    tolerance: Float = Field(0.0, ge=0)
    scale: Float = Field(1.0, gt=0, description="the value is multiplied by this first: "
                                                "`value: bt5.completion_mean_s, scale: 2` "
                                                "is twice that")
    aggregate: Literal["all", "mean", "median"] = Field(
        "all", description="all: it holds in every trial; mean, median: that statistic "
                           "over the trials is judged")


class Capture(Strict):
    """Packet capture of each trial into `captures/trial-<k>/` (testbed/underlay/capture.py)."""
    at: Union[Literal["all"], List[Union[NodeName, List[NodeName]]]] = Field(
        description="all links, or hosts (their access link), routers (all their links) "
                    "and links [a, b]")
    max_mb: Int = Field(20, ge=1, le=2000, description="size of one pcap file, MB")
    files: Int = Field(2, ge=1, le=100, description="a ring of this many files per link "
                                                    "(the oldest overwritten); 1: one file, "
                                                    "unbounded")
    snaplen: Int = Field(0, ge=0, le=262144, description="bytes kept of each packet; 0: all")


class Experiment(Strict):
    name: Ident
    description: str = ""
    topology: Union[Annotated[str, Field(max_length=4096)], TopologyRef] = Field(description="topology YAML (relative to this "
                                                          "file), or {file, overrides}")
    duration: Seconds = Field(gt=0, description="length of one trial, from T=0 (routing "
                                                "converged)")
    seed: Int = Field(1, ge=0, le=2 ** 32 - 1)
    trials: Int = Field(1, ge=1, le=100)
    overlays: List[Overlay] = Field(default_factory=list)
    workloads: List[Workload] = Field(default_factory=list)
    timeline: List[Event] = Field(default_factory=list)
    metrics: List[Literal["rtt", "loss", "outage", "delivery", "overlay", "transit"]] = Field(
        default_factory=lambda: list(METRICS), description="which to derive (default all)")
    expect: List[Expectation] = Field(default_factory=list)
    capture: Optional[Capture] = Field(None, description="pcap files of chosen links")
    billing_bin: Seconds = Field(1.0, ge=1, le=3600,
                                 description="transit: the 95th-percentile bin (ISPs: 5 "
                                             "minutes of a month; here seconds of a run)")
    phases: Dict[Ident, Tuple[Seconds, Seconds]] = Field(
        default_factory=dict, max_length=20,
        description="named windows [start, end] of each trial, each billed on its own "
                    "(transit.<phase>.* metrics), e.g. {before: [0, 10], with_ron: [10, 40]}")
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
