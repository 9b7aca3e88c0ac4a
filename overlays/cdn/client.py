"""A client: requests with Poisson arrivals (`workload.rate` per second) for objects drawn
by Zipf(`workload.alpha`), plus an optional flash crowd, each one recorded:

    {"cdn_req": <object>, "edge": <ip served by>, "status": 200, "bytes": ..., "cache":
     "HIT", "dns_ms": ..., "ttfb_ms": ..., "total_ms": ..., "elapsed_ms": ...,
     "expires_in": ..., "flash": false}

with `error` (dns, timeout, http <status>, connect, overload: more than `concurrency`
in flight) instead of a status when it failed. `t` is when it ended (`t - elapsed_ms`
when it began); `expires_in` the seconds the DNS answer it used stays cached.
`dns_ms` is the time to learn the edge: a DNS query to the router (0 when the answer is
still in this client's cache, which honours the answer's TTL), or the 302 round trip
with `mechanism: redirect`. `ttfb_ms` and `total_ms` count from sending the HTTP request
(after the name is resolved) to the response's headers and to its last byte.
With `via: origin` clients bypass the CDN and fetch from the origin directly.
"""
from __future__ import annotations

import asyncio
import random
import time
from typing import Any, Callable, Dict, List, Optional, Set, Tuple

import aiohttp
from dnslib import QTYPE, DNSRecord

from . import CdnParams
from .catalog import Zipf, flash_ids
from .net import wait_for


class Resolver:
    """A stub resolver asking the router directly, with a cache that honours TTLs."""

    def __init__(self, server: Tuple[str, int], timeout: float):
        self.server, self.timeout = server, timeout
        self.cache: Dict[str, Tuple[str, float]] = {}  # name -> (ip, expires, monotonic)

    def expires_in(self, name: str) -> float:
        """Seconds the cached answer for `name` stays valid (0: none)."""
        cached = self.cache.get(name)
        return max(0.0, cached[1] - time.monotonic()) if cached else 0.0

    async def resolve(self, name: str) -> Tuple[Optional[str], float]:
        """(address or None, milliseconds spent asking; 0 from the cache)."""
        cached = self.cache.get(name)
        if cached is not None and time.monotonic() < cached[1]:
            return cached[0], 0.0
        began = time.monotonic()
        loop = asyncio.get_running_loop()
        answer: "asyncio.Future[bytes]" = loop.create_future()

        class Proto(asyncio.DatagramProtocol):
            def datagram_received(self, data: bytes, addr: Any) -> None:
                if not answer.done():
                    answer.set_result(data)
        query = DNSRecord.question(name, "A")
        transport, _ = await loop.create_datagram_endpoint(Proto, remote_addr=self.server)
        try:
            transport.sendto(query.pack())
            data = await asyncio.wait_for(answer, self.timeout)
            reply = DNSRecord.parse(data)
        except (asyncio.TimeoutError, OSError, ValueError):
            return None, (time.monotonic() - began) * 1000
        finally:
            transport.close()
        spent = (time.monotonic() - began) * 1000
        records = [rr for rr in reply.rr if rr.rtype == QTYPE.A]
        if reply.header.id != query.header.id or not records:
            return None, spent
        ip = str(records[0].rdata)
        self.cache[name] = (ip, time.monotonic() + records[0].ttl)
        return ip, spent


