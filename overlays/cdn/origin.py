"""The origin: HTTP/1.1 (aiohttp) serving the catalog at /obj/<i>, with Cache-Control:
max-age, ETag and Last-Modified, answering conditional GETs (If-None-Match,
If-Modified-Since) with 304, and one record per request: path, status, body bytes, the
requester's address (an edge, a client going direct, or curl)."""
from __future__ import annotations

import time
from email.utils import formatdate
from typing import Callable, Dict, List

from aiohttp import web

from . import CdnParams
from .catalog import body, sizes


class Origin:
    def __init__(self, params: CdnParams, ip: str, report: Callable[[Dict], None]):
        self.params, self.ip, self.report = params, ip, report
        self.sizes: List[int] = sizes(params.catalog)
        self.last_modified = formatdate(time.time(), usegmt=True)
        self.runner: web.AppRunner

    def etag(self, obj: int) -> str:
        return f'"{self.params.catalog.seed}-{obj}-{self.sizes[obj]}"'

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/obj/{obj:[0-9]+}", self.get)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        await web.TCPSite(self.runner, self.ip, self.params.ports.origin, backlog=1024).start()

    async def stop(self) -> None:
        await self.runner.cleanup()

    async def get(self, request: web.Request) -> web.StreamResponse:
        obj = int(request.match_info["obj"])
        if obj >= len(self.sizes):
            self.report({"origin_req": request.path, "status": 404, "bytes": 0,
                         "from": request.remote})
            raise web.HTTPNotFound()
        headers = {"ETag": self.etag(obj), "Last-Modified": self.last_modified,
                   "Cache-Control": f"max-age={self.params.catalog.max_age}"}
        if request.headers.get("If-None-Match") == headers["ETag"] or \
                request.headers.get("If-Modified-Since") == self.last_modified:
            self.report({"origin_req": request.path, "status": 304, "bytes": 0,
                         "from": request.remote})
            return web.Response(status=304, headers=headers)
        data = body(obj, self.sizes[obj])
        self.report({"origin_req": request.path, "status": 200, "bytes": len(data),
                     "from": request.remote})
        return web.Response(body=data, headers=headers, content_type="application/octet-stream")
