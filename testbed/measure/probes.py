"""The harness side of the probe processes (see `prober`): a fleet of probers, one per
probing host, forked from one zygote, and typed results.

    fleet = ProbeFleet(work_dir)                 # the zygote: scapy imported once
    p = fleet.prober("as100.h1", netns_pid)      # forked into that host's namespace
    p.ping("10.0.2.2", kind="udp", count=100, rate=1000)   -> PingResult
    p.trace("10.0.2.2", kind="tcp")                          -> TraceResult
    for msg in p.start("ping", dst=[...], count=600, rate=10): ...   # stream, per probe

A reader thread per prober files every line under its request id, so many requests (on
many probers) run at once and a slow consumer never stalls a prober's loop.
"""
from __future__ import annotations

import json
import queue
import socket
import statistics
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

from ..process import EventProcess, event_named

_EOF = {"type": "error", "message": "the prober exited"}


class ProbeError(RuntimeError):
    pass


@dataclass
class PingResult:
    """RTTs in ms of one destination's probes in send order (None = no answer)."""
    dst: str
    rtts: List[Optional[float]]

    @property
    def sent(self) -> int:
        return len(self.rtts)

    @property
    def answered(self) -> List[float]:
        return [r for r in self.rtts if r is not None]

    @property
    def received(self) -> int:
        return len(self.answered)

    @property
    def loss(self) -> float:
        return 1 - self.received / self.sent if self.sent else 1.0

    def stats(self) -> Dict[str, Optional[float]]:
        """min, median, mean, max and mdev (population std) of the answered RTTs."""
        got = self.answered
        if not got:
            return {k: None for k in ("min", "median", "mean", "max", "mdev")}
        return {"min": min(got), "median": statistics.median(got), "mean": statistics.fmean(got),
                "max": max(got), "mdev": statistics.pstdev(got)}


@dataclass
class Hop:
    ttl: int
    addr: Optional[str]
    reply: str
    rtt_ms: List[float] = field(default_factory=list)


@dataclass
class TraceResult:
    dst: str
    hops: List[Hop]
    reached: bool


class Stream:
    """The messages of one request, ending with (and including) its 'done' message."""

    def __init__(self, prober: "Prober", req_id: int, timeout: float):
        self.prober, self.id, self.timeout = prober, req_id, timeout
        self.queue: "queue.Queue[Dict[str, Any]]" = prober._queues[req_id]

    def __iter__(self) -> Iterator[Dict[str, Any]]:
        while True:
            try:
                msg = self.queue.get(timeout=self.timeout)
            except queue.Empty:
                raise ProbeError(f"{self.prober.host}: no answer from the prober within "
                                 f"{self.timeout:.0f} s") from None
            if msg["type"] == "error":
                raise ProbeError(f"{self.prober.host}: {msg['message']}")
            yield msg
            if msg["type"] == "done":
                self.prober._queues.pop(self.id, None)
                return

    def done(self) -> Dict[str, Any]:
        for msg in self:
            if msg["type"] == "done":
                return msg
        raise AssertionError("unreachable")

    def cancel(self) -> None:
        self.prober._send({"id": self.id, "op": "cancel"})


class Prober:
    """One host's probe process, reached over its Unix-socket connection."""

    def __init__(self, host: str, socket_path: Path, netns_pid: int):
        self.host = host
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(str(socket_path))
        self._queues: Dict[Any, "queue.Queue[Dict[str, Any]]"] = {None: queue.Queue()}
        self._lock = threading.Lock()
        self._next_id = 0
        self._send({"host": host, "netns_pid": netns_pid})
        self._reader = threading.Thread(target=self._read, name=f"prober-{host}", daemon=True)
        self._reader.start()
        try:
            ready = self._queues[None].get(timeout=30)
        except queue.Empty:
            raise ProbeError(f"{host}: the prober did not start within 30 s") from None
        if ready["type"] != "ready":
            raise ProbeError(f"{host}: {ready.get('message')}")
        self.pid: int = ready["pid"]

    def _send(self, msg: Dict[str, Any]) -> None:
        with self._lock:
            self.sock.sendall(json.dumps(msg).encode() + b"\n")

    def _read(self) -> None:
        for line in self.sock.makefile("rb"):
            msg = json.loads(line)
            if "id" not in msg:  # the prober failed as a whole: tell every waiter
                for target in list(self._queues.values()):
                    target.put(msg)
                continue
            target = self._queues.get(msg["id"])
            if target is not None:
                target.put(msg)
        for target in list(self._queues.values()):
            target.put(_EOF)

    def start(self, op: str, **params: Any) -> Stream:
        """Send a request (see `prober` for its fields); iterate the Stream for results."""
        with self._lock:
            self._next_id += 1
            req_id = self._next_id
        self._queues[req_id] = queue.Queue()
        count = params.get("count", 1) * (len(params["dst"]) if isinstance(params.get("dst"), list) else 1)
        rate = params.get("rate") or 1000.0
        timeout = count / rate + params.get("timeout", 1.0) + 10
        self._send({"id": req_id, "op": op, **params})
        return Stream(self, req_id, timeout)

    def ping_many(self, dsts: List[str], kind: str = "icmp", count: int = 5,
                  rate: Optional[float] = 100, size: Optional[int] = None,
                  port: Optional[int] = None, timeout: float = 1.0) -> Dict[str, PingResult]:
        done = self.start("ping", dst=dsts, kind=kind, count=count, rate=rate, size=size,
                          port=port, timeout=timeout, quiet=True).done()
        return {d: PingResult(d, rtts) for d, rtts in done["rtt_ms"].items()}

    def ping(self, dst: str, **kwargs: Any) -> PingResult:
        return self.ping_many([dst], **kwargs)[dst]

    def trace(self, dst: str, kind: str = "icmp", max_ttl: int = 30, per_hop: int = 3,
              rate: float = 200, timeout: float = 1.0, port: Optional[int] = None) -> TraceResult:
        done = self.start("trace", dst=dst, kind=kind, max_ttl=max_ttl, per_hop=per_hop,
                          rate=rate, timeout=timeout, port=port, quiet=True).done()
        return TraceResult(dst, [Hop(h["ttl"], h["addr"], h["reply"], h["rtt_ms"])
                                 for h in done["hops"]], done["reached"])

    def close(self) -> None:
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


class ProbeFleet:
    """The zygote and the probers forked from it; `stop()` ends them all."""

    def __init__(self, work_dir: Path):
        self.socket_path = work_dir / "prober.sock"
        self.zygote = EventProcess("testbed.measure.prober", ["--socket", str(self.socket_path)],
                                   work_dir / "prober.log")
        self.zygote.name = "prober"
        self.probers: Dict[str, Prober] = {}

    @property
    def pid(self) -> int:
        return self.zygote.pid

    def prober(self, host: str, netns_pid: int) -> Prober:
        if host not in self.probers:
            self.zygote.wait_for(event_named("ready"), timeout=30)
            self.probers[host] = Prober(host, self.socket_path, netns_pid)
        return self.probers[host]

    def stop(self) -> None:
        for prober in self.probers.values():
            prober.close()
        self.probers.clear()
        self.zygote.stop()
