"""An ISP pushing back against an overlay: `throttle` a traffic class to a rate, `block`
it, lift either (`unthrottle`, `unblock`), on every inter-AS link of an AS (`asn`) or on
one link (`link`); and `reprice` a provider link (the topology's `price`, from then on).

A class is an overlay deployment of the experiment, recognised by its declared ports
(testbed/underlay/linkemu/classes.py). Throttles police both directions of each link: on
the netem back end with tc at each end's egress, on the userspace back end inside the
link emulator.
"""
from __future__ import annotations

from typing import Any, Dict, Iterator, List, Literal, Optional, Tuple

from pydantic import Field, model_validator

from ...model.diagnostics import did_you_mean
from ...model.schema import Float, Int, Mbits
from ..fields import Ident, NodeName
from .base import Action, ActionFamily, CheckContext, Draws, EventBase, Running, register
from .link import check_link


def _inter_links(net: Any, asn: int) -> List[List[str]]:
    return [[l.a, l.b] for l in net.links
            if l.kind == "inter" and asn in (net.asn_of(l.a), net.asn_of(l.b))]


@register
class Police(ActionFamily):
    names = ("throttle", "unthrottle", "block", "unblock")
    marked = True

    class Event(EventBase):
        """Throttle (to `rate`), block, or lift either, for one overlay's traffic, on an
        AS's inter-AS links (`asn`) or one link (`link`)."""
        action: Literal["throttle", "unthrottle", "block", "unblock"]
        cls: Ident = Field(alias="class", description="the overlay deployment whose "
                                                      "traffic (by its ports) is policed")
        asn: Optional[Int] = Field(None, description="every inter-AS link of this AS")
        link: Optional[List[NodeName]] = Field(None, description="or one link: [a, b]")
        rate: Optional[Mbits] = Field(None, description="throttle: the class's rate on "
                                                        "each link and direction")

        @model_validator(mode="after")
        def _where(self) -> "Police.Event":
            if (self.asn is None) == (self.link is None):
                raise ValueError(f"'{self.action}' needs one of 'asn' (all of that AS's "
                                 "inter-AS links) or 'link' ([a, b])")
            if self.link is not None and len(self.link) != 2:
                raise ValueError("'link' names the two nodes at its ends: [a, b]")
            if self.action == "throttle" and self.rate is None:
                raise ValueError("'throttle' needs a 'rate', e.g. rate: 1Mbit")
            if self.action != "throttle" and self.rate is not None:
                raise ValueError(f"'{self.action}' takes no 'rate' (only 'throttle' does)")
            return self

    def check(self, event: Any, ctx: CheckContext) -> Iterator[Tuple[str, str, str]]:
        if event.cls not in ctx.overlays:
            yield "class", f"no traffic class '{event.cls}': classes are the experiment's " \
                           "overlay deployments", did_you_mean(event.cls, ctx.overlays)
        if event.asn is not None:
            if event.asn not in ctx.net.ases:
                yield "asn", f"no AS {event.asn} in {ctx.net.name}", ""
            elif not _inter_links(ctx.net, event.asn):
                yield "asn", f"AS {event.asn} has no inter-AS links", "throttle a 'link'"
        else:
            yield from check_link(event.link, ctx)

    def resolve(self, event: Any, draws: Draws) -> Tuple[str, Dict[str, Any]]:
        if event.asn is not None:
            where, links = f"as{event.asn}", _inter_links(draws.net, event.asn)
        else:
            where, links = "-".join(event.link), [list(event.link)]
        rate = {"throttle": event.rate, "block": 0.0}.get(event.action)
        return f"{event.cls}@{where}", {"class": event.cls, "links": links, "rate_mbit": rate}

    def apply(self, action: Action, trial: Running) -> Dict[str, Any]:
        p = action.params
        for a, b in p["links"]:
            trial.underlay.police(a, b, p["class"], p["rate_mbit"])
        return {}


@register
class Reprice(ActionFamily):
    names = ("reprice",)
    marked = True

    class Event(EventBase):
        """A provider link's new price (USD per Mbit/s per month), billed from now on."""
        action: Literal["reprice"]
        link: List[NodeName] = Field(description="the provider link: [a, b]")
        price: Float = Field(ge=0, le=1e6)

        @model_validator(mode="after")
        def _ends(self) -> "Reprice.Event":
            if len(self.link) != 2:
                raise ValueError("'link' names the two nodes at its ends: [a, b]")
            return self

    def check(self, event: Any, ctx: CheckContext) -> Iterator[Tuple[str, str, str]]:
        problems = list(check_link(event.link, ctx))
        yield from problems
        if problems:
            return
        link = next(l for l in ctx.net.links if {l.a, l.b} == set(event.link))
        if link.kind != "inter" or link.relationship != "provider-customer":
            yield "link", f"{event.link[0]}-{event.link[1]} is not a provider link, so it " \
                          "has no price", "reprice a provider-customer inter-AS link"

    def resolve(self, event: Any, draws: Draws) -> Tuple[str, Dict[str, Any]]:
        return "-".join(event.link), {"link": list(event.link), "price": event.price}

    def apply(self, action: Action, trial: Running) -> Dict[str, Any]:
        return {}  # billing reads the price changes from the run's events
