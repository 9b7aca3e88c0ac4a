"""Routers failing and recovering (`node_fail`, `node_recover`): every link of the router
goes down or up at once, as its neighbours would see a box that lost power."""
from __future__ import annotations

from typing import Any, Dict, Iterator, Literal, Tuple

from ...model.diagnostics import did_you_mean
from ..fields import NodeName
from .base import Action, ActionFamily, CheckContext, Draws, EventBase, Running, register


@register
class NodeState(ActionFamily):
    names = ("node_fail", "node_recover")
    marked = True

    class Event(EventBase):
        """Fail (node_fail) or recover (node_recover) a router."""
        action: Literal["node_fail", "node_recover"]
        node: NodeName

    def check(self, event: Any, ctx: CheckContext) -> Iterator[Tuple[str, str, str]]:
        if event.node not in ctx.net.routers:
            yield "node", f"no router '{event.node}' in {ctx.net.name}", \
                did_you_mean(event.node, ctx.net.routers) or "node_fail/node_recover take routers"

    def resolve(self, event: Any, draws: Draws) -> Tuple[str, Dict[str, Any]]:
        return event.node, {}

    def apply(self, action: Action, trial: Running) -> Dict[str, Any]:
        trial.underlay.set_router(action.target, action.action == "node_recover")
        return {}
