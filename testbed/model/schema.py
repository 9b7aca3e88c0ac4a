"""The topology file's schema: pydantic models that validate the parsed YAML.

One schema drives validation, error messages and the JSON Schema editors use
(`testbed schema`). Only shape and local value rules live here; rules that need the whole
file (names resolve, prefixes do not overlap, the graph is connected) are in `checks`.
Names written in the file are local to their AS (`r1`); across ASes a router is named
`as<asn>.<router>` everywhere (YAML, code, results).
"""
from __future__ import annotations

import ipaddress
import re
from typing import Any, Dict, List, Literal, Optional

from pydantic import (BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema,
                      field_validator, model_validator)
from typing_extensions import Annotated

from . import units
from .diagnostics import excerpt

NAME_RE = r"^[a-z][a-z0-9_-]*$"
# A router's global name `as<asn>.<name>` names an OVS bridge, a Linux interface: 15 chars.
MAX_GLOBAL_NAME = 15

MAX_DELAY_MS = 10_000.0  # one way, per link: a geostationary hop is 270 ms
MAX_RATE_MBIT = 100_000.0


def matching(regex: str, what: str) -> Any:
    """A validator saying in plain words what a string must look like (pydantic would
    print the regular expression); the Field(pattern=...) after it, which then never
    fails, feeds the JSON Schema."""
    compiled = re.compile(regex)

    def check(value: Any) -> Any:
        if isinstance(value, str) and not compiled.match(value):
            raise ValueError(f"'{excerpt(value)}' is not {what}")
        return value
    return BeforeValidator(check)


def _no_bool(value: Any) -> Any:
    """YAML reads yes/no/on/off/true/false as booleans, and pydantic would take them as
    1 and 0: a number must be written as one."""
    if isinstance(value, bool):
        raise ValueError(f"expected a number, not the boolean {str(value).lower()}")
    return value


Int = Annotated[int, BeforeValidator(_no_bool)]
Float = Annotated[float, BeforeValidator(_no_bool)]

def milliseconds(maximum: float) -> Any:
    """A duration in milliseconds, written '5ms', '1.5s', '250us' or as a bare number,
    at most `maximum`."""
    return Annotated[float, BeforeValidator(units.parse_ms), Field(le=maximum),
                     WithJsonSchema({"anyOf": [{"type": "number", "minimum": 0,
                                                "maximum": maximum},
                                               {"type": "string",
                                                "pattern": units.DURATION_PATTERN}],
                                     "description": "milliseconds; a number or '5ms', "
                                                    "'1s', '250us'"})]


Milliseconds = milliseconds(MAX_DELAY_MS)
Mbits = Annotated[float, BeforeValidator(units.parse_mbit), Field(le=MAX_RATE_MBIT),
                  WithJsonSchema({"anyOf": [{"type": "number", "exclusiveMinimum": 0},
                                            {"type": "string", "pattern": units.RATE_PATTERN}],
                                  "description": "Mbit/s; a number or '100Mbit', '1Gbit', '512kbit'"})]
Percent = Annotated[float, BeforeValidator(units.parse_percent),
                    WithJsonSchema({"anyOf": [{"type": "number", "minimum": 0, "maximum": 100},
                                              {"type": "string", "pattern": units.PERCENT_PATTERN}],
                                    "description": "percent; 0.5 or '1%'"})]
NAME_WORDS = "a name of lower-case letters, digits, '-' and '_', starting with a letter"
Name = Annotated[str, matching(NAME_RE, NAME_WORDS),
                 Field(pattern=NAME_RE, max_length=12,
                       description="lower-case letters, digits, '-' and '_'")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=False, frozen=True, allow_inf_nan=False)


class LinkProps(_Strict):
    """Emulated properties of a link, the same in both directions."""
    delay: Optional[Milliseconds] = Field(None, description="one-way delay")
    jitter: Optional[Milliseconds] = Field(None, description="delay variation (std. dev.)")
    loss: Optional[Percent] = Field(None, description="random loss per direction")
    bandwidth: Optional[Mbits] = Field(None, description="rate limit per direction")


class Defaults(_Strict):
    link: LinkProps = Field(default_factory=LinkProps,
                            description="link properties where a link does not set them")


