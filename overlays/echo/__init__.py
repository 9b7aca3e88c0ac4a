"""The echo overlay: the smallest agent that honours the contract (README.md)."""
from typing import Sequence

from pydantic import Field

from ..spec import OverlaySpec, Params, Port


class EchoParams(Params):
    port: int = Field(7000, ge=1, le=65535, description="UDP port of requests and answers")
    interval: float = Field(1.0, gt=0, le=3600, description="seconds between rounds")
    timeout: float = Field(1.0, gt=0, le=60, description="an unanswered request is lost after")


def ports(params: EchoParams, host: str) -> Sequence[Port]:
    return [Port(params.port)]


SPEC = OverlaySpec(params=EchoParams, ports=ports)
