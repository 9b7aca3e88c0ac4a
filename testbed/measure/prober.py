"""The probe process: one per probing host, living in that host's network namespace.

Started as `python -m testbed.measure.prober --socket PATH`, this is first a *zygote*: it
imports scapy once (~0.9 s of CPU), listens on a Unix socket, and for every connection
forks a child that enters the namespace of the host named in the connection's first line
and serves probe requests on that connection. A hundred probers thus cost one scapy
import and a fork each, not a hundred imports (internet-50's matrix would spend most of
its minute importing otherwise). Sockets opened after `setns` belong to the host's
namespace; the Unix socket is a file, reachable from any namespace.

Protocol (JSON lines both ways on the connection):

    -> {"host": "as100.h1", "netns_pid": 1234}                   first line, to the zygote
    <- {"type": "ready", "pid": 5678, "ident": 41234}
    -> {"id": 1, "op": "ping", "dst": ["10.0.1.2"], "kind": "icmp", "count": 10,
        "rate": 100, "size": 84, "port": null, "timeout": 1.0, "quiet": false}
    -> {"id": 2, "op": "trace", "dst": "10.0.1.2", "kind": "udp", "max_ttl": 30,
        "per_hop": 3, "window": 16, "rate": 200, "timeout": 1.0}
    -> {"id": 1, "op": "cancel"}
    <- {"id": 1, "type": "probe", "dst", "seq", "ttl", "sent_ns", "recv_ns", "rtt_ms",
        "from", "reply"}                                        one per probe unless quiet
    <- {"id": 1, "type": "done", ...}  ping: "sent", "received", "rtt_ms": {dst: [...]};
                                       trace: "hops": [{"ttl", "addr", "rtt_ms", "reply"}],
                                       "reached"
    <- {"id": 1, "type": "error", "message": "..."}

Timestamps: `sent_ns` is the wall clock read just before `sendto` (as iputils ping does),
`recv_ns` the kernel's receive timestamp (SO_TIMESTAMPNS), so scheduling delays in this
process after the packet arrived do not count. One single-threaded loop paces sends
(`rate` probes/s per request), drains the receive sockets and expires probes after
`timeout` seconds (reported with reply "timeout"). The child exits when its connection
closes or the zygote dies; the zygote ends when the harness does.
"""
from __future__ import annotations

import argparse
import ctypes
import heapq
import json
import os
import select
import signal
import socket
import struct
import sys
import time
from collections import Counter
from typing import Any, Dict, List, Optional, Tuple

from . import packets

SO_TIMESTAMPNS = 35  # == SCM_TIMESTAMPNS on Linux
CLONE_NEWNET = 0x40000000
PR_SET_PDEATHSIG = 1
BURST = 64  # most probes sent per loop turn, so receiving keeps up when behind schedule
RCVBUF = 4 << 20

_libc = ctypes.CDLL(None, use_errno=True)


def die_with_parent() -> None:
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def enter_netns(pid: int) -> None:
    fd = os.open(f"/proc/{pid}/ns/net", os.O_RDONLY)
    try:
        if _libc.setns(fd, CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"setns into the namespace of pid {pid}: {os.strerror(err)}")
    finally:
        os.close(fd)


class Probe:
    __slots__ = ("request", "dst", "seq", "ttl", "key", "sent_ns")

    def __init__(self, request: "Request", dst: str, seq: int, ttl: int, key: int, sent_ns: int):
        self.request, self.dst, self.seq, self.ttl, self.key, self.sent_ns = \
            request, dst, seq, ttl, key, sent_ns


