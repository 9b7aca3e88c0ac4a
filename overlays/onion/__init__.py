"""Onion routing in Python, to read and change (see __main__ for the agent).

One deployment is one small onion network: a directory `authority` that signs the
consensus, `relays` (guards, middles, exits: OR port, onion key, bandwidth, family, exit
policy) and `clients`, each an onion proxy with a SOCKS5 port on the host's loopback.
The modules: cells (the 512-byte cell format), crypto (per-hop handshake and layers),
directory (descriptors, the signed consensus), exitpolicy, path (path selection,
vanilla and as-aware), link (a TCP link carrying cells), relay, client (the onion proxy
and SOCKS5), authority, analysis (metrics).

What differs from Tor, on purpose: one authority, not a vote; links without TLS; no
SENDME windows (TCP back-pressure hop by hop instead); no padding or circuit-level
defences; exit policies of `accept|reject ADDR/LEN:PORTS` rules only.
"""
from typing import Iterable, List, Literal, Optional, Sequence, Tuple

from pydantic import Field, field_validator

from ..spec import OverlaySpec, Params, Port
from .analysis import metrics, model_plot
from .exitpolicy import parse_rule


class RelaySpec(Params):
    host: str = Field(max_length=128, description="the member that runs the relay")
    bandwidth: float = Field(10.0, gt=0, le=100_000,
                             description="consensus weight, Mbit/s (path selection only: "
                                         "not enforced)")
    exit: bool = Field(False, description="opens streams out of the network")
    guard: bool = Field(True, description="may be a client's first hop")
    family: str = Field("", max_length=64,
                        description="relays of one operator: never two in one circuit")


class Sample(Params):
    """The path-selection study: `circuits` circuit choices toward `destinations`, made
    with the client's real selection code but not built (so thousands fit in a run):
    each reports whether one AS sees both ends (`as_shared`) and the circuit's
    configured RTT (`circuit_rtt_ms`)."""
    circuits: int = Field(0, ge=0, le=100_000)
    destinations: List[str] = Field(default_factory=list, max_length=10_000,
                                    description="hosts (default: every member)")
    port: int = Field(80, ge=1, le=65535, description="the destinations' port")


class OnionParams(Params):
    authority: str = Field(max_length=128, description="the member that runs the directory")
    relays: List[RelaySpec] = Field(min_length=1, max_length=2000)
    clients: Optional[List[str]] = Field(
        None, max_length=10_000,
        description="members that run an onion proxy (default: the members that are "
                    "neither the authority nor a relay)")
    hops: int = Field(3, ge=1, le=8, description="relays per circuit")
    selection: Literal["vanilla", "as-aware"] = Field(
        "vanilla", description="as-aware: avoid exits whose path to the destination "
                               "shares an AS with the path to the guard")
    exit_policy: List[str] = Field(["accept *:*"], max_length=100,
                                   description="the exits' rules, first match wins")
    lifetime: float = Field(600.0, gt=0, le=86_400,
                            description="seconds a circuit takes new streams after its "
                                        "first (tor's MaxCircuitDirtiness)")
    prebuild: Optional[str] = Field(
        None, max_length=200,
        description="HOST:PORT: build a circuit for it at start (a member's name or "
                    "address), so the first stream does not wait")
    or_port: int = Field(9001, ge=1, le=65535)
    dir_port: int = Field(9030, ge=1, le=65535)
    socks_port: int = Field(9050, ge=1, le=65535, description="on the client's loopback")
    sample: Sample = Field(default_factory=Sample)

    @field_validator("exit_policy")
    @classmethod
    def _rules(cls, rules: List[str]) -> List[str]:
        for rule in rules:
            try:
                parse_rule(rule)
            except ValueError as e:
                raise ValueError(f"exit policy rule {rule[:80]!r}: {e}") from None
        return rules

    def relay(self, host: str) -> Optional[RelaySpec]:
        return next((r for r in self.relays if r.host == host), None)

    def client_hosts(self, members: Sequence[str]) -> List[str]:
        if self.clients is not None:
            return list(self.clients)
        relays = {r.host for r in self.relays}
        return [m for m in members if m != self.authority and m not in relays]


def ports(params: OnionParams, host: str) -> Sequence[Port]:
    out = []
    if host == params.authority:
        out.append(Port(params.dir_port, "tcp"))
    if params.relay(host) is not None:
        out.append(Port(params.or_port, "tcp"))
    if host in params.client_hosts([host]):
        out.append(Port(params.socks_port, "tcp", on="loopback"))
    return out


def check(params: OnionParams, members: List[str]) -> Iterable[Tuple[Tuple, str]]:
    known = set(members)
    if params.authority not in known:
        yield ("authority",), f"'{params.authority}' runs no agent of this overlay"
    seen = set()
    for i, r in enumerate(params.relays):
        if r.host not in known:
            yield ("relays", i, "host"), f"'{r.host}' runs no agent of this overlay"
        if r.host in seen:
            yield ("relays", i, "host"), f"'{r.host}' is listed twice"
        seen.add(r.host)
    for i, c in enumerate(params.clients or []):
        if c not in known:
            yield ("clients", i), f"'{c}' runs no agent of this overlay"
    for i, d in enumerate(params.sample.destinations):
        if d not in known:
            yield ("sample", "destinations", i), f"'{d}' runs no agent of this overlay"
    if not any(r.exit for r in params.relays):
        yield ("relays",), "no relay is an exit (set exit: true on at least one)"
    if params.hops > len(params.relays):
        yield ("hops",), (f"{params.hops} hops need as many relays; {len(params.relays)} "
                          "are listed")
    if params.prebuild is not None:
        host, _, port = params.prebuild.rpartition(":")
        if not host or not port.isdigit() or not 1 <= int(port) <= 65535:
            yield ("prebuild",), "write HOST:PORT, e.g. as300.h1:8080"


SPEC = OverlaySpec(params=OnionParams, ports=ports, check=check, metrics=metrics,
                   plots=model_plot, underlay_view=True)
