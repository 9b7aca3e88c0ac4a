"""The Mininet CLI, knowing our node names and a few testbed commands.

Node names carry a dot (`as100.h1 ping as200.h1`); Python's `cmd` stops a command word at
the first character outside `identchars`, so we add '.' and '-' to them.
"""
from __future__ import annotations

from typing import Any, Optional, Tuple

from mininet.cli import CLI

from ..measure.matrix import rtt_matrix, write_csv
from ..measure.packets import KINDS
from ..measure.pathmap import compare
from ..measure.probes import ProbeError
from ..model.network import Network
from ..underlay.reachability import host_matrix
from . import Output, tables


class TestbedCLI(CLI):
    identchars = CLI.identchars + ".-"

    def __init__(self, underlay: Any, ui: Output, **kwargs: Any):
        """`underlay` is the emulation.Underlay: this shell is Mininet's own CLI, so it
        needs the Mininet network (`mn`) beside the underlay interface."""
        self.underlay, self.ui = underlay, ui
        self.net: Network = underlay.net
        super().__init__(underlay.mn, **kwargs)

    def do_reach(self, _line: str) -> None:
        "Measure all-pairs host reachability and print it per AS pair."
        try:
            tables.print_reachability(self.ui.out, self.net, host_matrix(self.underlay))
        except ProbeError as exc:
            self.ui.err.print(f"error: {exc}")

    def _pair(self, line: str, usage: str) -> Optional[Tuple[str, str, str]]:
        parts = line.split()
        kind = parts[2] if len(parts) > 2 else "icmp"
        if len(parts) not in (2, 3) or kind not in KINDS or \
                any(p not in self.net.hosts for p in parts[:2]):
            self.ui.err.print(f"usage: {usage}  (hosts like as100.h1; kind icmp, udp "
                                     "or tcp)")
            return None
        return parts[0], parts[1], kind

    def do_rtt(self, line: str) -> None:
        "rtt A B [icmp|udp|tcp]: 10 probes from host A to host B; RTT statistics."
        pair = self._pair(line, "rtt A B [kind]")
        if pair is None:
            return
        src, dst, kind = pair
        try:
            result = self.underlay.prober(src).ping(self.net.hosts[dst].ip, kind=kind,
                                                    count=10, rate=20)
        except ProbeError as exc:
            self.ui.err.print(f"error: {exc}")
            return
        tables.print_ping_summary(self.ui.out, src, dst, kind, result)

    def do_path(self, line: str) -> None:
        """path A B [icmp|udp|tcp]: traceroute from host A to host B, next to the path the
        controller's tables expect, with routers, ASes and per-hop RTTs."""
        pair = self._pair(line, "path A B [kind]")
        if pair is None:
            return
        src, dst, kind = pair
        try:
            trace = self.underlay.prober(src).trace(self.net.hosts[dst].ip, kind=kind)
        except ProbeError as exc:
            self.ui.err.print(f"error: {exc}")
            return
        tables.print_path(self.ui.out, compare(self.net, self.underlay.routing_state().tables(), src, dst,
                                  trace.hops, trace.reached))

    def do_top(self, line: str) -> None:
        """top [SECONDS]: live per-link throughput and drops (busiest first), links down,
        AS pairs without a route, and the CPU of the link emulator and Open vSwitch,
        refreshed every second for SECONDS (default 30; Ctrl-C ends it)."""
        from .live import watch
        try:
            seconds = float(line.split()[0]) if line.split() else 30.0
        except ValueError:
            self.ui.err.print("usage: top [SECONDS]")
            return
        watch(self.ui.out, self.underlay, seconds)

    def do_matrix(self, line: str) -> None:
        "matrix [FILE.csv]: all-pairs RTT and reachability; optionally written as CSV."
        try:
            matrix = rtt_matrix(self.underlay)
            if line.strip():
                with open(line.strip(), "w", newline="") as out:
                    write_csv(self.net, matrix, out)
                self.ui.out.print(f"{len(matrix)} host pairs written to {line.strip()}")
        except (ProbeError, OSError) as exc:
            self.ui.err.print(f"error: {exc}")
            return
        tables.print_rtt_matrix(self.ui.out, self.net, matrix)

    def do_lg(self, line: str) -> None:
        "lg [ASN]: looking glass (routes, AS paths, why chosen) of one AS or all, now."
        from ..control.lookingglass import table
        routes = self.underlay.routing_state().as_routes()
        wanted = [int(line)] if line.strip().isdigit() else sorted(self.net.ases)
        for asn in wanted:
            if asn not in self.net.ases:
                self.ui.err.print(f"no AS {asn}")
                continue
            tables.print_looking_glass(self.ui.out, asn, table(self.net, routes, asn))

    def do_linkset(self, line: str) -> None:
        """linkset A B [delay=10ms] [jitter=1ms] [loss=1%] [bw=10Mbit]: change the links
        between nodes A and B while the network runs (0 removes a property)."""
        from ..model import units
        parts = line.split()
        parse = {"delay": ("delay_ms", units.parse_ms), "jitter": ("jitter_ms", units.parse_ms),
                 "loss": ("loss_pct", units.parse_percent),
                 "bw": ("bandwidth_mbit", lambda v: units.parse_mbit(v) if v not in ("0", 0) else None)}
        try:
            if len(parts) < 3:
                raise ValueError("give two nodes and at least one key=value")
            changes = {}
            for item in parts[2:]:
                key, _, value = item.partition("=")
                if key not in parse:
                    raise ValueError(f"unknown property '{key}' (delay, jitter, loss, bw)")
                field, convert = parse[key]
                changes[field] = convert(value)
            props = self.underlay.set_link_params(parts[0], parts[1], **changes)
        except (ValueError, RuntimeError) as exc:
            self.ui.err.print(f"linkset: {exc}")
            return
        self.ui.out.print(f"{parts[0]} <-> {parts[1]}: {props}", highlight=False)

    def do_router(self, line: str) -> None:
        "router NAME up|down: fail or recover a router (all its links); see also 'link'."
        parts = line.split()
        if len(parts) != 2 or parts[1] not in ("up", "down") or parts[0] not in self.net.routers:
            self.ui.err.print("usage: router NAME up|down (NAME like as100.r1)")
            return
        self.underlay.set_router(parts[0], parts[1] == "up")

    def do_routes(self, line: str) -> None:
        "routes ROUTER: the router's forwarding table now (prefix, port, next hop)."
        tables.print_routes(self.ui.out, self.underlay.routing_state().tables(), line.strip())
