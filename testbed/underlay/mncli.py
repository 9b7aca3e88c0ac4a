"""The Mininet CLI, knowing our node names and a few testbed commands.

Node names carry a dot (`as100.h1 ping as200.h1`); Python's `cmd` stops a command word at
the first character outside `identchars`, so we add '.' and '-' to them.
"""
from __future__ import annotations

from typing import Any

from mininet.cli import CLI

from ..model.network import Network
from . import report
from .reachability import ReachabilityError, host_matrix


class TestbedCLI(CLI):
    identchars = CLI.identchars + ".-"

    def __init__(self, underlay: Any, **kwargs: Any):
        self.underlay = underlay
        self.net: Network = underlay.net
        super().__init__(underlay.mn, **kwargs)

    def do_reach(self, _line: str) -> None:
        "Measure all-pairs host reachability and print it per AS pair."
        try:
            report.print_reachability(self.net, host_matrix(self.net, self.mn))
        except ReachabilityError as exc:
            report.err_console.print(f"error: {exc}")

    def do_lg(self, line: str) -> None:
        "lg [ASN]: looking glass (routes, AS paths, why chosen) of one AS or all, now."
        from ..control.lookingglass import table
        routes = self.underlay.routing_state().as_routes()
        wanted = [int(line)] if line.strip().isdigit() else sorted(self.net.ases)
        for asn in wanted:
            if asn not in self.net.ases:
                report.err_console.print(f"no AS {asn}")
                continue
            report.print_looking_glass(asn, table(self.net, routes, asn))

    def do_router(self, line: str) -> None:
        "router NAME up|down: fail or recover a router (all its links); see also 'link'."
        parts = line.split()
        if len(parts) != 2 or parts[1] not in ("up", "down") or parts[0] not in self.net.routers:
            report.err_console.print("usage: router NAME up|down (NAME like as100.r1)")
            return
        self.underlay.set_router(parts[0], parts[1] == "up")

    def do_routes(self, line: str) -> None:
        "routes ROUTER: the router's forwarding table now (prefix, port, next hop)."
        report.print_routes(self.underlay.routing_state().tables(), line.strip())
