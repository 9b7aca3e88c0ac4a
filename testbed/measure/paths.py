"""What the configuration says a path should look like: the links a packet crosses from
one host to another under the installed tables, and the delay, jitter, loss and
bottleneck rate that follow from their properties. Pure: the fidelity check compares
measurements against this.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Dict, List, Optional

from ..control.routes import Table
from ..model.network import LinkProps, Network


@dataclass(frozen=True)
class PathSpec:
    links: List[int]
    delay_ms: float
    jitter_ms: float  # std of the sum (independent per link)
    loss: float  # probability, 0..1
    bottleneck_mbit: Optional[float]


def one_way(net: Network, tables: Dict[str, Table], src_host: str, dst_host: str,
            props: Optional[Dict[int, LinkProps]] = None) -> Optional[PathSpec]:
    """Links from src_host to dst_host under `tables`, or None if not delivered."""
    props = props or {l.index: l.props for l in net.links}
    dst_ip = net.hosts[dst_host].ip
    links = [net.hosts[src_host].link]
    router = net.hosts[src_host].router
    for _ in range(len(net.routers) + 1):
        route = tables[router].lookup(dst_ip)
        if route is None:
            return None
        links.append(net.interfaces[(router, route.port)].link)
        if route.next_hop == dst_host:
            break
        if route.next_hop not in net.routers:
            return None
        router = route.next_hop
    else:
        return None
    p = [props[i] for i in links]
    survive = math.prod(1 - (x.loss_pct or 0) / 100 for x in p)
    rates = [x.bandwidth_mbit for x in p if x.bandwidth_mbit]
    return PathSpec(links, sum(x.delay_ms or 0 for x in p),
                    math.sqrt(sum((x.jitter_ms or 0) ** 2 for x in p)), 1 - survive,
                    min(rates) if rates else None)
