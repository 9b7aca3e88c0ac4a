"""The Linux data plane's controller: `python -m testbed.control.kernel_app TOPOLOGY
[--convergence-delay-ms MS]`, then one line on stdin: {router: PID of a process in its
network namespace} (the harness starts it first, so that the route tables are computed
while it makes the namespaces).

The twin of the OpenFlow app (`router_app`), with the same pure logic and the same events
(JSON lines on stdout: `routes_installed`, `link_down`/`link_up`, `igp_updated`,
`bgp_converged`, `policy_changed`, `policy_applied`), so the harness cannot tell the planes
apart except by their speed. Instead of flows it installs kernel routes (`kernelplan`)
over rtnetlink (`netlink`); instead of OpenFlow port-status messages it watches each
namespace's interfaces over rtnetlink too (two sockets per router, opened inside its
namespace) and feeds the changes to `RoutingState`: the IGP part is reinstalled at once,
the AS-level part `convergence_delay` later, like BGP.

A router's interface going down makes the kernel drop every route through it; the
controller forgets those (they are gone) and the diff puts back what is still wanted.
SIGUSR1: the harness rewrote the topology file with a new policy, applied one
convergence delay later. SIGTERM exits.
"""
from __future__ import annotations

import argparse
import heapq
import json
import select
import signal
import socket
import sys
import time
from typing import Any, Callable, Dict, List, Tuple

from ..model import load_topology
from ..model.network import Network
from . import kernelplan
from .netlink import RtNetlink, link_changes, namespace_of, watch_links, write_sysctl
from .events import emit
from .state import RoutingState

