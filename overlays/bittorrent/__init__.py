"""BitTorrent (BEP 3) in Python (see __main__ for the agent): bencoding, metainfo, an
HTTP tracker with compact peer lists, and peers speaking the real peer wire protocol
with rarest-first selection, tit-for-tat choking, an optimistic unchoke, end-game mode
and an upload cap. `mode: client-server` turns the same peers into the baseline every
swarm is measured against: only the seeds upload, to everyone at once. Real software
runs in the Python parts' places on request (real.py): opentracker as the tracker,
transmission-cli as chosen members' peer, mktorrent making a real seed's torrent.
"""
from typing import Iterable, List, Literal, Sequence, Tuple

from pydantic import Field

from ..spec import OverlaySpec, Params, Port, Program
from .analysis import completion_plot, metrics


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
    tracker_program: Literal["python", "opentracker"] = Field(
        "python", description="the tracker: the Python one or opentracker")
    transmission: List[str] = Field([], max_length=100,
                                    description="members that run transmission-cli instead "
                                                "of the Python peer")
    seed: int = Field(1, ge=0, le=2 ** 32 - 1, description="the file's content")


def ports(params: BitTorrentParams, host: str) -> Sequence[Port]:
    out = [Port(params.port, "tcp")]
    if host == params.tracker:
        out.append(Port(params.tracker_port, "tcp"))
    return out


def check(params: BitTorrentParams, members: List[str]) -> Iterable[Tuple[Tuple, str]]:
    if params.tracker not in members:
        yield ("tracker",), f"'{params.tracker}' runs no agent of this overlay"
    for key in ("seeds", "transmission"):
        for i, s in enumerate(getattr(params, key)):
            if s not in members:
                yield (key, i), f"'{s}' runs no agent of this overlay"
    if params.piece_kib & (params.piece_kib - 1) and params.transmission:
        yield ("piece_kib",), "mktorrent makes pieces of a power of two KiB"


def programs(params: BitTorrentParams) -> Sequence[Program]:
    out = []
    if params.tracker_program == "opentracker":
        out.append(Program("opentracker", "opentracker"))
    if params.transmission:
        out += [Program("transmission-cli", "transmission-cli"), Program("mktorrent", "mktorrent")]
    return out


SPEC = OverlaySpec(params=BitTorrentParams, ports=ports, check=check, programs=programs,
                   metrics=metrics, plots=completion_plot)
