"""Unstructured and centralised file search: Napster and Gnutella (see __main__ for the
agent; catalog for who shares what; napster and gnutella for the wire formats).

One deployment is one file-sharing network of the members. Files are replicated by
popularity (file i, ranked from 0, on max(1, round(copies / (i+1)^alpha)) peers) and
queried with the same Zipf popularity; every peer draws the same catalog from `seed`.
`system: napster` searches a central index (OpenNap's message format) on `index`;
`system: gnutella` floods queries over an overlay of `degree` random neighbours per peer
(Gnutella 0.4's descriptors over TCP, duplicate suppression by message id, QUERYHITs back
along the reverse path), once per TTL in `ttls`. Either way a hit is fetched over HTTP
from the peer that has the file.
"""
from typing import Iterable, List, Literal, Optional, Sequence, Tuple

from pydantic import Field

from ..spec import OverlaySpec, Params, Port
from .analysis import metrics


class P2PParams(Params):
    system: Literal["napster", "gnutella"]
    index: Optional[str] = Field(None, max_length=128,
                                 description="napster: the member that runs the index")
    port: int = Field(6346, ge=1, le=65534,
                      description="the protocol's TCP port; HTTP downloads on port + 1")
    files: int = Field(200, ge=1, le=100_000, description="distinct files in the network")
    copies: int = Field(20, ge=1, le=10_000,
                        description="replicas of the most popular file")
    alpha: float = Field(1.0, ge=0, le=5, description="Zipf exponent of replication and "
                                                      "of queries")
    file_bytes: int = Field(65_536, ge=1, le=1 << 30, description="every file's size")
    queries: int = Field(7, ge=0, le=10_000, description="queries per peer")
    start_after: float = Field(3.0, ge=0, le=3600,
                               description="seconds before the first query (the overlay "
                                           "connecting)")
    interval: float = Field(1.0, gt=0, le=3600, description="seconds between a peer's queries")
    timeout: float = Field(3.0, gt=0, le=120, description="a query's hits are awaited this long")
    degree: int = Field(4, ge=1, le=64, description="gnutella: neighbours each peer picks")
    ttls: List[int] = Field([1, 2, 3, 4, 5, 6, 7], min_length=1, max_length=16,
                            description="gnutella: each query's TTL, in turn")
    seed: int = Field(1, ge=0, le=2 ** 32 - 1, description="the catalog's and the overlay's")


def ports(params: P2PParams, host: str) -> Sequence[Port]:
    return [Port(params.port, "tcp"), Port(params.port + 1, "tcp")]


def check(params: P2PParams, members: List[str]) -> Iterable[Tuple[Tuple, str]]:
    if params.system == "napster":
        if params.index is None:
            yield ("index",), "napster needs an index: the member that runs it"
        elif params.index not in members:
            yield ("index",), f"'{params.index}' runs no agent of this overlay"
    if any(not 1 <= t <= 32 for t in params.ttls):
        yield ("ttls",), "TTLs run from 1 to 32"
    if params.system == "gnutella" and params.degree >= len(members):
        yield ("degree",), f"{params.degree} neighbours need more than {len(members)} peers"


SPEC = OverlaySpec(params=P2PParams, ports=ports, check=check, metrics=metrics)
