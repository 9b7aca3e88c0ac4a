"""The request router: an authoritative DNS server for the CDN's zone (dnslib for the wire
format) and an HTTP redirector, both answering with the edge that `routing.policy` picks
(overlays/cdn/routing.py) from the edges' reports, or that a `choose` function given to
it picks (the CDN lab's student policy, overlays/cdnlab).

DNS: an A query for the zone or a name in it (a "Coralized" `<origin>.<zone>`, e.g.
`as300-h1.cdn.test`) gets one A record, the edge, with TTL `routing.ttl`; other types in
the zone get an empty answer; names outside the zone REFUSED; no alive edge SERVFAIL.
Try it from any host: `dig @<router ip> as300-h1.cdn.test`.
Redirector: GET <path> on `ports.redirect` answers 302 to the same path on the chosen
edge: `curl -L http://<router ip>:8053/obj/3` works from any host.
Each answer is one record: `dns_answer` or `redirect` (the edge's name, null for none) and
`client` (the asker's address).
"""
from __future__ import annotations

import asyncio
import random
import time
from typing import Any, Callable, Dict, List, Optional, Tuple

from aiohttp import web
from dnslib import QTYPE, RCODE, RR, A, DNSRecord, DNSError

from . import CdnParams, Routing
from .net import Control
from .routing import Client, EdgeState, Router

# A policy of its own: (every edge, the client, monotonic now, the routing params) -> the
# edge to answer, or None for none.
Choose = Callable[[List[EdgeState], Client, float, Routing], Optional[EdgeState]]


class RequestRouter(asyncio.DatagramProtocol):
    def __init__(self, params: CdnParams, me: Dict[str, Any], members: List[Dict[str, Any]],
                 control: Control, as_hops: Dict[int, Dict[int, int]], seed: str,
                 report: Callable[[Dict], None], choose: Optional[Choose] = None):
        self.params, self.me, self.report = params, me, report
        self.custom = choose
        self.edges = {m["name"]: EdgeState(m["name"], m["ip"], m["asn"])
                      for m in members if m["name"] in params.edges}
        self.asn_of = {m["ip"]: m["asn"] for m in members}
        self.router = Router(list(self.edges.values()), params.routing.policy,
                             params.routing.load_threshold, params.routing.dead_after,
                             as_hops, random.Random(seed))
        self.zone = params.zone.lower().rstrip(".")
        control.handlers["report"] = self._edge_report
        self.transport: Optional[asyncio.DatagramTransport] = None
        self.runner: web.AppRunner

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        await loop.create_datagram_endpoint(lambda: self,
                                            local_addr=(self.me["ip"], self.params.ports.dns))
        app = web.Application()
        app.router.add_get("/{path:.*}", self.redirect)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        await web.TCPSite(self.runner, self.me["ip"], self.params.ports.redirect).start()

    async def stop(self) -> None:
        if self.transport is not None:
            self.transport.close()
        await self.runner.cleanup()

    async def _edge_report(self, message: Dict[str, Any], addr: Tuple[str, int]) -> None:
        edge = self.edges.get(message.get("edge"))  # type: ignore[arg-type]
        if edge is None or edge.ip != addr[0]:
            return None  # only an edge speaks for itself
        edge.last_report = time.monotonic()
        edge.load = float(message.get("load", 0.0))
        rtt = message.get("rtt")
        if isinstance(rtt, dict):
            edge.rtt_ms = {str(k): float(v) for k, v in rtt.items()
                           if isinstance(v, (int, float))}
        return None

    def choose(self, ip: str) -> Optional[EdgeState]:
        client, now = Client(ip, self.asn_of.get(ip)), time.monotonic()
        if self.custom is not None:
            return self.custom(list(self.edges.values()), client, now, self.params.routing)
        return self.router.choose(client, now)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: Tuple[str, int]) -> None:
        try:
            query = DNSRecord.parse(data)
        except (DNSError, ValueError, IndexError):
            return  # not DNS: no answer, as a real server does
        reply = query.reply()
        qname = str(query.q.qname).lower().rstrip(".")
        if qname != self.zone and not qname.endswith("." + self.zone):
            reply.header.rcode = RCODE.REFUSED
        elif query.q.qtype in (QTYPE.A, QTYPE.ANY):
            edge = self.choose(addr[0])
            self.report({"dns_answer": edge.name if edge else None, "client": addr[0],
                         "qname": qname})
            if edge is None:
                reply.header.rcode = RCODE.SERVFAIL
            else:
                reply.add_answer(RR(query.q.qname, QTYPE.A, rdata=A(edge.ip),
                                    ttl=int(self.params.routing.ttl)))
        if self.transport is not None:
            self.transport.sendto(reply.pack(), addr)

    async def redirect(self, request: web.Request) -> web.StreamResponse:
        edge = self.choose(request.remote or "")
        self.report({"redirect": edge.name if edge else None, "client": request.remote})
        if edge is None:
            raise web.HTTPServiceUnavailable(text="no edge is alive\n")
        raise web.HTTPFound(f"http://{edge.ip}:{self.params.ports.http}{request.path_qs}")
