"""A structured overlay: Chord (ring.py for the id ring, chord.py for the node, __main__
for the agent, analysis.py for the judgement of lookups).

Chord rather than Kademlia: Chord's lookup path length has a model one can check, ½·log2 N
(each finger jump halves the distance to the key; about half the bits need one), and its
ring, successor lists and stabilisation are what courses draw. Kademlia's hop count
depends on its bucket size, parallelism and how full the buckets are (log2 N is a bound,
not a prediction, with k = 20), so there is no model to be within 15% of.

Every agent (several per host with the deployment's `instances`, ports `port + k`) is one
node. Nodes join one after another (`join_gap` apart, in member order, through the first
member, or any member once it has failed), keep their successor list, predecessor and
fingers up to date, and look up random keys. With `churn`, each node fails at random
times (a Poisson process; the fraction of nodes failing per minute), stays down `down`
seconds and comes back as a new node (a new id): failing and joining at equal rates.
"""
from typing import Sequence

from pydantic import Field

from ..spec import OverlaySpec, Params, Port
from .analysis import hops_plot, metrics


class DHTParams(Params):
    port: int = Field(4000, ge=1, le=65000,
                      description="UDP port of instance 0; instance k uses port + k")
    successors: int = Field(8, ge=1, le=32, description="length of the successor list")
    stabilise: float = Field(1.0, gt=0, le=60, description="seconds between stabilisations")
    fix_fingers: float = Field(4.0, gt=0, le=600,
                               description="mean seconds between finger fixes (one lookup "
                                           "each: the next distinct finger), after a "
                                           "joining node's first pass over all of them")
    timeout: float = Field(1.0, gt=0, le=10, description="a query unanswered this long has "
                                                         "failed")
    join_gap: float = Field(0.05, ge=0, le=10,
                            description="seconds between the joins of consecutive members")
    start_after: float = Field(30.0, ge=0, le=3600,
                               description="seconds after its start before a node looks up")
    interval: float = Field(2.0, gt=0, le=3600,
                            description="mean seconds between a node's lookups")
    lookups: int = Field(0, ge=0, le=100_000, description="lookups per node; 0: until stopped")
    churn: float = Field(0.0, ge=0, le=10,
                         description="fraction of the nodes that fail per minute")
    churn_from: float = Field(0.0, ge=0, le=86400,
                              description="seconds after its start before a node may fail")
    down: float = Field(10.0, ge=0, le=3600,
                        description="seconds a failed node stays away before it rejoins")


def ports(params: DHTParams, host: str) -> Sequence[Port]:
    return [Port(params.port, "udp")]


SPEC = OverlaySpec(params=DHTParams, ports=ports, metrics=metrics, plots=hops_plot,
                   instance_stride=1)