class KernelRouters:
    def __init__(self, topology: str, delay_ms: "float | None"):
        self.topology = topology
        net = load_topology(topology)
        if delay_ms is not None:
            net.convergence_delay_ms = delay_ms
        self.state = RoutingState(net)
        self.pids: Dict[str, int] = {}
        self.installed: Dict[str, Dict[str, kernelplan.KernelRoute]] = {r: {} for r in net.routers}
        self.nl: Dict[str, RtNetlink] = {}
        self.index: Dict[str, Dict[str, int]] = {}  # router -> interface -> ifindex
        self.timers: List[Tuple[float, int, Callable[[], None]]] = []
        self.seq = 0
        self.reload_requested = False

    @property
    def net(self) -> Network:
        return self.state.net

    # --- installing ----------------------------------------------------------------------
    def _open(self, router: str) -> socket.socket:
        """In the router's namespace: its sysctls, a request socket, the interfaces'
        indexes, and a socket for its link changes (returned)."""
        plan = kernelplan.setup(self.net, router)
        with namespace_of(self.pids[router]):
            for key, value in plan.sysctls.items():
                write_sysctl(key, value)
            self.nl[router] = RtNetlink()
            self.index[router] = {name: socket.if_nametoindex(name)
                                  for name, _, _, _ in plan.interfaces}
            watch = watch_links()
        nl, index = self.nl[router], self.index[router]
        nl.link_up(1, None)  # lo
        for name, mac, ip, length in plan.interfaces:
            nl.link_up(index[name], mac)
            nl.address(index[name], ip, length)
        self._report(router, nl.commit())
        return watch

    def _report(self, router: str, errors: List[Tuple[str, str]]) -> None:
        for what, message in errors[:3]:
            print(f"{router}: {what}: {message}", file=sys.stderr, flush=True)

    def _wanted(self, router: str) -> Dict[str, kernelplan.KernelRoute]:
        down = {port for (r, port) in self.state.down_ports if r == router}
        return kernelplan.routes(self.net, self.state.tables()[router], down)

    def _install(self, router: str) -> int:
        """Bring the router's kernel routes to what is wanted; returns how many changed."""
        want = self._wanted(router)
        gone, changed = kernelplan.diff(self.installed[router], want)
        nl, index = self.nl[router], self.index[router]
        for prefix in gone:
            nl.route(prefix, delete=True)
        for route in changed:
            nl.route(route.prefix, None if route.dev is None else index[route.dev], route.via)
        # a route gone already (the kernel dropped it with its interface) is no error
        self._report(router, [e for e in nl.commit() if not e[0].startswith("delete")])
        self.installed[router] = want
        return len(gone) + len(changed)

    def start(self) -> None:
        started = time.time()
        routes = 0
        for router in sorted(self.net.routers):
            routes += self._install(router)
        emit("routes_installed", switches=len(self.net.routers), flows=routes,
             seconds=round(time.time() - started, 3))

    def reinstall(self, event: str, **fields: Any) -> None:
        changed = sum(self._install(router) for router in sorted(self.net.routers))
        emit(event, flows_changed=changed, down=sorted(self.state.down),
             bgp_down=sorted(self.state.bgp_down), **fields)

    # --- events --------------------------------------------------------------------------
    def port_changed(self, router: str, name: str, down: bool) -> None:
        port = kernelplan.port_of(name)
        if port is None:
            return
        if down:  # the kernel has dropped every route through it
            self.installed[router] = {p: r for p, r in self.installed[router].items()
                                      if r.dev != name}
        change = self.state.port_changed(router, port, down)
        if change is None:  # the link's state is as it was (its other end went first)
            if down:
                self._install(router)  # what the kernel dropped with the interface
            return
        link, is_down = change
        spec = self.net.links[link]
        emit("link_down" if is_down else "link_up", link=link, a=spec.a, b=spec.b, kind=spec.kind)
        self.reinstall("igp_updated", link=link)
        seen = self.state.down
        self.after(self.net.convergence_delay_ms / 1000.0, lambda: self._bgp(seen, link))

    def _bgp(self, seen: Any, link: int) -> None:
        if self.state.bgp_converge(seen):
            self.reinstall("bgp_converged", link=link,
                           delay_s=self.net.convergence_delay_ms / 1000.0)

    def _apply_policy(self) -> None:
        net = load_topology(self.topology)
        net.convergence_delay_ms = self.net.convergence_delay_ms
        old = self.state
        self.state = RoutingState(net, old.down, old.bgp_down)
        self.state.down_ports = old.down_ports
        self.reinstall("policy_applied")

    def after(self, seconds: float, action: Callable[[], None]) -> None:
        self.seq += 1
        heapq.heappush(self.timers, (time.monotonic() + seconds, self.seq, action))

    def run(self, pids: Dict[str, int]) -> None:
        self.pids = pids
        by_fd: Dict[int, Tuple[socket.socket, str]] = {}
        for router in sorted(self.pids):
            sock = self._open(router)  # watching before the routes: no change slips by
            by_fd[sock.fileno()] = (sock, router)
        # the interfaces coming up just now are no failures: every link starts up
        for sock, _ in by_fd.values():
            _drain(sock)
        self.start()
        while True:
            if self.reload_requested:
                self.reload_requested = False
                delay = self.net.convergence_delay_ms / 1000.0
                emit("policy_changed", delay_s=delay)
                self.after(delay, self._apply_policy)
            wait = max(0.0, self.timers[0][0] - time.monotonic()) if self.timers else 1.0
            try:
                ready, _, _ = select.select(list(by_fd), [], [], min(wait, 0.05))
            except InterruptedError:
                continue
            for fd in ready:
                sock, router = by_fd[fd]
                while True:
                    try:
                        data = sock.recv(1 << 16)
                    except BlockingIOError:
                        break
                    for name, down in link_changes(data):
                        self.port_changed(router, name, down)
            while self.timers and self.timers[0][0] <= time.monotonic():
                heapq.heappop(self.timers)[2]()


def _drain(sock: socket.socket) -> None:
    while True:
        try:
            sock.recv(1 << 16)
        except BlockingIOError:
            return


def main() -> None:
    parser = argparse.ArgumentParser(description="testbed Linux-router controller")
    parser.add_argument("topology")
    parser.add_argument("--convergence-delay-ms", type=float)
    args = parser.parse_args()
    app = KernelRouters(args.topology, args.convergence_delay_ms)
    app.state.tables()  # computed now, while the harness makes the namespaces

    def reload(*_: Any) -> None:
        app.reload_requested = True
    signal.signal(signal.SIGUSR1, reload)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    line = sys.stdin.readline()
    if not line:  # the harness is gone before it made the namespaces
        sys.exit("no routers on stdin")
    pids = json.loads(line)
    emit("controller_started", framework="linux", routers=len(pids))
    app.run(pids)


if __name__ == "__main__":
    main()
