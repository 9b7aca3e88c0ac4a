"""The file-sharing agent: a Napster peer (and the index on `params.index`) or a
Gnutella servent, by `params.system` (P2PParams, __init__.py).

    python -m overlays.p2p --config CONFIG.json   (the contract: overlays/README.md)

Every peer shares its files of the catalog (catalog.py) over HTTP on `port + 1`
(`GET /get/<index>/<name>`), and after `start_after` seconds asks `queries` queries,
`interval` apart, for files it does not share. Per query: `found` 1/0 (with `ttl` and
the query id `qid` under Gnutella, `messages` under Napster), `hits`, `first_hit_ms`,
and, when found, `download_ms` of the file from the first peer that answered. A Gnutella
servent writes at its stop how many descriptors it sent per query id (`messages`).
"""
from __future__ import annotations

import asyncio
import random
import time
from typing import Any, Dict, List, Optional, Tuple

from ..agent import AsyncAgent
from . import P2PParams
from .catalog import name, overlay, queries, shares
from .gnutella import Servent
from .napster import Client, Index


class P2PAgent(AsyncAgent):
    def __init__(self, config: Dict[str, Any]):
        super().__init__(config)
        self.params = p = P2PParams.model_validate(config["params"])
        self.ips = {m["name"]: m["ip"] for m in self.members}
        peers = sorted(n for n in self.ips if p.system == "gnutella" or n != p.index)
        self.peers = peers
        self.mine = set(shares(peers, p.files, p.copies, p.alpha, p.seed).get(self.me["name"], []))
        self.rng = random.Random(config["seed"])
        self.hits: Dict[bytes, List[Tuple[float, str, int, List]]] = {}

    async def main(self) -> None:
        p, me = self.params, self.me
        http = await asyncio.start_server(self._http, me["ip"], p.port + 1)
        parts: List[Any] = []
        is_peer = me["name"] in self.peers
        if p.system == "napster" and me["name"] == p.index:
            index = Index(me["ip"], p.port, self.report)
            await index.start()
            parts.append(index)
        servent = None
        if p.system == "gnutella":
            servent = Servent(me, p.port, p.port + 1, self._match, self._on_hit, self.report)
            links = overlay(self.peers, p.degree, p.seed)[me["name"]]
            await servent.start([(n, self.ips[n]) for n in links])
        task = (asyncio.get_running_loop().create_task(self._ask(servent))
                if is_peer and p.queries else None)
        await self.until_stopped()
        if task is not None:
            task.cancel()
        if servent is not None:
            sent = {g.hex(): n for g, n in servent.sent.items()}
            self.report({"event": "messages", "sent": sent})
            await servent.close()
        for part in parts:
            part.close()
        http.close()

    def _match(self, criteria: str) -> List[Tuple[int, int, str]]:
        return [(i, self.params.file_bytes, name(i)) for i in sorted(self.mine)
                if criteria and criteria in name(i)]

    def _on_hit(self, guid: bytes, ip: str, port: int, results: List) -> None:
        if guid in self.hits:
            self.hits[guid].append((time.monotonic(), ip, port, results))

    async def _ask(self, servent: Optional[Servent]) -> None:
        p = self.params
        started = time.monotonic()
        client = await self._napster_login() if p.system == "napster" else None
        await asyncio.sleep(max(0.0, p.start_after - (time.monotonic() - started)))
        wanted = [f for f in queries(self.me["name"], p.queries * 3, p.files, p.alpha, p.seed)
                  if f not in self.mine][:p.queries]
        for n, f in enumerate(wanted):
            began = time.monotonic()
            if servent is not None:
                ttl = p.ttls[n % len(p.ttls)]
                guid = servent.ask(name(f), ttl)
                self.hits[guid] = []
                await asyncio.sleep(p.timeout)
                hits = self.hits.pop(guid)
                found = [(ip, port) for _, ip, port, _ in hits]
                first = hits[0][0] - began if hits else None
                self.report({"metric": "found", "value": int(bool(hits)), "ttl": ttl,
                             "qid": guid.hex(), "hits": len(hits), "file": f})
            else:
                assert client is not None
                results, messages = await asyncio.wait_for(client.search(name(f)), p.timeout)
                first = time.monotonic() - began if results else None
                found = [(ip, p.port + 1) for _, ip, _ in results]
                self.report({"metric": "found", "value": int(bool(results)),
                             "messages": messages, "hits": len(results), "file": f})
            if first is not None:
                self.report({"metric": "first_hit_ms", "value": round(first * 1e3, 3)})
                await self._download(found[0], f)
            await asyncio.sleep(p.interval)

    async def _napster_login(self) -> Client:
        p = self.params
        files = [(name(i), p.file_bytes) for i in sorted(self.mine)]
        while True:
            try:
                return await Client.login(self.ips[p.index], p.port, self.me,
                                          p.port + 1, files)
            except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError):
                await asyncio.sleep(0.2)

    async def _download(self, where: Tuple[str, int], f: int) -> None:
        began = time.monotonic()
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(*where), 5)
            writer.write(f"GET /get/{f}/{name(f)} HTTP/1.0\r\n\r\n".encode())
            data = await asyncio.wait_for(reader.read(-1), 30)
            writer.close()
            ok = data.startswith(b"HTTP/1.0 200") and data.endswith(bytes(16))
            got = len(data.split(b"\r\n\r\n", 1)[-1])
        except (OSError, asyncio.TimeoutError) as e:
            self.report({"metric": "downloaded", "value": 0, "why": str(e) or type(e).__name__})
            return
        ok = ok and got == self.params.file_bytes
        if ok:
            took = round((time.monotonic() - began) * 1e3, 3)
            self.report({"metric": "download_ms", "value": took})
        self.report({"metric": "downloaded", "value": int(ok)})

    async def _http(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            line = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
            index = int(line.split(b" ")[1].split(b"/")[2])
            if index not in self.mine:
                raise ValueError("not shared here")
            size = self.params.file_bytes
            writer.write(f"HTTP/1.0 200 OK\r\nContent-Length: {size}\r\n\r\n".encode())
            block = bytes(65536)
            while size > 0:
                writer.write(block[:min(size, len(block))])
                size -= len(block)
                await writer.drain()
        except (ValueError, IndexError, asyncio.TimeoutError, asyncio.IncompleteReadError,
                asyncio.LimitOverrunError):
            writer.write(b"HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n")
        except (ConnectionError, OSError):
            pass
        writer.close()


if __name__ == "__main__":
    from overlays.agent import main
    main(P2PAgent, "file-sharing agent (Napster, Gnutella)")
