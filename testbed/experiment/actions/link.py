"""Links between two nodes: cut and repair (`link_down`, `link_up`), and change their
properties while the network runs (`set_link`). `link` names the two nodes at its ends,
or is `random-inter-as`: one inter-AS link per trial, drawn by the seed."""
from __future__ import annotations

from typing import Any, Dict, Iterator, List, Literal, Optional, Tuple, Union

from pydantic import Field, model_validator

from ...model.diagnostics import did_you_mean
from ...model.schema import Mbits, Milliseconds, Percent
from ..fields import NodeName
from .base import Action, ActionFamily, CheckContext, Draws, EventBase, Running, register

LinkRef = Union[Literal["random-inter-as"], List[NodeName]]
LINK_DOC = "[a, b] (the nodes at its ends) or random-inter-as (by the seed)"


def check_link(link: Any, ctx: CheckContext) -> Iterator[Tuple[str, str, str]]:
    if not isinstance(link, list):
        return
    nodes = set(ctx.net.hosts) | set(ctx.net.routers)
    unknown = [n for n in link if n not in nodes]
    for n in unknown:
        yield "link", f"no node '{n}' in {ctx.net.name}", did_you_mean(n, nodes)
    if not unknown and frozenset(link) not in ctx.adjacent:
        yield "link", f"no link between {link[0]} and {link[1]}", "name two adjacent nodes"


def resolve_link(link: Any, draws: Draws) -> Tuple[str, Dict[str, Any]]:
    a, b = draws.inter_as_link() if link == "random-inter-as" else link
    return f"{a}-{b}", {"link": [a, b]}


def _two_ends(link: Any) -> None:
    if isinstance(link, list) and len(link) != 2:
        raise ValueError("'link' names the two nodes at its ends: [a, b]")


@register
class LinkState(ActionFamily):
    names = ("link_down", "link_up")
    marked = True

    class Event(EventBase):
        """Cut (link_down) or repair (link_up) every link between two nodes."""
        action: Literal["link_down", "link_up"]
        link: LinkRef = Field(description=LINK_DOC)

        @model_validator(mode="after")
        def _ends(self) -> "LinkState.Event":
            _two_ends(self.link)
            return self

    def check(self, event: Any, ctx: CheckContext) -> Iterator[Tuple[str, str, str]]:
        return check_link(event.link, ctx)

    def resolve(self, event: Any, draws: Draws) -> Tuple[str, Dict[str, Any]]:
        return resolve_link(event.link, draws)

    def apply(self, action: Action, trial: Running) -> Dict[str, Any]:
        a, b = action.params["link"]
        trial.underlay.set_link(a, b, action.action == "link_up")
        return {}


PROPS = {"delay": "delay_ms", "jitter": "jitter_ms", "loss": "loss_pct",
         "bandwidth": "bandwidth_mbit"}


@register
class SetLink(ActionFamily):
    names = ("set_link",)
    marked = True

    class Event(EventBase):
        """Change a link's delay, jitter, loss or bandwidth (0 removes the rate limit)."""
        action: Literal["set_link"]
        link: LinkRef = Field(description=LINK_DOC)
        delay: Optional[Milliseconds] = None
        jitter: Optional[Milliseconds] = None
        loss: Optional[Percent] = None
        bandwidth: Optional[Union[Mbits, Literal[0]]] = None

        @model_validator(mode="after")
        def _something(self) -> "SetLink.Event":
            _two_ends(self.link)
            if all(getattr(self, k) is None for k in PROPS):
                raise ValueError("set_link needs at least one of delay, jitter, loss, bandwidth")
            return self

    def check(self, event: Any, ctx: CheckContext) -> Iterator[Tuple[str, str, str]]:
        return check_link(event.link, ctx)

    def resolve(self, event: Any, draws: Draws) -> Tuple[str, Dict[str, Any]]:
        target, params = resolve_link(event.link, draws)
        params.update({k: getattr(event, k) for k in PROPS if getattr(event, k) is not None})
        return target, params

    def apply(self, action: Action, trial: Running) -> Dict[str, Any]:
        p = action.params
        changes = {PROPS[k]: (p[k] or None) if k == "bandwidth" else p[k]
                   for k in PROPS if k in p}  # bandwidth 0 removes the limit
        props = trial.underlay.set_link_params(p["link"][0], p["link"][1], **changes)
        return {"props": props.__dict__}
