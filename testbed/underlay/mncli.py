"""The Mininet CLI, knowing our node names and a few testbed commands.

Node names carry a dot (`as100.h1 ping as200.h1`); Python's `cmd` stops a command word at
the first character outside `identchars`, so we add '.' and '-' to them.
"""
from __future__ import annotations

from typing import Any, Dict

from mininet.cli import CLI

from ..control.routes import Table
from ..model.network import Network
from . import report
from .reachability import ReachabilityError, host_matrix


class TestbedCLI(CLI):
    identchars = CLI.identchars + ".-"

    def __init__(self, mn: Any, net: Network, tables: Dict[str, Table], **kwargs: Any):
        self.net = net
        self.tables = tables
        super().__init__(mn, **kwargs)

    def do_reach(self, _line: str) -> None:
        "Measure all-pairs host reachability and print it per AS pair."
        try:
            report.print_reachability(self.net, host_matrix(self.net, self.mn))
        except ReachabilityError as exc:
            report.err_console.print(f"error: {exc}")

    def do_lg(self, line: str) -> None:
        "lg [ASN]: looking glass (routes, AS paths, why chosen) of one AS or all."
        from ..control.lookingglass import table
        from ..control.policy import ASGraph, compute
        routes = compute(ASGraph.from_network(self.net))
        wanted = [int(line)] if line.strip().isdigit() else sorted(self.net.ases)
        for asn in wanted:
            if asn not in self.net.ases:
                report.err_console.print(f"no AS {asn}")
                continue
            report.print_looking_glass(asn, table(self.net, routes, asn))

    def do_routes(self, line: str) -> None:
        "routes ROUTER: the router's forwarding table (prefix, port, next hop)."
        report.print_routes(self.tables, line.strip())
