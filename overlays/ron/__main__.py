"""RON agent: a Resilient Overlay Network member (after Andersen et al., SOSP 2001).

    python -m overlays.ron --config CONFIG.json      (the contract: overlays/README.md)

What it does, with its knobs (`params`, defaults in brackets; the model is `RonParams` in
__init__.py):

- Probes every other member every `probe_interval` [0.5 s] (UDP on `port` [7100]). A probe
  unanswered after `probe_timeout` [0.3 s] is lost; a loss triggers `followups` [2] extra
  probes `followup_interval` [0.1 s] apart, and `dead_after` [3] losses in a row mark the
  link down: a dead link is noticed ~0.8 s after its first lost probe was sent, so 0.8 to
  1.3 s after it died. A reply marks it up again.
- Estimates per link: latency as an EWMA of RTT/2 with weight `ewma_alpha` [0.3] for the
  newest sample; loss rate over the last `loss_window` [20] probes.
- Link state: every `ls_interval` [0.5 s] it sends its links' estimates to every member;
  estimates older than 3 intervals are not trusted.
- Path choice (overlays/ron/routing.py): the direct path or one intermediate member, by
  `metric` [latency] (latency | loss | combined, with `loss_penalty_ms` [500]), switching
  only when `hysteresis` [0.1] better or the current path broke; recomputed every 0.1 s.
- Forwarding: an application on the host sends datagrams to 127.0.0.1:`app_port` [7101]
  prefixed with the destination's IPv4 address and UDP port (6 bytes); the agent carries
  them (UDP encapsulation, `D` messages) along the chosen path, and the last agent hands
  the payload to that address and port. Packets for a destination with no usable path go
  direct (the underlay may still deliver them).

Reports (JSON lines): `probe_pps` and `ls_pps` (packets it sent per second, each second),
`path_change` events (`dst`, `via` or null, `cost`), and, each `report_interval` [5 s],
per destination: `stretch` = chosen path's latency / direct path's latency (RTT-based
estimates; `via` names the intermediate; `dst_ip` and `via_ips` make it a path report,
overlays/README.md) and `detour_better` (1 if an intermediate path
is chosen because it is better, else 0).
"""
from __future__ import annotations

import json
import math
import selectors
import socket
import struct
import time
from collections import deque
from typing import Any, Callable, Deque, Dict, List, Optional, Tuple

from . import RonParams
from .routing import LinkEstimate, Path, choose, path_cost

DATA_HEADER = struct.Struct("!4sH4s")  # final destination ip, port, origin ip
APP_HEADER = struct.Struct("!4sH")


class Link:
    """Own measurements of the link to one peer."""

    def __init__(self, window: int):
        self.rtt_ewma: Optional[float] = None
        self.results: Deque[int] = deque(maxlen=window)
        self.lost_in_row = 0
        self.up = False
        self.followups_left = 0
        self.next_followup = math.inf

    def estimate(self) -> Optional[LinkEstimate]:
        if self.rtt_ewma is None:
            return None
        loss = 1 - sum(self.results) / len(self.results) if self.results else 0.0
        return LinkEstimate(self.rtt_ewma / 2, loss, self.up)


def link_is_down(lost_in_row: int, dead_after: int) -> bool:
    """RON's failure detection: `dead_after` probes lost in a row."""
    return lost_in_row >= dead_after


