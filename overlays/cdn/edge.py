"""An edge: the Python caching proxy, and what every edge does beside serving (probing
members' RTTs and reporting to the router).

The proxy (aiohttp server and client; no HTTP parsing of our own) serves GET /obj/<i>:
- fresh in the cache: a hit;
- stale: revalidated with a conditional GET (If-None-Match); a 304 freshens it
  (`revalidated`), a 200 replaces it (`miss`);
- absent: one fetch per object at a time (requests arriving meanwhile wait for it and count
  as hits, like nginx's proxy_cache_lock); with Coral, first from a peer edge that the DHT
  says holds it (`peer`), else from the origin (`miss`). A peer's request waits for a
  fetch under way only if that fetch is at the origin: two edges fetching from each
  other would wait for each other until the timeout.
Objects are fetched whole and then served (store and forward; a production edge streams).
Each request is one record: `edge_req` (path), `cache`, `bytes`, `ms`, `peer` (asked by
a peer edge), and for the hit-ratio oracle the cache's clock (one tick per lookup and per
store) at its lookup, `seq`, and, when it stored the object, at the store, `stored`.
Responses carry `X-Cache`.
"""
from __future__ import annotations

import asyncio
import time
from collections import deque
from typing import Any, Callable, Deque, Dict, List, Optional, Set, Tuple

import aiohttp
from aiohttp import web

from . import CdnParams
from .cache import Cache, Entry
from .catalog import cache_bytes, sizes
from .coral import Store, by_closeness, clusters
from .net import Control, wait_for

PEER_HEADER = "X-Coral-Peer"


def max_age(headers: Any, default: int) -> int:
    for part in headers.get("Cache-Control", "").split(","):
        name, _, value = part.strip().partition("=")
        if name == "max-age" and value.isdigit():
            return int(value)
        if name in ("no-store", "no-cache"):
            return 0
    return default


class EdgeDuties:
    """Probe every member each `probe_interval` (UDP ping on the control port; RTT as a
    moving minimum of the last 5) and report alive, load and RTTs to the router each
    `routing.report_interval`, from when the origin answers and the first probes are in
    (so the router never sends a client to an edge that cannot serve yet)."""

    def __init__(self, params: CdnParams, me: Dict[str, Any], members: List[Dict[str, Any]],
                 control: Control):
        self.params, self.me, self.control = params, me, control
        self.targets = [m["ip"] for m in members if m["ip"] != me["ip"]]
        self.router = next(m["ip"] for m in members if m["name"] == params.router)
        self.origin = next(m["ip"] for m in members if m["name"] == params.origin)
        self.samples: Dict[str, Deque[float]] = {ip: deque(maxlen=5) for ip in self.targets}
        self.arrivals: Deque[float] = deque()
        self.tasks: List[asyncio.Task] = []

    def rtt_ms(self) -> Dict[str, float]:
        return {ip: min(s) for ip, s in self.samples.items() if s}

    def arrived(self) -> None:
        self.arrivals.append(time.monotonic())

    def load(self) -> float:
        now = time.monotonic()
        while self.arrivals and self.arrivals[0] < now - 1.0:
            self.arrivals.popleft()
        return float(len(self.arrivals))

    def start(self) -> None:
        probed = asyncio.Event()
        self.tasks = [asyncio.ensure_future(self._probe(probed)),
                      asyncio.ensure_future(self._report(probed))]

    def stop(self) -> None:
        for t in self.tasks:
            t.cancel()

    async def _probe(self, probed: asyncio.Event) -> None:
        port = self.params.ports.control
        while True:
            await asyncio.gather(*(self._ping(ip, port) for ip in self.targets))
            probed.set()
            await asyncio.sleep(self.params.probe_interval)

    async def _ping(self, ip: str, port: int) -> None:
        sent = time.monotonic()
        if await self.control.call({"op": "ping"}, (ip, port), timeout=1.0) is not None:
            self.samples[ip].append((time.monotonic() - sent) * 1000)

    async def _report(self, probed: asyncio.Event) -> None:
        addr = (self.router, self.params.ports.control)
        await wait_for(self.origin, self.params.ports.origin)
        await probed.wait()
        while True:
            self.control.send({"op": "report", "edge": self.me["name"], "load": self.load(),
                               "rtt": self.rtt_ms()}, addr)
            await asyncio.sleep(self.params.routing.report_interval)


