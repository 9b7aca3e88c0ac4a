"""A routing policy change (`policy`): AS `asn` gets a new `policy` mapping (the
topology's format), applied by the controller one convergence delay later, like a BGP
update."""
from __future__ import annotations

from typing import Any, Dict, Iterator, Literal, Tuple

from ...model import InvalidInput, parse_topology
from ...model.loader import replace_policy
from ...model.schema import Int, Policy
from .base import Action, ActionFamily, CheckContext, Draws, EventBase, Running, register


@register
class PolicyChange(ActionFamily):
    names = ("policy",)
    marked = True

    class Event(EventBase):
        """Replace an AS's routing policy while the network runs."""
        action: Literal["policy"]
        asn: Int
        policy: Policy

    def check(self, event: Any, ctx: CheckContext) -> Iterator[Tuple[str, str, str]]:
        if event.asn not in ctx.net.ases:
            yield "asn", f"no AS {event.asn} in {ctx.net.name}", ""
            return
        try:
            parse_topology(replace_policy(ctx.topology_text, event.asn, _dump(event.policy)))
        except InvalidInput as exc:
            for d in exc.diagnostics:
                yield "policy", d.message, d.hint

    def resolve(self, event: Any, draws: Draws) -> Tuple[str, Dict[str, Any]]:
        return f"as{event.asn}", {"asn": event.asn, "policy": _dump(event.policy)}

    def apply(self, action: Action, trial: Running) -> Dict[str, Any]:
        trial.underlay.set_policy(action.params["asn"], action.params["policy"])
        return {}


def _dump(policy: Policy) -> Dict[str, Any]:
    return policy.model_dump(exclude_defaults=True)
