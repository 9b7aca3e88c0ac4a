"""Application traffic: constant-rate UDP flows (see __main__)."""
from typing import Iterator, List, Literal, Sequence, Tuple

from pydantic import Field

from ..spec import OverlaySpec, Params, Port


class Flow(Params):
    name: str = Field(pattern=r"^[a-z][a-z0-9_-]*$", max_length=40,
                      description="the flow's name (metrics are <overlay>.<flow>.*)")
    client: str = Field(description="the member that sends")
    server: str = Field(description="the member that receives")
    port: int = Field(ge=1, le=65535, description="the server's UDP port")
    rate: float = Field(50.0, gt=0, le=10_000, description="packets per second")
    size: int = Field(64, ge=12, le=1400, description="UDP payload bytes")
    via: Literal["direct", "ron"] = Field("direct", description="direct, or through the "
                                                                "host's RON agent")


class StreamParams(Params):
    flows: List[Flow] = Field(default_factory=list)
    ron_app_port: int = Field(7101, ge=1, le=65535,
                              description="where the local RON agent takes datagrams")


def ports(params: StreamParams, host: str) -> Sequence[Port]:
    return [Port(f.port) for f in params.flows if f.server == host]


def check(params: StreamParams, members: List[str]) -> Iterator[Tuple[tuple, str]]:
    names = set()
    for i, flow in enumerate(params.flows):
        for end in ("client", "server"):
            if getattr(flow, end) not in members:
                yield ("flows", i, end), f"'{getattr(flow, end)}' is not a member of this " \
                                         f"deployment (hosts)"
        if flow.client == flow.server:
            yield ("flows", i, "server"), "a flow from a host to itself"
        if flow.name in names:
            yield ("flows", i, "name"), f"two flows named '{flow.name}'"
        names.add(flow.name)


SPEC = OverlaySpec(params=StreamParams, ports=ports, check=check)