class Request:
    """One ping or trace: what to send next, and what came back."""

    def __init__(self, spec: Dict[str, Any]):
        self.id = spec["id"]
        self.op = spec.get("op", "ping")
        if self.op not in ("ping", "trace"):
            raise ValueError(f"unknown op '{self.op}'")
        self.kind = spec.get("kind", "icmp")
        dst = spec["dst"]
        self.dsts: List[str] = [dst] if isinstance(dst, str) else list(dst)
        for d in self.dsts:
            socket.inet_aton(d)
        self.size = spec.get("size")
        self.port = spec.get("port")
        self.timeout = float(spec.get("timeout", 1.0))
        rate = spec.get("rate")
        self.interval = 1.0 / float(rate) if rate else 0.0
        self.quiet = bool(spec.get("quiet", False))
        self.next_at = time.monotonic()
        self.sent = self.answered = self.pending = 0
        self.cancelled = False
        if self.op == "ping":
            count = int(spec.get("count", 1))
            self.plan = [(d, int(spec.get("ttl", 64))) for _ in range(count) for d in self.dsts]
            self.rtts: Dict[str, List[Optional[float]]] = {d: [] for d in self.dsts}
        else:
            self.window = int(spec.get("window", 16))
            per_hop = int(spec.get("per_hop", 3))
            first, last = int(spec.get("first_ttl", 1)), int(spec.get("max_ttl", 30))
            self.plan = [(self.dsts[0], t) for t in range(first, last + 1) for _ in range(per_hop)]
            self.hops: Dict[int, List[Tuple[Optional[str], Optional[float], str]]] = {}
            self.final_ttl: Optional[int] = None
        self.plan.reverse()  # pop() from the end

    @property
    def can_send(self) -> bool:
        """Something left to send now: a trace keeps at most `window` probes in flight (as
        traceroute's -N 16), so it asks little beyond the destination once it is known."""
        return bool(self.plan) and not self.cancelled and \
            (self.op != "trace" or self.pending < self.window)

    def next_probe(self) -> Optional[Tuple[str, int]]:
        while self.can_send:
            dst, ttl = self.plan.pop()
            if self.op == "trace" and self.final_ttl is not None and ttl > self.final_ttl:
                continue  # beyond the destination: no need to ask
            return dst, ttl
        return None

    @property
    def finished(self) -> bool:
        return (self.cancelled or not self.plan) and self.pending == 0

    def record(self, probe: Probe, addr: Optional[str], rtt: Optional[float], reply: str,
               final: bool) -> None:
        if self.op == "ping":
            self.rtts[probe.dst].append(rtt)
            return
        self.hops.setdefault(probe.ttl, []).append((addr, rtt, reply))
        if final and (self.final_ttl is None or probe.ttl < self.final_ttl):
            self.final_ttl = probe.ttl

    def summary(self) -> Dict[str, Any]:
        done: Dict[str, Any] = {"id": self.id, "type": "done", "sent": self.sent,
                                "received": self.answered}
        if self.op == "ping":
            done["rtt_ms"] = self.rtts
            return done
        last = self.final_ttl or max(self.hops, default=0)
        hops = []
        for ttl in range(min(self.hops, default=1), last + 1):
            answers = self.hops.get(ttl, [])
            addrs = Counter(a for a, _, _ in answers if a)
            addr = addrs.most_common(1)[0][0] if addrs else None
            replies = [r for a, _, r in answers if a == addr] or ["timeout"]
            hops.append({"ttl": ttl, "addr": addr, "reply": replies[0],
                         "rtt_ms": [rtt for a, rtt, _ in answers if a == addr and rtt is not None]})
        done["hops"] = hops
        done["reached"] = bool(hops) and hops[-1]["addr"] == self.dsts[0]
        return done