class Clients:
    def __init__(self, params: CdnParams, me: Dict[str, Any], members: List[Dict[str, Any]],
                 seed: str, t0: float, report: Callable[[Dict], None]):
        self.params, self.me, self.report, self.t0 = params, me, report, t0
        self.rng = random.Random(seed)
        w = params.workload
        self.flash = flash_ids(params.catalog, w.flash.objects) if w.flash else []
        self.zipf = Zipf(params.catalog.objects - len(self.flash), w.alpha)
        by_name = {m["name"]: m for m in members}
        router_ip = by_name[params.router]["ip"]
        self.resolver = Resolver((router_ip, params.ports.dns), timeout=w.timeout)
        self.redirector = f"http://{router_ip}:{params.ports.redirect}"
        self.origin_ip = by_name[params.origin]["ip"]
        self.origin = f"http://{self.origin_ip}:{params.ports.origin}"
        self.name = f"{params.origin.replace('.', '-')}.{params.zone}"
        self.slots = asyncio.Semaphore(w.concurrency)
        self.tasks: List[asyncio.Task] = []
        self.requests: Set[asyncio.Task] = set()
        self.session: aiohttp.ClientSession

    async def start(self) -> None:
        w = self.params.workload
        self.session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=w.timeout), auto_decompress=False,
            connector=aiohttp.TCPConnector(limit=0, force_close=False))
        self.tasks.append(asyncio.ensure_future(self._arrivals(w.rate, None, None, False)))
        if w.flash:
            begin = self.t0 + w.flash.at
            self.tasks.append(asyncio.ensure_future(self._arrivals(
                w.flash.rate, begin, begin + w.flash.duration, True)))

    async def stop(self) -> None:
        """Requests still in flight are cancelled, not recorded: stopping is not a
        failure of the CDN."""
        for t in [*self.tasks, *self.requests]:
            t.cancel()
        await asyncio.gather(*self.tasks, *self.requests, return_exceptions=True)
        await self.session.close()

    async def _ready(self, patience: float = 15.0) -> None:
        """Until the CDN names an edge (or the origin answers, going direct): members
        start within moments of each other, and the edges report once they can serve."""
        if self.params.workload.via == "origin":
            await wait_for(self.origin_ip, self.params.ports.origin, patience)
            return
        deadline = time.monotonic() + patience
        while time.monotonic() < deadline:
            probe: Dict[str, Any] = {}
            try:
                if await self._base("/obj/0", probe) is not None:
                    return
            except (aiohttp.ClientError, asyncio.TimeoutError):
                pass
            await asyncio.sleep(0.1)

    async def _arrivals(self, rate: float, begin: Optional[float], end: Optional[float],
                        flash: bool) -> None:
        await self._ready()
        if begin is not None:
            await asyncio.sleep(max(0.0, begin - time.time()))
        while end is None or time.time() < end:
            await asyncio.sleep(self.rng.expovariate(rate))
            obj = self.rng.choice(self.flash) if flash else self.zipf.draw(self.rng)
            if self.slots.locked():
                self.report({"cdn_req": obj, "error": "overload", "flash": flash})
                continue  # the client is saturated: a skipped arrival, recorded
            task = asyncio.ensure_future(self._request(obj, flash))
            self.requests.add(task)
            task.add_done_callback(self.requests.discard)

    async def _request(self, obj: int, flash: bool) -> None:
        async with self.slots:
            record: Dict[str, Any] = {"cdn_req": obj, "flash": flash, "dns_ms": 0.0}
            began = time.monotonic()
            path = f"/obj/{obj}"
            try:
                base = await self._base(path, record)
                if base is not None:
                    await self._get(base + path, record)
            except asyncio.TimeoutError:
                record["error"] = "timeout"
            except aiohttp.ClientError as exc:
                record["error"] = f"connect: {type(exc).__name__}"
            record["elapsed_ms"] = (time.monotonic() - began) * 1000
            self.report(record)

    async def _base(self, path: str, record: Dict[str, Any]) -> Optional[str]:
        """Where to send the GET: the origin, the edge the DNS names, or the redirect's."""
        port = self.params.ports.http
        if self.params.workload.via == "origin":
            record["edge"] = "origin"
            return self.origin
        if self.params.routing.mechanism == "dns":
            ip, record["dns_ms"] = await self.resolver.resolve(self.name)
            if ip is None:
                record["error"] = "dns"
                return None
            record["edge"] = ip
            record["expires_in"] = round(self.resolver.expires_in(self.name), 3)
            return f"http://{ip}:{port}"
        began = time.monotonic()
        async with self.session.get(self.redirector + path, allow_redirects=False,
                                    headers={"Host": self.name}) as r:
            record["dns_ms"] = (time.monotonic() - began) * 1000
            location = r.headers.get("Location", "")
            if r.status != 302 or not location.startswith("http://"):
                record["error"] = f"redirect {r.status}"
                return None
        host = location[len("http://"):].split("/")[0]
        record["edge"] = host.split(":")[0]
        return f"http://{host}"

    async def _get(self, url: str, record: Dict[str, Any]) -> None:
        began = time.monotonic()
        async with self.session.get(url, headers={"Host": self.name}) as r:
            record["ttfb_ms"] = (time.monotonic() - began) * 1000
            data = await r.read()
            record["total_ms"] = (time.monotonic() - began) * 1000
            record["cache"] = r.headers.get("X-Cache", "")
            if r.status == 200:
                record.update(status=200, bytes=len(data))
            else:
                record["error"] = f"http {r.status}"