def _parse_network(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{what} must be written like '10.1.0.0/16'")
    try:
        net = ipaddress.IPv4Network(value, strict=True)
    except ValueError as exc:
        text = str(exc)
        if "host bits set" in text:
            fixed = ipaddress.IPv4Network(value, strict=False)
            raise ValueError(f"'{value}' has host bits set; the network is {fixed}") from None
        raise ValueError(f"'{value}' is not an IPv4 prefix ({text})") from None
    return str(net)


def _parse_address(value: Any) -> str:
    try:
        return str(ipaddress.IPv4Address(value))
    except (ValueError, TypeError):
        raise ValueError(f"'{value}' is not an IPv4 address like 10.1.1.10") from None


Prefix = Annotated[str, BeforeValidator(lambda v: _parse_network(v, "a prefix")),
                   WithJsonSchema({"type": "string", "pattern": r"^\d+\.\d+\.\d+\.\d+/\d+$",
                                   "description": "IPv4 prefix, e.g. 10.1.0.0/16"})]
Address = Annotated[str, BeforeValidator(_parse_address),
                    WithJsonSchema({"type": "string", "pattern": r"^\d+\.\d+\.\d+\.\d+$"})]


class Router(_Strict):
    name: Name
    lan: Optional[Prefix] = Field(None, description="subnet of the router's hosts "
                                  "(default: the next /24 of the AS prefix)")


def _routers_from_names(value: Any) -> Any:
    """`routers: [r1, r2]` is shorthand for `routers: [{name: r1}, {name: r2}]`."""
    if isinstance(value, list):
        return [{"name": item} if isinstance(item, str) else item for item in value]
    return value


class Host(_Strict):
    name: Name
    router: Name = Field(description="the router of the same AS this host hangs off")
    ip: Optional[Address] = Field(None, description="address inside the router's LAN")
    delay: Optional[Milliseconds] = None
    jitter: Optional[Milliseconds] = None
    loss: Optional[Percent] = None
    bandwidth: Optional[Mbits] = None


class IntraLink(LinkProps):
    """A link between two routers of the same AS."""
    a: Name
    b: Name
    cost: Int = Field(1, ge=1, le=65535, description="IGP cost (the same both ways)")
    subnet: Optional[Prefix] = Field(None, description="the link's /30 or /31 "
                                     "(default: allocated from the AS prefix)")


Relationship = Literal["provider-customer", "customer-provider", "peer-peer"]


class InterLink(LinkProps):
    """A link between routers of two ASes, with the business relationship of a to b."""
    a: str = Field(description="router as 'as<asn>.<router>'")
    b: str = Field(description="router as 'as<asn>.<router>'")
    relationship: Relationship = Field(
        description="a to b: 'provider-customer' (a sells transit to b), "
                    "'customer-provider' (b sells transit to a) or 'peer-peer'")
    cost: Int = Field(1, ge=1, le=65535, description="link cost for shortest-path routing")
    subnet: Optional[Prefix] = Field(None, description="the link's /30 or /31 "
                                     "(default: from the provider's AS prefix, or the "
                                     "lower ASN's for peers)")
    price: Optional[Float] = Field(None, ge=0, le=1e6,
                                   description="transit price the customer pays, USD per "
                                               "Mbit/s per month of its 95th-percentile rate "
                                               "(provider-customer links)")
    peering_cost: Optional[Float] = Field(None, ge=0, le=1e9,
                                          description="flat cost of a peering, USD per month, "
                                                      "each side (peer-peer links)")

    @model_validator(mode="after")
    def _money(self) -> "InterLink":
        if self.price is not None and self.relationship == "peer-peer":
            raise ValueError("a peering is settlement-free: it has no 'price' (give it "
                             "'peering_cost' for a flat cost)")
        if self.peering_cost is not None and self.relationship != "peer-peer":
            raise ValueError("'peering_cost' is for peer-peer links; a transit link has a "
                             "'price' per Mbit/s")
        return self

    @field_validator("a", "b")
    @classmethod
    def _global_router(cls, value: str) -> str:
        if not re.match(r"^as\d+\.[a-z][a-z0-9_-]*$", value):
            raise ValueError(f"'{value}' is not a router name like 'as100.r1'")
        return value


ASRef = Annotated[str, matching(r"^as\d+$", "an AS written as 'as<number>', e.g. as100"),
                  Field(pattern=r"^as\d+$", description="an AS as 'as<asn>'")]


class Policy(_Strict):
    """Local routing policy of one AS (Gao-Rexford safe: see control/policy.py).

    Relationship class always comes first (customer > peer > provider); these knobs order
    routes within a class or restrict what is exported."""
    local_pref: Dict[ASRef, Annotated[Int, Field(ge=0, le=1000)]] = Field(
        default_factory=dict, description="per neighbour AS; higher wins within a class "
                                          "(default 100)")
    prefer: List[ASRef] = Field(default_factory=list,
                                description="within a class, prefer routes through these ASes")
    avoid: List[ASRef] = Field(default_factory=list,
                               description="within a class, avoid routes through these ASes")
    no_export: List[ASRef] = Field(default_factory=list,
                                   description="neighbour ASes this AS announces nothing to")
    prepend: Dict[ASRef, Annotated[Int, Field(ge=1, le=10)]] = Field(
        default_factory=dict, description="neighbour AS -> times to prepend own ASN when "
                                          "announcing to it")
    exit: Literal["hot-potato", "cold-potato"] = Field(
        "hot-potato", description="hot-potato: each router leaves by its nearest exit; "
                                  "cold-potato: the exit nearest the destination")


class Routing(_Strict):
    mode: Literal["policy", "shortest"] = Field(
        "policy", description="policy: BGP-like (Gao-Rexford) between ASes, IGP inside; "
                              "shortest: plain shortest path over link costs everywhere")
    convergence_delay: milliseconds(3_600_000.0) = Field(  # type: ignore[valid-type]
        30000, description="after a failure or repair, how long routes between ASes keep "
                           "their old choice (traffic to a lost exit is black-holed), as "
                           "with BGP; inside an AS rerouting is immediate")


class AS(_Strict):
    asn: Int = Field(ge=1, le=4294967294, description="AS number")
    name: Optional[str] = Field(None, description="a label for people, e.g. 'tier1-west'")
    prefix: Optional[Prefix] = Field(None, description="address block of the AS "
                                     "(default: allocated from the file's pool)")
    defaults: Defaults = Field(default_factory=Defaults)
    routers: Annotated[List[Router], BeforeValidator(_routers_from_names)] = Field(
        min_length=1, description="routers, each a name or {name, lan}")
    links: List[IntraLink] = Field(default_factory=list)
    hosts: List[Host] = Field(default_factory=list)
    policy: Policy = Field(default_factory=Policy)


class Emulation(_Strict):
    links: Literal["auto", "netem", "userspace"] = Field(
        "auto", description="how link delay, jitter, loss and rate are emulated: netem "
                            "(kernel), userspace (the testbed's emulator, any kernel), or "
                            "auto (netem where the kernel has it)")
    dataplane: Literal["auto", "openflow", "linux"] = Field(
        "auto", description="what forwards packets: openflow (Open vSwitch switches under "
                            "the Ryu controller), linux (kernel-forwarding routers in "
                            "namespaces, programmed by the testbed's controller), or auto "
                            "(openflow where the OVS kernel datapath is there, else linux)")


class Addressing(_Strict):
    pool: Prefix = Field("10.0.0.0/8", description="where AS prefixes without one come from")
    as_prefix_len: Int = Field(16, ge=8, le=28, description="size of allocated AS prefixes")


class Topology(_Strict):
    """An ISP underlay: ASes of routers and hosts, and the links between them."""
    name: Annotated[str, matching(NAME_RE, NAME_WORDS), Field(pattern=NAME_RE, max_length=64)] = Field(
        description="the topology's name, used in results")
    description: Optional[str] = None
    addressing: Addressing = Field(default_factory=Addressing)
    routing: Routing = Field(default_factory=Routing)
    emulation: Emulation = Field(default_factory=Emulation)
    defaults: Defaults = Field(default_factory=Defaults)
    ases: List[AS] = Field(min_length=1)
    inter_as_links: List[InterLink] = Field(default_factory=list)


def json_schema() -> Dict[str, Any]:
    schema = Topology.model_json_schema()
    schema["$schema"] = "http://json-schema.org/draft-07/schema#"
    schema["title"] = "testbed topology"
    return schema
