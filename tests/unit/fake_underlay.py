"""An UnderlayAPI without root or Mininet, for unit tests of the layers above it.

It keeps the calls made to it (`calls`), answers probes with a fixed RTT unless the pair's
path crosses a link that is down (then they are lost), and `spawn`s real processes on this
machine (no namespace), so overlay deployments start and stop real agents."""
from __future__ import annotations

import dataclasses
import subprocess
import threading
import time
from typing import IO, Any, Dict, List, Optional, Sequence, Tuple

from testbed.control.routes import forward_path
from testbed.control.state import RoutingState
from testbed.measure.counters import Count
from testbed.model.network import LinkProps, Network


class FakeStream:
    def __init__(self, prober: "FakeProber", dst: List[str], count: int, rate: float, **_: Any):
        self.prober, self.dst, self.count, self.rate = prober, dst[0], count, rate
        self.cancelled = threading.Event()

    def __iter__(self):
        for seq in range(1, self.count + 1):
            if self.cancelled.wait(1.0 / self.rate):
                break
            rtt = self.prober.underlay.rtt(self.prober.host, self.dst)
            yield {"type": "probe", "seq": seq, "sent_ns": time.time_ns(), "rtt_ms": rtt,
                   "reply": "echo-reply" if rtt is not None else None,
                   "from": self.dst if rtt is not None else None}
        yield {"type": "done"}

    def cancel(self) -> None:
        self.cancelled.set()


class FakeProber:
    def __init__(self, underlay: "FakeUnderlay", host: str):
        self.underlay, self.host = underlay, host

    def start(self, op: str, **kwargs: Any) -> FakeStream:
        return FakeStream(self, **kwargs)


class FakeUnderlay:
    RTT_MS = 10.0

    def __init__(self, net: Network):
        self.base_net = net
        self.link_backend, self.datapath = "fake", "fake"
        self.dataplane, self.dataplane_reason = "fake", "a unit test"
        self.timings: Dict[str, float] = {}
        self.link_props: Dict[int, LinkProps] = {l.index: l.props for l in net.links}
        self.down: set = set()
        self.calls: List[tuple] = []
        self.procs: List[subprocess.Popen] = []
        self.events: List[Dict[str, Any]] = []
        self.started = self.stopped = False

    @property
    def net(self) -> Network:
        return self.base_net

    def preflight(self) -> None:
        pass

    def start(self) -> None:
        self.started = True
        self.timings["routes_installed"] = 0.01
        self.events.append({"t": time.time(), "event": "routes_installed"})

    def stop(self) -> None:
        self.stopped = True
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        self.timings["teardown"] = 0.0

    def spawn(self, host: str, argv: Sequence[str], *, stdout: IO[Any], stderr: IO[Any],
              env: Dict[str, str], cwd: str) -> subprocess.Popen:
        self.calls.append(("spawn", host, tuple(argv)))
        proc = subprocess.Popen(list(argv), stdout=stdout, stderr=stderr, env=env, cwd=cwd,
                                start_new_session=True)
        self.procs.append(proc)
        return proc

    def run(self, host: str, command: str) -> str:
        self.calls.append(("run", host, command))
        return ""

    def prober(self, host: str) -> FakeProber:
        return FakeProber(self, host)

    def rtt(self, src: str, dst_ip: str) -> Optional[float]:
        path, delivered = forward_path(self.net, self.routing_state().tables(), src, dst_ip)
        crossed = {frozenset(p) for p in zip(path, path[1:])}
        return None if not delivered or crossed & self.down else self.RTT_MS

    def set_link(self, a: str, b: str, up: bool) -> None:
        self.calls.append(("set_link", a, b, up))
        (self.down.discard if up else self.down.add)(frozenset((a, b)))

    def set_link_params(self, a: str, b: str, **changes: Optional[float]) -> LinkProps:
        self.calls.append(("set_link_params", a, b, changes))
        link = next(l for l in self.net.links if {l.a, l.b} == {a, b})
        self.link_props[link.index] = dataclasses.replace(self.link_props[link.index], **changes)
        return self.link_props[link.index]

    def set_router(self, name: str, up: bool) -> None:
        self.calls.append(("set_router", name, up))

    def set_policy(self, asn: int, policy: Dict[str, Any]) -> None:
        self.calls.append(("set_policy", asn, policy))

    def set_classes(self, classes: Dict[str, Sequence[int]]) -> None:
        self.calls.append(("set_classes", {c: sorted(p) for c, p in classes.items()}))
        self.classes = dict(classes)

    def police(self, a: str, b: str, cls: str, rate_mbit: Optional[float]) -> None:
        self.calls.append(("police", a, b, cls, rate_mbit))

    def routing_state(self) -> RoutingState:
        return RoutingState(self.net)

    def controller_events(self) -> List[Dict[str, Any]]:
        return list(self.events)

    def link_counters(self) -> Dict[int, Any]:
        """Every inter-AS link carried 1 MB a -> b and 0.5 MB back per call so far."""
        self.counter_calls = getattr(self, "counter_calls", 0) + 1
        n = self.counter_calls
        return {link.index: Count(500_000 * n, 500 * n, 1_000_000 * n, 1000 * n, 0)
                for link in self.net.links if link.kind == "inter"}

    def class_counters(self) -> Dict[int, Dict[str, Any]]:
        """A quarter of each inter-AS link's bytes a -> b is the first class's (if any)."""
        n = getattr(self, "counter_calls", 0)
        classes = sorted(getattr(self, "classes", {}))
        if not classes:
            return {}
        return {link.index: {classes[0]: [250_000 * n, 0]}
                for link in self.net.links if link.kind == "inter"}

    def emulator_seconds(self) -> Optional[List[Tuple[float, float]]]:
        return None

    def dataplane_window(self) -> Optional[Dict[str, Any]]:
        """Link 0 forwarded 100 frames on time since the last call, or, from the call
        numbered `late_from` on (the first, at T=0, is 0), 40 of them over 1 ms late: a
        planted stall."""
        self.window_calls = getattr(self, "window_calls", -1) + 1
        late = self.window_calls >= getattr(self, "late_from", 10 ** 9)
        link = {"frames": 100, "drops": 0, "late": 40 if late else 0, "p50_ms": 0.02,
                "p99_ms": 6.5 if late else 0.08, "max_ms": 7.0 if late else 0.1}
        return {"links": {"0": link}, "processes": [(0.1 * self.window_calls,
                                                     0.1 * self.window_calls)]}
