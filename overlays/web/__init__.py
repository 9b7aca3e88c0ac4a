"""A web workload (see __main__ for the agent): file `servers` and `clients` that fetch
objects of the sizes Tor's own performance measurements use (50 KiB, 1 MiB, 5 MiB),
directly or through a SOCKS5 proxy on the client's loopback (an onion proxy, real tor's
SocksPort), recording time to first byte and to last byte.
"""
from typing import Iterable, List, Literal, Optional, Sequence, Tuple

from pydantic import Field

from ..spec import OverlaySpec, Params, Port
from .analysis import fetches_plot, metrics


class WebParams(Params):
    servers: List[str] = Field(min_length=1, max_length=1000,
                               description="members that serve objects")
    clients: Optional[List[str]] = Field(None, max_length=10_000,
                                         description="members that fetch (default: the "
                                                     "members that are not servers)")
    port: int = Field(8080, ge=1, le=65535, description="the servers' TCP port")
    sizes: List[int] = Field([50 * 1024, 1 << 20, 5 << 20], min_length=1, max_length=20,
                             description="object sizes in bytes, fetched in turn")
    interval: float = Field(1.0, ge=0, le=3600, description="seconds between fetches")
    delay: float = Field(0.0, ge=0, le=3600,
                         description="seconds to wait before the first fetch (a proxy "
                                     "bootstrapping)")
    via: Literal["direct", "socks"] = "direct"
    socks_port: int = Field(9050, ge=1, le=65535, description="via socks: on 127.0.0.1")
    timeout: float = Field(60.0, gt=0, le=3600, description="a fetch fails after, seconds")

    def client_hosts(self, members: Sequence[str]) -> List[str]:
        if self.clients is not None:
            return list(self.clients)
        return [m for m in members if m not in self.servers]


def ports(params: WebParams, host: str) -> Sequence[Port]:
    return [Port(params.port, "tcp")] if host in params.servers else []


def check(params: WebParams, members: List[str]) -> Iterable[Tuple[Tuple, str]]:
    for key in ("servers", "clients"):
        for i, h in enumerate(getattr(params, key) or []):
            if h not in members:
                yield (key, i), f"'{h}' runs no agent of this overlay"
    if any(s > 1 << 30 for s in params.sizes) or any(s < 0 for s in params.sizes):
        yield ("sizes",), "sizes run from 0 to 1 GiB"


SPEC = OverlaySpec(params=WebParams, ports=ports, check=check, metrics=metrics,
                   plots=fetches_plot)
