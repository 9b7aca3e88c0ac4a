"""The resolved network: every router, host, interface and link with its final address,
port, MAC and link properties. This is what the underlay builds, the controller routes and
the measurement layer maps addresses back to. It is derived deterministically from a
validated `Topology`, so the same file always gives the same plan.
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Dict, FrozenSet, List, Optional, Tuple


@dataclass(frozen=True)
class LinkProps:
    """Emulated link properties after defaults were applied (None: not emulated)."""
    delay_ms: Optional[float] = None
    jitter_ms: Optional[float] = None
    loss_pct: Optional[float] = None
    bandwidth_mbit: Optional[float] = None


@dataclass(frozen=True)
class Interface:
    """A router port. Router interfaces own IP addresses (answered by the router app)."""
    router: str
    port: int
    ip: str
    prefixlen: int
    mac: str
    link: int  # index into Network.links


@dataclass(frozen=True)
class Policy:
    """An AS's routing policy, neighbours by ASN (see control/policy.py for semantics)."""
    local_pref: Dict[int, int] = field(default_factory=dict)
    prefer: FrozenSet[int] = frozenset()
    avoid: FrozenSet[int] = frozenset()
    no_export: FrozenSet[int] = frozenset()
    prepend: Dict[int, int] = field(default_factory=dict)
    exit: str = "hot-potato"


@dataclass(frozen=True)
class AutonomousSystem:
    asn: int
    name: str
    prefix: ipaddress.IPv4Network
    routers: Tuple[str, ...]
    hosts: Tuple[str, ...]
    policy: Policy = field(default_factory=Policy)


@dataclass(frozen=True)
class Router:
    name: str  # as<asn>.<local>
    asn: int
    index: int  # position among all routers, 0-based
    dpid: int
    lan: ipaddress.IPv4Network
    gateway: str  # the router's address on its LAN

    @property
    def dpid_hex(self) -> str:
        return f"{self.dpid:016x}"


@dataclass(frozen=True)
class Host:
    name: str  # as<asn>.<local>
    asn: int
    index: int
    router: str
    ip: str
    prefixlen: int
    gateway: str
    mac: str
    link: int


@dataclass(frozen=True)
class Link:
    """kind: 'intra' (same AS), 'inter' (two ASes) or 'access' (host to router).

    For 'inter', relationship is a's relationship to b: provider-customer means a is b's
    provider. For 'access', a is the host and a_port is 0.
    """
    index: int
    kind: str
    a: str
    b: str
    a_port: int
    b_port: int
    subnet: ipaddress.IPv4Network
    a_ip: str
    b_ip: str
    props: LinkProps
    cost: int = 1
    relationship: Optional[str] = None
    price: Optional[float] = None  # transit, USD per Mbit/s per month (95th percentile)
    peering_cost: Optional[float] = None  # a peering's flat USD per month, each side


@dataclass
class Network:
    name: str
    source: str
    ases: Dict[int, AutonomousSystem]
    routers: Dict[str, Router]
    hosts: Dict[str, Host]
    links: List[Link]
    interfaces: Dict[Tuple[str, int], Interface] = field(default_factory=dict)
    routing_mode: str = "policy"  # or "shortest"
    convergence_delay_ms: float = 30000.0
    link_backend: str = "auto"  # auto | netem | userspace
    dataplane: str = "auto"  # auto | openflow | linux

    def router_interfaces(self, router: str) -> List[Interface]:
        return sorted((i for (r, _), i in self.interfaces.items() if r == router),
                      key=lambda i: i.port)

    @property
    def owners(self) -> Dict[str, str]:
        """Every router interface's and host's address -> the node that owns it: the one
        address map (traceroute hops, overlay path reports, route walks). Built once."""
        cached = self.__dict__.get("_owners")
        if cached is None:
            cached = {i.ip: i.router for i in self.interfaces.values()}
            cached.update({h.ip: h.name for h in self.hosts.values()})
            self.__dict__["_owners"] = cached
        return cached

    def owner_of(self, address: str) -> Optional[str]:
        """The router or host that owns an address, or None."""
        return self.owners.get(address)

    def asn_of(self, node: str) -> int:
        return (self.routers[node] if node in self.routers else self.hosts[node]).asn


def router_mac(router_index: int, port: int) -> str:
    """Locally administered, unique per (router, port): 02:00:00:RR:RR:PP."""
    n = router_index + 1
    return f"02:00:00:{(n >> 8) & 0xff:02x}:{n & 0xff:02x}:{port & 0xff:02x}"


def host_mac(host_index: int) -> str:
    n = host_index + 1
    return f"0a:00:00:{(n >> 16) & 0xff:02x}:{(n >> 8) & 0xff:02x}:{n & 0xff:02x}"
