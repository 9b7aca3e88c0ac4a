"""BitTorrent (BEP 3) in Python (see __main__ for the agent): bencoding, metainfo, an
HTTP tracker with compact peer lists, and peers speaking the real peer wire protocol
with rarest-first selection, tit-for-tat choking, an optimistic unchoke, end-game mode
and an upload cap. `mode: client-server` turns the same peers into the baseline every
swarm is measured against: only the seeds upload, to everyone at once.
"""
from typing import Iterable, List, Literal, Sequence, Tuple

from pydantic import Field

from ..spec import OverlaySpec, Params, Port
from .analysis import metrics


class BitTorrentParams(Params):
    tracker: str = Field(max_length=128, description="the member that runs the tracker")
    seeds: List[str] = Field(min_length=1, max_length=100,
                             description="members that start with the whole file")
    mode: Literal["swarm", "client-server"] = Field(
        "swarm", description="client-server: leechers upload nothing, seeds serve all")
    file_mib: float = Field(4.0, gt=0, le=1024, description="the file's size, MiB")
    piece_kib: int = Field(256, ge=16, le=16384, description="piece length, KiB")
    upload_mbit: float = Field(8.0, ge=0, le=100_000,
                               description="every peer's upload cap, Mbit/s (0: none)")
    slots: int = Field(3, ge=1, le=100, description="regular unchoke slots")
    choke_interval: float = Field(10.0, gt=0, le=600, description="seconds between rechokes")
    announce_interval: int = Field(5, ge=1, le=3600, description="the tracker's interval, s")
    port: int = Field(6881, ge=1, le=65535)
    tracker_port: int = Field(6969, ge=1, le=65535)
    seed: int = Field(1, ge=0, le=2 ** 32 - 1, description="the file's content")


def ports(params: BitTorrentParams, host: str) -> Sequence[Port]:
    out = [Port(params.port, "tcp")]
    if host == params.tracker:
        out.append(Port(params.tracker_port, "tcp"))
    return out


def check(params: BitTorrentParams, members: List[str]) -> Iterable[Tuple[Tuple, str]]:
    if params.tracker not in members:
        yield ("tracker",), f"'{params.tracker}' runs no agent of this overlay"
    for i, s in enumerate(params.seeds):
        if s not in members:
            yield ("seeds", i), f"'{s}' runs no agent of this overlay"


SPEC = OverlaySpec(params=BitTorrentParams, ports=ports, check=check, metrics=metrics)
