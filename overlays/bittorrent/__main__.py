"""The BitTorrent agent: the tracker on `params.tracker` (and nothing else there, unless
it is also a seed), a seed on each of `seeds`, a leecher everywhere else
(BitTorrentParams, __init__.py).

    python -m overlays.bittorrent --config CONFIG.json   (the contract: overlays/README.md)

Every member makes the same torrent from the params (metainfo.py). A peer announces to
the tracker (`started`, then every interval, `completed`, `stopped` at its stop),
connects to the peers it is given, and trades pieces (peer.py). A leecher reports
`complete_s` when its client says the last piece checked out; every peer reports at its
stop `uploaded_mib`, `downloaded_mib`, `left` (bytes still missing), `seed`, and
`pieces`: the SHA-1 of each piece of what it holds then (its store, or transmission's
file on disk), which the analysis checks against the published file: whether a leecher
holds the right bytes is not its own word.

With `tracker_program: opentracker` the tracker is opentracker; members listed in
`transmission` run transmission-cli instead of the Python peer, a seed's torrent made by
mktorrent (real.py). Each peer reports a `torrent` event with its torrent's maker and
info hash; a transmission member's `stopped` has `client` and no byte counts.
"""
from __future__ import annotations

import asyncio
import hashlib
import random
import time
from pathlib import Path
from typing import Any, Dict, Optional, Union

from ..agent import AsyncAgent
from . import BitTorrentParams
from .bencode import BencodeError
from .metainfo import content, held_digests, make, parse
from .peer import Peer
from .real import Opentracker, Transmission, mktorrent, verified_pieces
from .tracker import Tracker, announce

MIB = 1 << 20


class BitTorrentAgent(AsyncAgent):
    def __init__(self, config: Dict[str, Any]):
        super().__init__(config)
        self.params = p = BitTorrentParams.model_validate(config["params"])
        self.ips = {m["name"]: m["ip"] for m in self.members}
        url = f"http://{self.ips[p.tracker]}:{p.tracker_port}/announce"
        self.data = content(int(p.file_mib * MIB), p.seed)
        self.metainfo = make(self.data, f"file-{p.seed}.bin", p.piece_kib * 1024, url)
        self.torrent = parse(self.metainfo)
        self.is_seed = self.me["name"] in p.seeds
        self.peer_id = b"-TB0001-" + hashlib.sha1(self.me["name"].encode()).digest()[:12]
        self.rng = random.Random(config["seed"])

    async def main(self) -> None:
        p, me = self.params, self.me
        tracker: Optional[Union[Tracker, Opentracker]] = None
        if me["name"] == p.tracker and p.tracker_program == "opentracker":
            tracker = Opentracker(me["ip"], p.tracker_port, self.torrent.info_hash,
                                  open(self.config["output"] + ".opentracker.log", "ab"))
            tracker.start()
        elif me["name"] == p.tracker:
            tracker = Tracker(me["ip"], p.tracker_port, p.announce_interval, self.report)
            await tracker.start()
        if tracker is not None and not self.is_seed:  # the tracker's host only tracks
            await self.until_stopped()
            tracker.close()
            return
        if me["name"] in p.transmission:
            await self._transmission()
        else:
            await self._python_peer()
        if tracker is not None:
            tracker.close()

    async def _python_peer(self) -> None:
        p, me = self.params, self.me
        self.report({"event": "torrent", "maker": "python",
                     "info_hash": self.torrent.info_hash.hex()})
        cs = p.mode == "client-server"
        peer = Peer(self.torrent, self.peer_id, me["ip"], p.port,
                    self.data if self.is_seed else None, p.upload_mbit, p.slots,
                    p.choke_interval, serve_all=cs and self.is_seed,
                    uploads=not cs or self.is_seed, rng=self.rng, report=self.report)
        await peer.start()
        loop = asyncio.get_running_loop()
        tasks = [loop.create_task(self._announcer(peer))]
        if not self.is_seed:
            tasks.append(loop.create_task(self._until_complete(peer)))
        await self.until_stopped()
        for task in tasks:
            task.cancel()
        self.report({"event": "stopped", "seed": self.is_seed, "left": peer.left,
                     "uploaded_mib": round(peer.uploaded / MIB, 3),
                     "downloaded_mib": round(peer.downloaded / MIB, 3),
                     "pieces": held_digests(bytes(peer.store), self.torrent.piece_length)})
        try:
            await asyncio.wait_for(self._announce(peer, "stopped"), 0.5)
        except (OSError, asyncio.TimeoutError, BencodeError):
            pass
        await peer.close()

    async def _transmission(self) -> None:
        """transmission-cli in this agent's place: a seed writes the file and makes its
        torrent with mktorrent; a leecher takes the Python-made one, and once transmission
        has finished, what is on disk is reported at the stop."""
        p, t = self.params, self.torrent
        folder = Path(self.config["output"] + ".transmission")
        folder.mkdir(parents=True, exist_ok=True)
        torrent_file = folder / "file.torrent"
        began = time.monotonic()
        if self.is_seed:
            (folder / t.name).write_bytes(self.data)
            raw = mktorrent(folder / t.name, t.piece_length, t.announce, torrent_file)
            maker = "mktorrent"
        else:
            raw = self.metainfo
            torrent_file.write_bytes(raw)
            maker = "python"
        self.report({"event": "torrent", "maker": maker, "info_hash": parse(raw).info_hash.hex()})
        client = Transmission(torrent_file, folder, self.me["ip"], p.port, p.upload_mbit,
                              Path(self.config["output"] + ".transmission.log")).start()
        while self.running and not self.is_seed:
            if client.finished():
                self.report({"metric": "complete_s",
                             "value": round(time.monotonic() - began, 3)})
                break
            await asyncio.sleep(0.25)
        await self.until_stopped()
        client.stop()
        good = verified_pieces(folder / t.name, t)
        left = sum(t.size_of(i) for i in range(t.pieces) if i not in good)
        try:
            held = (folder / t.name).read_bytes()
        except OSError:
            held = b""
        self.report({"event": "stopped", "seed": self.is_seed, "left": left,
                     "client": "transmission", "pieces": held_digests(held, t.piece_length)})

    async def _announce(self, peer: Peer, event: str = "") -> int:
        interval, peers = await announce(
            self.torrent.announce, self.torrent.info_hash, self.peer_id, self.params.port,
            peer.uploaded, peer.downloaded, peer.left, event, local_ip=self.me["ip"])
        if self.params.mode == "client-server" and not self.is_seed:
            seeds = {self.ips[s] for s in self.params.seeds}
            peers = [x for x in peers if x[0] in seeds]  # only the server is worth a link
        for ip, port in peers:
            peer.connect(ip, port)
        return interval

    async def _announcer(self, peer: Peer) -> None:
        event = "started"
        while True:
            try:
                interval = await self._announce(peer, event)
                event = ""
            except (OSError, asyncio.TimeoutError, BencodeError, ValueError):
                interval = 1  # the tracker may not be up yet
            await asyncio.sleep(interval)

    async def _until_complete(self, peer: Peer) -> None:
        await peer.done.wait()
        took = time.monotonic() - peer.started
        self.report({"metric": "complete_s", "value": round(took, 3)})
        try:
            await self._announce(peer, "completed")
        except (OSError, asyncio.TimeoutError, BencodeError):
            pass


if __name__ == "__main__":
    from overlays.agent import main
    main(BitTorrentAgent, "BitTorrent agent (tracker, seed, leecher)")
