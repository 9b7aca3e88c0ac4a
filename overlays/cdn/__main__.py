"""The CDN agent: one process per member, running the roles the params give its host.

    python -m overlays.cdn --config CONFIG.json   (the contract: overlays/README.md)

Roles (overlays/cdn/__init__.py has every knob and its default):
- origin (`params.origin`): the catalog over HTTP (origin.py);
- router (`params.router`): DNS for `zone` and the 302 redirector (router.py);
- edge (`params.edges`): the Python caching proxy (edge.py) or nginx (nginx.py), probing
  members and reporting to the router;
- client (`params.clients`, default the other members): the request workload (client.py).
Every member answers probes on the control port. All roles of a host share one asyncio
loop; SIGTERM ends it, servers and sessions close, nginx is stopped.
"""
from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any, Dict, List, Optional

from . import CdnParams
from ..agent import AsyncAgent
from .net import Control

if TYPE_CHECKING:  # the roles' modules are imported when a host runs them
    from .router import Choose


class CdnAgent(AsyncAgent):
    """`choose`: the request router's own policy in place of `routing.policy`'s
    (overlays/cdnlab gives the lab's)."""
    def __init__(self, config: Dict[str, Any], choose: Optional[Choose] = None):
        super().__init__(config)
        self.choose = choose
        self.params = CdnParams.model_validate(config["params"])

    async def main(self) -> None:
        from .client import Clients
        from .edge import EdgeDuties, PythonEdge
        from .nginx import NginxEdge
        from .origin import Origin
        from .router import RequestRouter
        p, me, cfg = self.params, self.me, self.config
        names = [m["name"] for m in self.members]
        roles = p.roles(me["name"], names)
        control = await Control().open(me["ip"], p.ports.control)
        parts: List[Any] = []
        if "origin" in roles:
            parts.append(Origin(p, me["ip"], self.report))
        if "router" in roles:
            hops = {int(a): {int(b): n for b, n in row.items()}
                    for a, row in cfg.get("as_hops", {}).items()}
            parts.append(RequestRouter(p, me, self.members, control, hops, cfg["seed"],
                                       self.report, self.choose))
        duties = None
        if "edge" in roles:
            duties = EdgeDuties(p, me, self.members, control)
            if p.edge == "nginx":
                folder = Path(cfg["output"]).with_suffix(".nginx")
                parts.append(NginxEdge(p, me, self.members, folder, duties.arrived,
                                       self.report))
            else:
                parts.append(PythonEdge(p, me, self.members, control, duties, self.report))
        if "client" in roles:
            parts.append(Clients(p, me, self.members, cfg["seed"], cfg["t0"], self.report))
        started: List[Any] = []
        try:
            for part in parts:
                await part.start()
                started.append(part)
            if duties is not None:
                duties.start()
            self.report({"event": "started", "roles": roles})
            await self.until_stopped()
        finally:
            if duties is not None:
                duties.stop()
            # clients first; servers a moment later, so that other members' clients,
            # stopped at the same time, do not see them vanish under their last requests
            clients = [part for part in started if isinstance(part, Clients)]
            servers = [part for part in reversed(started) if part not in clients]
            for group in (clients, servers):
                if group is servers and servers:
                    await asyncio.sleep(0.3)
                for part in group:
                    try:
                        await asyncio.wait_for(part.stop(), 1.0)
                    except asyncio.TimeoutError:
                        pass
            control.close()


if __name__ == "__main__":
    from overlays.agent import main
    main(CdnAgent, "CDN agent (origin, request router, edge, client)")
