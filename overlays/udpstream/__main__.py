"""Application traffic: constant-rate UDP flows with sequence numbers and timestamps.

    python -m overlays.udpstream --config CONFIG.json   (the contract: overlays/README.md)

`params.flows` lists the flows; every member runs the ends it is named for:

    flows:
      - {name: direct, client: as100.h1, server: as300.h1, rate: 50, port: 9001}
      - {name: ron, client: as100.h1, server: as300.h1, rate: 50, port: 9002, via: ron}

`rate` packets/s [50], `size` bytes of UDP payload [64], `via` direct [default] or ron:
through the RON agent on the client's host (127.0.0.1:`ron_app_port` [7101], the 6-byte
destination header of overlays/ron). Each packet carries its sequence number and the
wall-clock send time (all hosts share one clock: they are namespaces of one machine), so
the server measures one-way latency.

Reports: the client `{"flow", "seq", "sent"}` per packet sent, the server `{"flow",
"seq", "sent", "received"}` per packet received; the harness derives per flow `sent`,
`received`, `delivery`, `loss`, `latency_*_ms` and `outage_s` (first lost packet to the
first delivered after it, by send time: the failover time when it is the overlay's).
"""
from __future__ import annotations

import json
import selectors
import socket
import struct
import time
from typing import Any, Dict, List

from . import StreamParams

PACKET = struct.Struct("!Id")  # seq, sent (wall clock, seconds)


class Flows:
    def __init__(self, config: Dict[str, Any]):
        params = StreamParams.model_validate(config.get("params", {}))
        me = config["host"]["name"]
        ips = {config["host"]["name"]: config["host"]["ip"],
               **{p["name"]: p["ip"] for p in config["peers"]}}
        self.ron_port = params.ron_app_port
        self.out = open(config["output"], "a", encoding="utf-8")
        self.sel = selectors.DefaultSelector()
        self.clients: List[Dict[str, Any]] = []
        for flow in params.flows:
            if flow.server == me:
                sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                sock.bind((ips[me], flow.port))
                sock.setblocking(False)
                self.sel.register(sock, selectors.EVENT_READ, flow.name)
            if flow.client == me:
                sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                server = (ips[flow.server], flow.port)
                via_ron = flow.via == "ron"
                header = socket.inet_aton(server[0]) + struct.pack("!H", server[1]) \
                    if via_ron else b""
                self.clients.append({
                    "name": flow.name, "sock": sock, "header": header,
                    "to": ("127.0.0.1", self.ron_port) if via_ron else server,
                    "interval": 1.0 / flow.rate,
                    "pad": bytes(max(0, flow.size - PACKET.size)),
                    "seq": 0, "next": time.monotonic()})
        self.running = True

    def report(self, record: Dict[str, Any]) -> None:
        self.out.write(json.dumps(record) + "\n")
        self.out.flush()

    def send_due(self, now: float) -> None:
        for c in self.clients:
            while c["next"] <= now:
                c["seq"] += 1
                sent = time.time()
                try:
                    c["sock"].sendto(c["header"] + PACKET.pack(c["seq"], sent) + c["pad"], c["to"])
                except OSError:
                    pass  # unreachable now: counts as lost
                self.report({"t": sent, "flow": c["name"], "seq": c["seq"], "sent": sent})
                c["next"] += c["interval"]
                if c["next"] < now - 1.0:
                    c["next"] = now  # far behind (machine busy): do not burst

    def run(self) -> None:
        while self.running:
            now = time.monotonic()
            self.send_due(now)
            wake = min((c["next"] for c in self.clients), default=now + 0.1)
            for key, _ in self.sel.select(timeout=max(0.0, min(wake - time.monotonic(), 0.1))):
                while True:
                    try:
                        data = key.fileobj.recv(65535)  # type: ignore[union-attr]
                    except BlockingIOError:
                        break
                    received = time.time()
                    if len(data) >= PACKET.size:
                        seq, sent = PACKET.unpack_from(data)
                        self.report({"t": received, "flow": key.data, "seq": seq, "sent": sent,
                                     "received": received})
        self.out.close()



if __name__ == "__main__":
    from overlays.agent import main
    main(Flows, "constant-rate UDP flows")
