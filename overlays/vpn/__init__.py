"""An encrypted tunnel (VPN) between sites (see __main__ for the agent, tunnel for the
packet format).

Each member is a site: a TUN device `vpn0` in its namespace with an address of the
tunnel network (`network`, site i gets its i-th host address, in the members' order),
and a route for the network through it. IP packets written to `vpn0` for another site's
address are sealed with ChaCha20-Poly1305 and sent in UDP to that site's underlay address
on `port`; what arrives is opened, checked against replays and written to `vpn0`. The
agent also measures its own overhead: UDP echoes to each peer straight and through the
tunnel (`rtt_direct_ms`, `rtt_tunnel_ms`), and iperf3 transfers both ways
(`tcp_direct_mbit`, `tcp_tunnel_mbit`).
"""
import ipaddress
from typing import Iterable, List, Sequence, Tuple

from pydantic import Field, field_validator

from ..spec import OverlaySpec, Params, Port, Program
from .analysis import metrics


class VpnParams(Params):
    network: str = Field("172.16.0.0/24", description="the tunnel's addresses (IPv4)")
    port: int = Field(51820, ge=1, le=65535, description="UDP port of the encapsulation")
    mtu: int = Field(1420, ge=576, le=1472,
                     description="of vpn0: 1500 - 20 (IP) - 8 (UDP) - 9 (header) - 16 (tag) "
                                 "leaves 1447; 1420 as WireGuard")
    echo_port: int = Field(7200, ge=1, le=65535, description="UDP echo, straight and tunnelled")
    tcp_port: int = Field(7201, ge=1, le=65535, description="the sites' iperf3 servers")
    interval: float = Field(0.2, gt=0, le=60, description="seconds between echo rounds")
    tcp_seconds: float = Field(3.0, ge=0, le=600,
                               description="each bulk transfer's length (0: none); the "
                                           "first member sends to each peer, straight then "
                                           "tunnelled, after `tcp_after` seconds")
    tcp_after: float = Field(10.0, ge=0, le=3600,
                             description="seconds of echoes before the transfers")

    @field_validator("network")
    @classmethod
    def _network(cls, value: str) -> str:
        net = ipaddress.IPv4Network(value, strict=True)
        if net.prefixlen > 30:
            raise ValueError("the tunnel network needs room for two sites (/30 at most)")
        return str(net)

    def address(self, index: int) -> str:
        return str(list(ipaddress.IPv4Network(self.network).hosts())[index])


def ports(params: VpnParams, host: str) -> Sequence[Port]:
    return [Port(params.port), Port(params.echo_port), Port(params.tcp_port, "tcp")]


def check(params: VpnParams, members: List[str]) -> Iterable[Tuple[Tuple, str]]:
    room = ipaddress.IPv4Network(params.network).num_addresses - 2
    if len(members) > room:
        yield ("network",), f"{len(members)} sites need more than the {room} addresses of it"
    if len(members) < 2:
        yield (), "a tunnel needs two sites at least"


def programs(params: VpnParams) -> Sequence[Program]:
    return [Program("iperf3", "iperf3")] if params.tcp_seconds > 0 else []


SPEC = OverlaySpec(params=VpnParams, ports=ports, check=check, programs=programs,
                   metrics=metrics)