class PythonEdge:
    def __init__(self, params: CdnParams, me: Dict[str, Any], members: List[Dict[str, Any]],
                 control: Control, duties: EdgeDuties, report: Callable[[Dict], None]):
        self.params, self.me, self.control, self.duties = params, me, control, duties
        self.report = report
        catalog_bytes = sum(sizes(params.catalog))
        self.cache = Cache(cache_bytes(params.cache.size, catalog_bytes), params.cache.policy)
        origin = next(m for m in members if m["name"] == params.origin)
        self.origin_url = f"http://{origin['ip']}:{params.ports.origin}"
        self.origin_host = f"{params.origin.replace('.', '-')}.{params.zone}"
        self.edge_ips = [m["ip"] for m in members if m["name"] in params.edges]
        self.inflight: Dict[str, "asyncio.Future[Optional[Entry]]"] = {}
        self.to_origin: Set[str] = set()  # in-flight fetches past the peers, at the origin
        self.store = Store(params.coral.max_values)
        self.clock = 0  # ticks at every lookup and every store (the oracle's order)
        self.stored_at: Dict[str, int] = {}
        self.session: aiohttp.ClientSession
        self.runner: web.AppRunner
        control.handlers.update({"put": self._put, "get": self._get})

    async def start(self) -> None:
        timeout = aiohttp.ClientTimeout(total=max(5.0, self.params.workload.timeout))
        self.session = aiohttp.ClientSession(
            timeout=timeout, auto_decompress=False,
            connector=aiohttp.TCPConnector(limit=0, limit_per_host=256))
        app = web.Application()
        app.router.add_get("/obj/{obj:[0-9]+}", self.serve)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        await web.TCPSite(self.runner, self.me["ip"], self.params.ports.http,
                          backlog=1024).start()

    async def stop(self) -> None:
        await self.runner.cleanup()
        await self.session.close()

    async def serve(self, request: web.Request) -> web.StreamResponse:
        began = time.monotonic()
        self.clock += 1
        seq, path = self.clock, request.path
        from_peer = PEER_HEADER in request.headers
        if not from_peer:
            self.duties.arrived()
        host = request.host.split(":")[0]
        if host not in (self.origin_host, self.params.zone, self.me["ip"]):
            raise web.HTTPNotFound(text=f"{host} is not an origin of this CDN\n")
        status, entry = await self.lookup(path, from_peer)
        if entry is None:
            self.report({"edge_req": path, "cache": status, "bytes": 0, "seq": seq,
                         "peer": from_peer, "ms": (time.monotonic() - began) * 1000})
            raise (web.HTTPNotFound() if from_peer else web.HTTPBadGateway())
        left = max(0, int(entry.expires - time.monotonic()))
        response = web.Response(body=entry.body, content_type="application/octet-stream",
                                headers={"ETag": entry.etag, "X-Cache": status.upper(),
                                         "Last-Modified": entry.last_modified,
                                         "Cache-Control": f"max-age={left}"})
        record = {"edge_req": path, "cache": status, "bytes": entry.size, "seq": seq,
                  "peer": from_peer, "ms": (time.monotonic() - began) * 1000}
        if status in ("miss", "peer", "revalidated"):
            record["stored"] = self.stored_at.get(path)
        self.report(record)
        return response

    async def lookup(self, path: str, from_peer: bool) -> Tuple[str, Optional[Entry]]:
        """(cache status, entry or None). A peer's request is served only from the cache
        or a fetch under way: a peer never makes this edge go to the origin for it."""
        now = time.monotonic()
        entry = self.cache.get(path)
        if entry is not None and entry.fresh(now):
            return "hit", entry
        pending = self.inflight.get(path)
        if pending is not None:
            if from_peer and path not in self.to_origin:
                return "absent", None  # my fetch asks peers: waiting could close a cycle
            got = await asyncio.shield(pending)
            return ("hit", got) if got is not None else ("error", None)
        if from_peer and entry is None:
            return "absent", None
        future = asyncio.get_running_loop().create_future()
        self.inflight[path] = future
        try:
            status, got = await self.fetch(path, entry)
        except (aiohttp.ClientError, asyncio.TimeoutError):
            status, got = "error", None
        finally:
            del self.inflight[path]
            self.to_origin.discard(path)
        future.set_result(got)
        if got is not None:
            self.clock += 1
            self.stored_at[path] = self.clock
            self.cache.put(path, got)
        return status, got

    async def fetch(self, path: str, stale: Optional[Entry]) -> Tuple[str, Optional[Entry]]:
        if stale is None and self.params.coral.enabled:
            await self._announce(path)
            for holder in await self._holders(path):
                got = await self._from(f"http://{holder}:{self.params.ports.http}", path,
                                       None, {PEER_HEADER: self.me["ip"]})
                if got is not None:
                    return "peer", got
        headers = {"If-None-Match": stale.etag} if stale is not None else {}
        self.to_origin.add(path)
        got = await self._from(self.origin_url, path, stale, headers)
        if got is None:
            return "error", None
        return ("revalidated" if got is stale else "miss"), got

    async def _from(self, base: str, path: str, stale: Optional[Entry],
                    headers: Dict[str, str]) -> Optional[Entry]:
        try:
            async with self.session.get(base + path, headers={
                    "Host": self.origin_host, **headers}) as response:
                ttl = max_age(response.headers, self.params.catalog.max_age)
                if response.status == 304 and stale is not None:
                    stale.expires = time.monotonic() + ttl
                    return stale
                if response.status != 200:
                    return None
                data = await response.read()
                return Entry(data, len(data), response.headers.get("ETag", ""),
                             response.headers.get("Last-Modified", ""),
                             time.monotonic() + ttl)
        except (aiohttp.ClientError, asyncio.TimeoutError):
            return None

    # Coral: pointers in the DHT, searched nearest cluster first. A pointer outlives an
    # eviction; the holder then answers the peer 404 and the edge tries the next holder,
    # then the origin.
    def _clusters(self) -> List[List[str]]:
        rtt = self.duties.rtt_ms()
        return clusters(self.me["ip"], rtt, self.params.coral.levels_ms, self.edge_ips)

    async def _rpc(self, node: str, message: Dict[str, Any]) -> Optional[Dict[str, Any]]:
        handler = self._put if message["op"] == "put" else self._get
        if node == self.me["ip"]:
            return await handler(message, (node, 0))
        return await self.control.call(message, (node, self.params.ports.control),
                                       self.params.coral.rpc_timeout)

    async def _announce(self, path: str) -> None:
        """Put my pointer into every cluster (before fetching: a peer that misses during
        my fetch waits for it instead of going to the origin too)."""
        for cluster in self._clusters():
            for node in by_closeness(path, cluster):
                answer = await self._rpc(node, {"op": "put", "key": path,
                                                "holder": self.me["ip"]})
                if answer is not None and answer.get("stored"):
                    break

    async def _holders(self, path: str) -> List[str]:
        for cluster in self._clusters():
            node = by_closeness(path, cluster)[0]
            answer = await self._rpc(node, {"op": "get", "key": path})
            holders = [h for h in (answer or {}).get("holders", []) if h != self.me["ip"]]
            if holders:
                return holders
        return []

    async def _put(self, message: Dict[str, Any], addr: Tuple[str, int]) -> Dict[str, Any]:
        return {"stored": self.store.put(str(message.get("key")), str(message.get("holder")))}

    async def _get(self, message: Dict[str, Any], addr: Tuple[str, int]) -> Dict[str, Any]:
        return {"holders": self.store.get(str(message.get("key")))}
