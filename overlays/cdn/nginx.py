"""`edge: nginx`: Debian's nginx as the edge, with `proxy_cache` in place of the Python
cache, configured here, run as a supervised daemon (overlays.agent.Daemon) and stopped
with the agent. The agent still does the edge's duties (probes, reports to the router)
and turns nginx's access log (JSON lines, one per request) into the same records as the
Python edge: $upstream_cache_status HIT -> hit, MISS and EXPIRED -> miss, REVALIDATED
-> revalidated; the seq is the log's order (when nginx finished the request).

The cache: `max_size` = the cache size, least recently used first out (nginx's cache
manager), `proxy_cache_lock` (one fetch per object at a time, like the Python edge),
`proxy_cache_revalidate` (conditional GETs for stale entries), freshness from the
origin's Cache-Control. nginx counts a cached object by the disk blocks of its file
(body, headers, a key), so the same byte budget holds fewer objects than the Python
edge's, which counts body bytes: with small objects the difference shows in the hit ratio.
"""
from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any, Callable, Dict, List

from overlays.agent import Daemon

from . import CdnParams
from .catalog import cache_bytes, sizes

STATUS = {"HIT": "hit", "MISS": "miss", "EXPIRED": "miss", "REVALIDATED": "revalidated",
          "UPDATING": "hit", "STALE": "hit"}

CONFIG = """\
daemon off;
master_process on;
worker_processes 1;
user root;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    log_format cdn escape=json '{{"t":$msec,"edge_req":"$uri","cache":"$upstream_cache_status",'
                               '"bytes":$body_bytes_sent,"ms":$request_time,"status":$status}}';
    access_log {dir}/access.log cdn;
    client_body_temp_path {dir}/tmp/body;
    proxy_temp_path {dir}/tmp/proxy;
    fastcgi_temp_path {dir}/tmp/fastcgi;
    uwsgi_temp_path {dir}/tmp/uwsgi;
    scgi_temp_path {dir}/tmp/scgi;
    proxy_cache_path {dir}/cache levels=1:2 keys_zone=cdn:16m max_size={max_size} manager_sleep=1ms manager_files=10000
                     inactive=1d use_temp_path=off;
    upstream origin {{ server {origin}; keepalive 64; }}
    server {{
        listen {listen} backlog=1024;
        location /obj/ {{
            proxy_pass http://origin;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_cache cdn;
            proxy_cache_key $uri;
            proxy_cache_lock on;
            proxy_cache_revalidate on;
            add_header X-Cache $upstream_cache_status;
        }}
    }}
}}
"""


def config(params: CdnParams, me: Dict[str, Any], origin_ip: str, folder: Path) -> str:
    size = cache_bytes(params.cache.size, sum(sizes(params.catalog)))
    return CONFIG.format(dir=folder, max_size=max(size, 1), listen=f"{me['ip']}:"
                         f"{params.ports.http}", origin=f"{origin_ip}:{params.ports.origin}")


class NginxEdge:
    def __init__(self, params: CdnParams, me: Dict[str, Any], members: List[Dict[str, Any]],
                 folder: Path, arrived: Callable[[], None], report: Callable[[Dict], None]):
        self.params, self.me, self.folder = params, me, folder
        self.arrived, self.report = arrived, report
        self.origin_ip = next(m["ip"] for m in members if m["name"] == params.origin)
        self.seq = 0
        self.offset = 0
        self.daemon: Daemon
        self.task: "asyncio.Task[None]"

    async def start(self) -> None:
        for sub in ("cache", "tmp"):
            (self.folder / sub).mkdir(parents=True, exist_ok=True)
        conf = self.folder / "nginx.conf"
        conf.write_text(config(self.params, self.me, self.origin_ip, self.folder))
        (self.folder / "access.log").touch()
        log = open(self.folder / "nginx.out", "ab")
        self.daemon = Daemon(["nginx", "-e", str(self.folder / "error.log"), "-c", str(conf)],
                             log, ready_port=self.params.ports.http, ready_host=self.me["ip"])
        await asyncio.get_running_loop().run_in_executor(None, self.daemon.start)
        self.task = asyncio.ensure_future(self._tail())

    async def stop(self) -> None:
        self.task.cancel()
        self.daemon.stop()
        self._read()  # what nginx logged before it stopped

    async def _tail(self) -> None:
        while True:
            self._read()
            await asyncio.sleep(0.2)

    def _read(self) -> None:
        path = self.folder / "access.log"
        with open(path, "rb") as f:
            f.seek(self.offset)
            chunk = f.read()
        end = chunk.rfind(b"\n") + 1
        self.offset += end
        for line in chunk[:end].splitlines():
            try:
                r = json.loads(line)
            except ValueError:
                continue
            self.seq += 1
            self.arrived()
            self.report({"t": r["t"], "edge_req": r["edge_req"], "seq": self.seq,
                         "cache": STATUS.get(r["cache"], "error" if r["status"] >= 500
                                             else r["cache"].lower() or "none"),
                         "bytes": r["bytes"], "ms": r["ms"] * 1000, "peer": False,
                         "engine": "nginx"})

