"""A private Tor network of Debian's `tor` daemons beside the Python onion router (see
__main__ for the agent, torrc for the configuration).

One deployment is one test network, as chutney builds them: `authorities` (directory
authorities, keys made by `tor-gencert`), `relays` (some of them exits) and `clients`
(a SocksPort on the host's loopback), all with `TestingTorNetwork 1` and chutney's fast
voting schedule, bootstrapping on the emulated underlay. The clients' SOCKS ports take
the same workloads as the Python onion proxy's (overlays/web with `via: socks`).
"""
from typing import Iterable, List, Optional, Sequence, Tuple

from pydantic import Field

from ..spec import OverlaySpec, Params, Port, Program
from .analysis import metrics


class TorRelay(Params):
    host: str = Field(max_length=128)
    exit: bool = False


class TorParams(Params):
    authorities: List[str] = Field(min_length=1, max_length=9,
                                   description="members that run a directory authority "
                                               "(also a relay)")
    relays: List[TorRelay] = Field(default_factory=list, max_length=500)
    clients: Optional[List[str]] = Field(
        None, max_length=1000, description="members that run a client (default: the "
                                           "members that are neither authority nor relay)")
    or_port: int = Field(5000, ge=1, le=65535)
    dir_port: int = Field(7000, ge=1, le=65535)
    socks_port: int = Field(9050, ge=1, le=65535, description="the clients', on loopback")
    keys_port: int = Field(7001, ge=1, le=65535,
                           description="where an authority's agent hands out its "
                                       "DirAuthority line (the test network's key "
                                       "distribution, chutney's job)")
    voting_interval: int = Field(20, ge=10, le=3600,
                                 description="seconds between the authorities' votes "
                                             "(V3AuthVotingInterval; chutney uses 20)")
    bootstrap_timeout: float = Field(180.0, gt=0, le=3600,
                                     description="a node not bootstrapped by then is "
                                                 "reported as failed")

    def relay(self, host: str) -> Optional[TorRelay]:
        return next((r for r in self.relays if r.host == host), None)

    def client_hosts(self, members: Sequence[str]) -> List[str]:
        if self.clients is not None:
            return list(self.clients)
        busy = set(self.authorities) | {r.host for r in self.relays}
        return [m for m in members if m not in busy]


def ports(params: TorParams, host: str) -> Sequence[Port]:
    out = []
    if host in params.authorities or params.relay(host) is not None:
        out.append(Port(params.or_port, "tcp"))
    if host in params.authorities:
        out += [Port(params.dir_port, "tcp"), Port(params.keys_port, "tcp")]
    if host in params.client_hosts([host]):
        out.append(Port(params.socks_port, "tcp", on="loopback"))
    return out


def check(params: TorParams, members: List[str]) -> Iterable[Tuple[Tuple, str]]:
    known = set(members)
    for i, a in enumerate(params.authorities):
        if a not in known:
            yield ("authorities", i), f"'{a}' runs no agent of this overlay"
    for i, r in enumerate(params.relays):
        if r.host not in known:
            yield ("relays", i, "host"), f"'{r.host}' runs no agent of this overlay"
        if r.host in params.authorities:
            yield ("relays", i, "host"), f"'{r.host}' is an authority (authorities relay too)"
    for i, c in enumerate(params.clients or []):
        if c not in known:
            yield ("clients", i), f"'{c}' runs no agent of this overlay"
    if not any(r.exit for r in params.relays):
        yield ("relays",), "no relay is an exit (set exit: true on at least one)"


def programs(params: TorParams) -> Sequence[Program]:
    return [Program("tor", "tor"), Program("tor-gencert", "tor")]


SPEC = OverlaySpec(params=TorParams, ports=ports, check=check, programs=programs,
                   metrics=metrics)