class Prober:
    def __init__(self, conn: socket.socket):
        self.conn = conn
        self.conn.setblocking(False)
        self.inbuf = b""
        self.outbuf: List[bytes] = []
        self.ident = 33000 + os.getpid() % 30000  # ICMP id and UDP/TCP source port
        self.tx = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
        self.rx: Dict[str, socket.socket] = {}
        self.templates: Dict[Tuple[str, str, Optional[int], Optional[int]], packets.Template] = {}
        self.sources: Dict[str, str] = {}
        self.requests: Dict[Any, Request] = {}
        self.outstanding: Dict[Tuple[str, int], Probe] = {}
        self.expiry: List[Tuple[float, int, Probe]] = []
        self.seq = 0

    # --- sockets --------------------------------------------------------------------------
    def _receiver(self, kind: str) -> None:
        """ICMP answers every kind; TCP replies need a TCP raw socket (opened when needed,
        as it sees every TCP segment the host receives)."""
        for proto in {"icmp", kind}:
            if proto in self.rx or proto == "udp":
                continue
            sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, packets.PROTO[proto])
            sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RCVBUF)
            sock.setblocking(False)
            self.rx[proto] = sock

    def _source(self, dst: str) -> str:
        """The address this host sends from toward dst (TCP's checksum needs it)."""
        if dst not in self.sources:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
                udp.connect((dst, 9))
                self.sources[dst] = udp.getsockname()[0]
        return self.sources[dst]

    def _template(self, req: Request, dst: str) -> packets.Template:
        key = (req.kind, dst, req.size, req.port)
        if key not in self.templates:
            self.templates[key] = packets.template(req.kind, self._source(dst), dst, self.ident,
                                                   req.size, req.port)
        return self.templates[key]

    # --- requests -------------------------------------------------------------------------
    def _command(self, line: bytes) -> None:
        spec: Dict[str, Any] = {}
        try:
            spec = json.loads(line)
            if spec.get("op") == "cancel":
                req = self.requests.get(spec.get("id"))
                if req is not None:
                    req.cancelled = True
                return
            req = Request(spec)
            for dst in req.dsts:
                self._template(req, dst)  # fail now on a bad size, port or address
            self._receiver(req.kind)
            self.requests[req.id] = req
        except (ValueError, KeyError, TypeError, OSError) as exc:
            self._emit({"id": spec.get("id"), "type": "error", "message": str(exc)})

    def _send_due(self, now: float) -> None:
        for req in list(self.requests.values()):
            sent = 0
            while req.next_at <= now and sent < BURST:
                nxt = req.next_probe()
                if nxt is None:
                    break
                dst, ttl = nxt
                self.seq += 1
                key = packets.key_of(self.seq)
                data = self._template(req, dst).stamp(key, ttl)
                sent_ns = time.time_ns()
                try:
                    self.tx.sendto(data, (dst, 0))
                except OSError as exc:  # e.g. no route: counts as lost, say why once
                    self._emit({"id": req.id, "type": "warning", "message": f"{dst}: {exc}"})
                probe = Probe(req, dst, req.sent, ttl, key, sent_ns)
                old = self.outstanding.pop((req.kind, key), None)
                if old is not None:
                    self._resolve(old, None, None, "timeout", False)
                self.outstanding[(req.kind, key)] = probe
                heapq.heappush(self.expiry, (now + req.timeout, self.seq, probe))
                req.sent += 1
                req.pending += 1
                sent += 1
                req.next_at = req.next_at + req.interval if req.interval else now
            if req.next_at < now - 1.0:
                req.next_at = now  # fell far behind (machine busy): do not burst to catch up

    def _expire(self, now: float) -> None:
        while self.expiry and self.expiry[0][0] <= now:
            _, _, probe = heapq.heappop(self.expiry)
            if self.outstanding.get((probe.request.kind, probe.key)) is probe:
                del self.outstanding[(probe.request.kind, probe.key)]
                self._resolve(probe, None, None, "timeout", False)

    def _resolve(self, probe: Probe, recv_ns: Optional[int], addr: Optional[str], reply: str,
                 final: bool) -> None:
        req = probe.request
        req.pending -= 1
        rtt = None if recv_ns is None else round((recv_ns - probe.sent_ns) / 1e6, 4)
        if rtt is not None:
            req.answered += 1
        req.record(probe, addr, rtt, reply, final)
        if not req.quiet:
            self._emit({"id": req.id, "type": "probe", "dst": probe.dst, "seq": probe.seq,
                        "ttl": probe.ttl, "sent_ns": probe.sent_ns, "recv_ns": recv_ns,
                        "rtt_ms": rtt, "from": addr, "reply": reply})

    def _drain(self, sock: socket.socket) -> None:
        while True:
            try:
                data, anc, _, _ = sock.recvmsg(65535, 64)
            except BlockingIOError:
                return
            reply = packets.parse(data)
            if reply is None or reply.ident != self.ident:
                continue
            probe = self.outstanding.get((reply.kind, reply.key))
            if probe is None or probe.dst != reply.dst:
                continue
            recv_ns = None
            for level, kind, cdata in anc:
                if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
                    sec, nsec = struct.unpack("qq", cdata[:16])
                    recv_ns = sec * 1_000_000_000 + nsec
            del self.outstanding[(reply.kind, reply.key)]
            self._resolve(probe, recv_ns or time.time_ns(), reply.src, reply.reply, reply.final)

    # --- loop -----------------------------------------------------------------------------
    def _emit(self, msg: Dict[str, Any]) -> None:
        self.outbuf.append(json.dumps(msg, separators=(",", ":")).encode() + b"\n")

    def _flush(self) -> None:
        if self.outbuf:
            self.conn.setblocking(True)
            self.conn.sendall(b"".join(self.outbuf))
            self.conn.setblocking(False)
            self.outbuf.clear()

    def _read_commands(self) -> bool:
        """False once the harness has closed the connection."""
        try:
            chunk = self.conn.recv(65536)
        except BlockingIOError:
            return True
        if not chunk:
            return False
        self.inbuf += chunk
        *lines, self.inbuf = self.inbuf.split(b"\n")
        for line in lines:
            if line.strip():
                self._command(line)
        return True

    def run(self) -> None:
        self._emit({"type": "ready", "pid": os.getpid(), "ident": self.ident})
        while True:
            now = time.monotonic()
            self._send_due(now)
            self._expire(now)
            for req in [r for r in self.requests.values() if r.finished]:
                del self.requests[req.id]
                self._emit(req.summary())
            self._flush()
            wake = [e[0] for e in self.expiry[:1]]
            wake += [r.next_at for r in self.requests.values() if r.can_send]
            timeout = max(0.0, min(wake) - time.monotonic()) if wake else None
            readable, _, _ = select.select([self.conn, *self.rx.values()], [], [], timeout)
            for sock in readable:
                if sock is self.conn:
                    if not self._read_commands():
                        return
                else:
                    self._drain(sock)


