"""Routing state across failures: what is down now, and what BGP has noticed so far.

The IGP (and shortest mode) reroutes as soon as a link goes down or comes back. BGP, i.e.
the choice between ASes, sees a change only when `bgp_converge()` is called, which the
controller does `convergence_delay` after the change; until then the AS-level routes of
the old state stay, and traffic whose exit vanished is black-holed. Pure: the controller
drives it with port-status events and timers, tests drive it directly.
"""
from __future__ import annotations

from typing import Any, Dict, FrozenSet, Optional, Set, Tuple

from ..model.network import Network
from . import policy
from .plan import controller_plan
from .routes import Table, forwarding_tables


class RoutingState:
    def __init__(self, net: Network, down: FrozenSet[int] = frozenset(),
                 bgp_down: FrozenSet[int] = frozenset()):
        self.net = net
        self.down_ports: Set[Tuple[str, int]] = set()
        self.down = frozenset(down)
        self.bgp_down = frozenset(bgp_down)
        self._tables: Optional[Dict[str, Table]] = None

    def link_of(self, router: str, port: int) -> Optional[int]:
        iface = self.net.interfaces.get((router, port))
        return iface.link if iface else None

    def port_changed(self, router: str, port: int, is_down: bool) -> Optional[Tuple[int, bool]]:
        """Record a port's state; returns (link, now down) when a link changed state.

        A link is down while either of its ports is down."""
        link = self.link_of(router, port)
        if link is None:
            return None
        (self.down_ports.add if is_down else self.down_ports.discard)((router, port))
        spec = self.net.links[link]
        ends = [(spec.b, spec.b_port)] if spec.kind == "access" else \
            [(spec.a, spec.a_port), (spec.b, spec.b_port)]
        link_down = any(end in self.down_ports for end in ends)
        if link_down == (link in self.down):
            return None
        self.down = self.down | {link} if link_down else self.down - {link}
        self._tables = None
        return link, link_down

    @property
    def bgp_pending(self) -> bool:
        return self.bgp_down != self.down

    def bgp_converge(self, seen: Optional[FrozenSet[int]] = None) -> bool:
        """BGP takes in the link state `seen` (default: now); returns whether it changed.

        The controller passes the state as it was when a change happened, so every change
        takes exactly the convergence delay, however many follow it."""
        seen = self.down if seen is None else seen
        if seen == self.bgp_down:
            return False
        self.bgp_down = seen
        self._tables = None
        return True

    def tables(self) -> Dict[str, Table]:
        if self._tables is None:
            self._tables = forwarding_tables(self.net, self.down, self.bgp_down)
        return self._tables

    def as_routes(self) -> "policy.ASRoutes":
        """BGP's current AS-level choice (what the looking glass shows)."""
        return policy.compute(policy.ASGraph.from_network(self.net, self.bgp_down))

    def plan(self) -> Dict[str, Any]:
        return controller_plan(self.net, self.tables())
