"""Ping workloads: one probe stream per host pair on the probing host's prober; a thread per
stream writes every probe to the run directory as it is answered or times out.

Record: {"trial", "pair": "a>b", "seq", "t": seconds after T=0 when sent, "rtt_ms" (None
when lost), "reply", "from"} — what `derive.ping_metrics` and the plots read.
"""
from __future__ import annotations

import math
import threading
from typing import Any, Callable, Dict, List, Optional, Tuple

from ..measure.probes import ProbeError, Stream
from ..model.network import Network
from .schema import Workload

Write = Callable[[Dict[str, Any]], None]


class PingWorkload:
    def __init__(self, workload: Workload, pairs: List[Tuple[str, str]], net: Network,
                 trial: int, t0_ns: int, length_s: float, write: Write):
        self.w, self.pairs, self.net = workload, pairs, net
        self.trial, self.t0_ns, self.length_s, self.write = trial, t0_ns, length_s, write
        self.streams: List[Stream] = []
        self.threads: List[threading.Thread] = []
        self.errors: List[str] = []
        self.stopped = False

    @property
    def running(self) -> bool:
        return not self.stopped and any(t.is_alive() for t in self.threads)

    def start(self, prober_of: Callable[[str], Any], length_s: Optional[float] = None) -> None:
        count = max(1, math.ceil(self.w.rate * (length_s or self.length_s)))
        for src, dst in self.pairs:
            stream = prober_of(src).start(
                "ping", dst=[self.net.hosts[dst].ip], kind=self.w.kind, count=count,
                rate=self.w.rate, size=self.w.size, timeout=self.w.timeout)
            thread = threading.Thread(target=self._drain, args=(stream, f"{src}>{dst}"),
                                      name=f"workload-{self.w.name}", daemon=True)
            self.streams.append(stream)
            self.threads.append(thread)
            thread.start()

    def _drain(self, stream: Stream, pair: str) -> None:
        try:
            for msg in stream:
                if msg["type"] == "probe":
                    self.write({"trial": self.trial, "pair": pair, "seq": msg["seq"],
                                "t": round((msg["sent_ns"] - self.t0_ns) / 1e9, 6),
                                "rtt_ms": msg["rtt_ms"], "reply": msg["reply"],
                                "from": msg["from"]})
        except ProbeError as exc:
            self.errors.append(str(exc))

    def stop(self) -> None:
        """Stop sending, at once; probes in flight still get their answer or time out
        (their records follow; `join` waits for them)."""
        self.stopped = True
        for stream in self.streams:
            try:
                stream.cancel()
            except OSError:
                pass

    def join(self, wait_s: float) -> None:
        for thread in self.threads:
            thread.join(wait_s)