class RonAgent:
    """One member. `choose` (path choice, overlays/ron/routing.py) and `link_is_down`
    (failure detection) can be another module's: the routing-overlay lab's students write
    their own (overlays/ronlab)."""

    def __init__(self, config: Dict[str, Any], choose: Callable[..., Optional[Path]] = choose,
                 link_is_down: Callable[[int, int], bool] = link_is_down):
        self.choose, self.link_is_down = choose, link_is_down
        p = RonParams.model_validate(config.get("params", {}))
        self.port, self.app_port = p.port, p.app_port
        self.probe_interval, self.probe_timeout = p.probe_interval, p.probe_timeout
        self.followups, self.followup_interval = p.followups, p.followup_interval
        self.dead_after, self.alpha, self.loss_window = p.dead_after, p.ewma_alpha, p.loss_window
        self.ls_interval, self.metric = p.ls_interval, p.metric
        self.loss_penalty_ms, self.hysteresis = p.loss_penalty_ms, p.hysteresis
        self.report_interval = p.report_interval

        self.name = config["host"]["name"]
        self.ip = config["host"]["ip"]
        self.ip_bytes = socket.inet_aton(self.ip)
        self.peers = {peer["name"]: peer["ip"] for peer in config["peers"]}
        self.by_ip = {ip: name for name, ip in self.peers.items()}
        self.members = sorted([self.name, *self.peers])
        self.links = {name: Link(self.loss_window) for name in self.peers}
        self.remote: Dict[str, Tuple[float, Dict[str, List[Any]]]] = {}  # name -> (when, links)
        self.routes: Dict[str, Optional[Path]] = {name: None for name in self.peers}
        self.pending: Dict[int, Tuple[str, int]] = {}  # seq -> (peer, sent_ns)
        self.seq = 0
        self.sent_probe = self.sent_ls = 0
        self.out = open(config["output"], "a", encoding="utf-8")
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        self.sock.bind((self.ip, self.port))
        self.sock.setblocking(False)
        self.app = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.app.bind(("127.0.0.1", self.app_port))
        self.app.setblocking(False)
        self.running = True

    def report(self, **record: Any) -> None:
        self.out.write(json.dumps({"t": round(time.time(), 6), **record}) + "\n")
        self.out.flush()

    # --- probing ------------------------------------------------------------------------
    def probe(self, peer: str) -> None:
        self.seq += 1
        sent = time.monotonic_ns()
        self.pending[self.seq] = (peer, sent)
        self._send(b"P" + json.dumps({"f": self.name, "s": self.seq}).encode(), self.peers[peer])
        self.sent_probe += 1

    def _send(self, data: bytes, ip: str) -> None:
        try:
            self.sock.sendto(data, (ip, self.port))
        except OSError:
            pass  # no route right now: the probe will count as lost

    def on_reply(self, seq: int) -> None:
        entry = self.pending.pop(seq, None)
        if entry is None:
            return
        peer, sent = entry
        rtt = (time.monotonic_ns() - sent) / 1e6
        link = self.links[peer]
        link.rtt_ewma = rtt if link.rtt_ewma is None else \
            self.alpha * rtt + (1 - self.alpha) * link.rtt_ewma
        link.results.append(1)
        link.lost_in_row = 0
        link.followups_left, link.next_followup = 0, math.inf
        if not link.up:
            link.up = True
            self.reroute()

    def expire(self, now: float) -> None:
        """Count probes unanswered for probe_timeout as lost; the first loss in a row
        schedules the follow-up probes, dead_after in a row mark the link down."""
        limit = time.monotonic_ns() - int(self.probe_timeout * 1e9)
        for seq, (peer, sent) in list(self.pending.items()):
            if sent < limit:
                del self.pending[seq]
                link = self.links[peer]
                link.results.append(0)
                link.lost_in_row += 1
                if link.lost_in_row == 1 and self.followups:
                    link.followups_left = self.followups
                    link.next_followup = now + self.followup_interval
                if link.up and self.link_is_down(link.lost_in_row, self.dead_after):
                    link.up = False
                    self.reroute()

    def send_followups(self, now: float) -> None:
        for peer, link in self.links.items():
            if link.followups_left > 0 and now >= link.next_followup:
                link.followups_left -= 1
                link.next_followup = now + self.followup_interval if link.followups_left \
                    else math.inf
                self.probe(peer)

    # --- link state and routes ----------------------------------------------------------
    def send_link_state(self) -> None:
        links = {}
        for peer, link in self.links.items():
            e = link.estimate()
            if e is not None:
                links[peer] = [round(e.latency_ms, 3), round(e.loss, 4), e.up]
        msg = b"L" + json.dumps({"f": self.name, "l": links}).encode()
        for ip in self.peers.values():
            self._send(msg, ip)
            self.sent_ls += 1

    def estimates(self) -> Dict[Tuple[str, str], LinkEstimate]:
        out: Dict[Tuple[str, str], LinkEstimate] = {}
        for peer, link in self.links.items():
            e = link.estimate()
            if e is not None:
                out[(self.name, peer)] = e
        fresh = time.monotonic() - 3 * self.ls_interval
        for member, (when, links) in self.remote.items():
            if when >= fresh:
                for peer, (lat, loss, up) in links.items():
                    out[(member, peer)] = LinkEstimate(lat, loss, up)
        return out

    def reroute(self) -> None:
        links = self.estimates()
        for dst in self.peers:
            new = self.choose(links, self.name, dst, self.members, self.routes[dst],
                              self.metric, self.hysteresis, self.loss_penalty_ms)
            if new != self.routes[dst]:
                self.routes[dst] = new
                cost = path_cost(links, self.name, new, self.metric, self.loss_penalty_ms) \
                    if new else None
                self.report(event="path_change", metric="path_change", value=1, dst=dst,
                            via=new[0] if new and len(new) == 2 else None,
                            cost=None if cost is None or math.isinf(cost) else round(cost, 3))

    def report_paths(self) -> None:
        links = self.estimates()
        for dst, path in self.routes.items():
            direct = path_cost(links, self.name, (dst,), "latency", 0)
            if path is None or math.isinf(direct) or direct <= 0:
                continue
            chosen = path_cost(links, self.name, path, "latency", 0)
            self.report(metric="stretch", value=round(chosen / direct, 4), dst=dst,
                        dst_ip=self.peers[dst], via=path[0] if len(path) == 2 else None,
                        via_ips=[self.peers[path[0]]] if len(path) == 2 else [])
            self.report(metric="detour_better", value=int(len(path) == 2 and chosen < direct),
                        dst=dst)

    # --- data -----------------------------------------------------------------------------
    def forward(self, dst_ip: bytes, port: int, origin: bytes, payload: bytes) -> None:
        """Entry agent: along the chosen path; intermediate: straight to the exit (one
        intermediate at most, so no loops); exit: to the application's address."""
        ip = socket.inet_ntoa(dst_ip)
        if ip == self.ip:
            try:
                self.sock.sendto(payload, (ip, port))
            except OSError:
                pass
            return
        next_ip = ip
        if origin == self.ip_bytes:
            dst = self.by_ip.get(ip)
            path = self.routes.get(dst) if dst else None
            if path:
                next_ip = self.peers[path[0]]
        self._send(b"D" + DATA_HEADER.pack(dst_ip, port, origin) + payload, next_ip)

    def receive(self) -> None:
        while True:
            try:
                data, (src_ip, _) = self.sock.recvfrom(65535)
            except BlockingIOError:
                return
            kind, body = data[:1], data[1:]
            if kind == b"P":
                msg = json.loads(body)
                self._send(b"R" + json.dumps({"s": msg["s"], "b": self.name}).encode(), src_ip)
                self.sent_probe += 1
            elif kind == b"R":
                self.on_reply(json.loads(body)["s"])
            elif kind == b"L":
                msg = json.loads(body)
                self.remote[msg["f"]] = (time.monotonic(), msg["l"])
            elif kind == b"D" and len(body) >= DATA_HEADER.size:
                dst_ip, port, origin = DATA_HEADER.unpack_from(body)
                self.forward(dst_ip, port, origin, body[DATA_HEADER.size:])

    def receive_app(self) -> None:
        while True:
            try:
                data, _ = self.app.recvfrom(65535)
            except BlockingIOError:
                return
            if len(data) >= APP_HEADER.size:
                dst_ip, port = APP_HEADER.unpack_from(data)
                self.forward(dst_ip, port, self.ip_bytes, data[APP_HEADER.size:])

    # --- loop -----------------------------------------------------------------------------
    def run(self) -> None:
        sel = selectors.DefaultSelector()
        sel.register(self.sock, selectors.EVENT_READ)
        sel.register(self.app, selectors.EVENT_READ)
        now = time.monotonic()
        next_probe, next_ls, next_route = now, now + self.ls_interval, now
        next_second = now + 1.0
        next_report = now + self.report_interval
        self.report(event="started", members=len(self.members))
        while self.running:
            now = time.monotonic()
            if now >= next_second:  # before this turn's probes: whole seconds are counted
                self.report(metric="probe_pps", value=self.sent_probe, members=len(self.members))
                self.report(metric="ls_pps", value=self.sent_ls, members=len(self.members))
                self.sent_probe = self.sent_ls = 0
                next_second += 1.0
            if now >= next_probe:
                for peer in self.peers:
                    self.probe(peer)
                next_probe += self.probe_interval
            self.expire(now)
            self.send_followups(now)
            if now >= next_ls:
                self.send_link_state()
                next_ls += self.ls_interval
            if now >= next_route:
                self.reroute()
                next_route = now + 0.1
            if now >= next_report:
                self.report_paths()
                next_report += self.report_interval
            wake = min(next_probe, next_ls, next_route, next_second, next_report,
                       *(link.next_followup for link in self.links.values()))
            for key, _ in sel.select(timeout=max(0.0, min(wake - time.monotonic(), 0.05))):
                if key.fileobj is self.sock:
                    self.receive()
                else:
                    self.receive_app()
        self.report_paths()
        self.report(event="stopped")
        self.out.close()



if __name__ == "__main__":
    from overlays.agent import main
    main(RonAgent, "RON overlay agent")