def _read_line(conn: socket.socket) -> bytes:
    line = b""
    while not line.endswith(b"\n"):
        chunk = conn.recv(1)
        if not chunk:
            break
        line += chunk
    return line


def serve_host(conn: socket.socket) -> None:
    """In a forked child: enter the host's namespace and serve its probes until EOF."""
    try:
        hello = json.loads(_read_line(conn))
        enter_netns(int(hello["netns_pid"]))
        Prober(conn).run()
    except Exception as exc:  # reported to the harness, which raises it
        try:
            conn.setblocking(True)
            conn.sendall(json.dumps({"type": "error", "message": f"{type(exc).__name__}: {exc}"})
                         .encode() + b"\n")
        except OSError:
            pass


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--socket", required=True)
    args = parser.parse_args(argv)
    parent = os.getppid()
    # scapy reads every interface and route of its namespace on import: ~19 s among the
    # 500 veths of internet-50. Its own empty namespace costs nothing (children setns).
    if _libc.unshare(CLONE_NEWNET) != 0:
        raise OSError(ctypes.get_errno(), "unshare(CLONE_NEWNET)")
    import scapy.layers.inet  # noqa: F401  (once, before forking: the children share it)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    if os.path.exists(args.socket):
        os.unlink(args.socket)
    listener.bind(args.socket)
    listener.listen(256)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped automatically
    print(json.dumps({"event": "ready", "pid": os.getpid()}), flush=True)
    while True:
        # not PR_SET_PDEATHSIG here: it fires when the parent *thread* that started us
        # ends, and the harness may start the zygote from a worker thread
        if os.getppid() != parent:
            return
        if not select.select([listener], [], [], 1.0)[0]:
            continue
        conn, _ = listener.accept()
        if os.fork() == 0:
            listener.close()
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            die_with_parent()
            serve_host(conn)
            os._exit(0)
        conn.close()


if __name__ == "__main__":
    sys.exit(main())
