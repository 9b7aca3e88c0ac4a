"""Echo overlay agent: every member sends a UDP echo request to every other member each
`interval` seconds, answers the requests it gets, and reports per request the round-trip
time (`rtt_ms`) or that no answer came within `timeout` (`delivered` 1 or 0).

    python -m overlays.echo --config CONFIG.json

Parameters (`params` in the config; defaults in `EchoParams`, __init__.py): port (7000),
interval (1.0 s), timeout (1.0 s).
It shows the contract in full: read the config, bind to the host's address, report JSON
lines to `output` (flushed), stop on SIGTERM at once.
"""
from __future__ import annotations

import json
import selectors
import socket
import time
from typing import Any, Dict, Tuple

from . import EchoParams


class EchoAgent:
    def __init__(self, config: Dict[str, Any]):
        params = EchoParams.model_validate(config.get("params", {}))
        self.port, self.interval, self.timeout = params.port, params.interval, params.timeout
        self.name = config["host"]["name"]
        self.peers = {(p["ip"], self.port): p["name"] for p in config["peers"]}
        self.out = open(config["output"], "a", encoding="utf-8")
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((config["host"]["ip"], self.port))
        self.sock.setblocking(False)
        self.pending: Dict[Tuple[str, int], Tuple[str, int]] = {}  # (peer, seq) -> sent_ns
        self.seq = 0
        self.running = True

    def report(self, **record: Any) -> None:
        self.out.write(json.dumps({"t": time.time(), **record}) + "\n")
        self.out.flush()

    def send_round(self) -> None:
        self.seq += 1
        for addr, peer in self.peers.items():
            sent = time.monotonic_ns()
            msg = {"type": "req", "seq": self.seq, "from": self.name, "ts": sent}
            try:
                self.sock.sendto(json.dumps(msg).encode(), addr)
            except OSError:
                pass  # unreachable now: it counts as not delivered
            self.pending[(peer, self.seq)] = sent

    def receive(self) -> None:
        while True:
            try:
                data, addr = self.sock.recvfrom(2048)
            except BlockingIOError:
                return
            now = time.monotonic_ns()
            try:
                msg = json.loads(data)
            except ValueError:
                continue
            if msg.get("type") == "req":
                self.sock.sendto(json.dumps({**msg, "type": "rep", "by": self.name}).encode(), addr)
            elif msg.get("type") == "rep":
                sent = self.pending.pop((msg.get("by"), msg.get("seq")), None)
                if sent is not None:
                    self.report(metric="rtt_ms", value=round((now - sent) / 1e6, 3),
                                peer=msg["by"])
                    self.report(metric="delivered", value=1, peer=msg["by"])

    def expire(self) -> None:
        limit = time.monotonic_ns() - int(self.timeout * 1e9)
        for key, sent in list(self.pending.items()):
            if sent < limit:
                del self.pending[key]
                self.report(metric="delivered", value=0, peer=key[0])

    def run(self) -> None:
        sel = selectors.DefaultSelector()
        sel.register(self.sock, selectors.EVENT_READ)
        next_round = time.monotonic()
        self.report(event="started", peers=len(self.peers))
        while self.running:
            now = time.monotonic()
            if now >= next_round:
                self.send_round()
                next_round += self.interval
            self.expire()
            if sel.select(timeout=max(0.0, min(next_round - time.monotonic(), 0.1))):
                self.receive()
        self.report(event="stopped")
        self.out.close()



if __name__ == "__main__":
    from overlays.agent import main
    main(EchoAgent, "echo overlay agent")
