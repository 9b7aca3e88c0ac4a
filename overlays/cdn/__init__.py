"""A content delivery network on real HTTP and DNS (see __main__ for the agent).

One deployment is one CDN: an `origin` with a catalog of objects, `edges` that cache it
(Python, or Debian's nginx with `edge: nginx`), a request router (`router`: an
authoritative DNS server for `zone`, and an HTTP 302 redirector) that sends each client to
an edge by `routing.policy`, and `clients` that request objects with Poisson arrivals and
Zipf popularity. `coral: {enabled: true}` makes the edges cooperate as CoralCDN does:
they index who holds what in a sloppy DHT over RTT clusters and fetch from each other
before the origin. The modules: catalog (objects and popularity), cache (the edge's
byte-bounded cache), routing (the router's policies), coral (the DHT's pure parts),
origin, edge, nginx, router, client (the roles), analysis (metrics, the hit-ratio oracle
and plots).
"""
from typing import Iterator, List, Literal, Optional, Sequence, Tuple

from pydantic import Field, model_validator

from ..spec import OverlaySpec, Params, Port, Program

POLICIES = ("nearest", "as-local", "round-robin", "random", "load-aware")


class Catalog(Params):
    """The origin's objects: `objects` of them, sizes drawn with `seed` (every agent
    draws the same catalog)."""
    objects: int = Field(1000, ge=1, le=1_000_000, description="how many objects")
    size: Literal["lognormal", "pareto", "fixed"] = Field(
        "lognormal", description="size distribution")
    median_bytes: int = Field(16_384, ge=1, le=1 << 30,
                              description="lognormal: median; pareto: minimum; fixed: size")
    sigma: float = Field(1.0, gt=0, le=5, description="lognormal shape")
    pareto_alpha: float = Field(1.2, gt=0, le=10, description="pareto tail index")
    max_bytes: int = Field(4 << 20, ge=1, le=1 << 30, description="sizes are capped here")
    seed: int = Field(1, ge=0, le=2 ** 32 - 1)
    max_age: int = Field(3600, ge=0, le=10 ** 7,
                         description="Cache-Control: max-age the origin sends, seconds")


class CacheParams(Params):
    size: str = Field("5%", pattern=r"^([0-9]+(\.[0-9]+)?%|[0-9]+)$",
                      description="bytes, or a share of the catalog's bytes like '5%'")
    policy: Literal["lru", "lfu"] = "lru"


class Routing(Params):
    policy: Literal["nearest", "as-local", "round-robin", "random", "load-aware"] = Field(
        "nearest", description="how the router picks a client's edge")
    mechanism: Literal["dns", "redirect"] = Field(
        "dns", description="clients resolve the zone (dns) or ask the redirector (302)")
    ttl: int = Field(5, ge=0, le=86_400, description="the DNS answer's TTL, seconds")
    load_threshold: float = Field(200.0, gt=0, le=1e6,
                                  description="load-aware: requests/s above which an edge "
                                              "is skipped")
    report_interval: float = Field(0.5, gt=0, le=60,
                                   description="edges report load and RTTs this often")
    dead_after: float = Field(1.5, gt=0, le=600,
                              description="an edge silent this long gets no answers")


class Flash(Params):
    """A flash crowd: from `at` (seconds after T=0) on, each client adds `rate` requests/s
    for `duration` seconds to `objects` objects that normal traffic never requests."""
    at: float = Field(ge=0, le=86_400)
    rate: float = Field(gt=0, le=10_000)
    duration: float = Field(10.0, gt=0, le=86_400)
    objects: int = Field(10, ge=1, le=100_000)


class Workload(Params):
    rate: float = Field(5.0, gt=0, le=10_000, description="requests/s per client (Poisson)")
    alpha: float = Field(0.8, gt=0, le=5, description="Zipf exponent of popularity")
    timeout: float = Field(1.0, gt=0, le=120, description="a request fails after, seconds")
    via: Literal["cdn", "origin"] = Field("cdn", description="origin: bypass the CDN")
    concurrency: int = Field(64, ge=1, le=10_000,
                             description="requests in flight per client at most")
    flash: Optional[Flash] = None


class Coral(Params):
    enabled: bool = False
    levels_ms: List[float] = Field([20.0, 60.0], min_length=1, max_length=4,
                                   description="RTT thresholds of the clusters, nearest "
                                               "first searched")
    max_values: int = Field(4, ge=1, le=100,
                            description="holders a node keeps per key before it is full "
                                        "and puts spill to the next-closest node")
    rpc_timeout: float = Field(0.3, gt=0, le=10)


class Ports(Params):
    http: int = Field(8080, ge=1, le=65535, description="edges' HTTP (tcp)")
    origin: int = Field(8000, ge=1, le=65535, description="origin's HTTP (tcp)")
    dns: int = Field(53, ge=1, le=65535, description="router's DNS (udp)")
    redirect: int = Field(8053, ge=1, le=65535, description="router's 302 redirector (tcp)")
    control: int = Field(7300, ge=1, le=65535,
                         description="udp between members: probes, reports, the DHT")
    nginx_status: int = Field(8081, ge=1, le=65535,
                              description="nginx edges: the agent's local view (loopback)")


class CdnParams(Params):
    origin: str = Field(description="the member that runs the origin")
    router: str = Field(description="the member that runs the DNS server and redirector")
    edges: List[str] = Field(min_length=1, max_length=1000, description="edge members")
    clients: Optional[List[str]] = Field(
        None, description="client members (default: every member that has no other role)")
    zone: str = Field("cdn.test", pattern=r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]"
                                          r"([a-z0-9-]*[a-z0-9])?)*$", max_length=200)
    edge: Literal["python", "nginx"] = "python"
    catalog: Catalog = Field(default_factory=Catalog)
    cache: CacheParams = Field(default_factory=CacheParams)
    routing: Routing = Field(default_factory=Routing)
    workload: Workload = Field(default_factory=Workload)
    coral: Coral = Field(default_factory=Coral)
    ports: Ports = Field(default_factory=Ports)
    probe_interval: float = Field(2.0, gt=0, le=600,
                                  description="edges measure RTT to members this often")

    @model_validator(mode="after")
    def _nginx_alone(self) -> "CdnParams":
        if self.edge == "nginx" and self.coral.enabled:
            raise ValueError("coral needs Python edges (edge: python): nginx cannot ask "
                             "the DHT")
        return self

    def client_names(self, members: Sequence[str]) -> List[str]:
        if self.clients is not None:
            return list(self.clients)
        busy = {self.origin, self.router, *self.edges}
        return [m for m in members if m not in busy]

    def roles(self, host: str, members: Sequence[str]) -> List[str]:
        return [role for role, yes in (("origin", host == self.origin),
                                       ("router", host == self.router),
                                       ("edge", host in self.edges),
                                       ("client", host in self.client_names(members))) if yes]


def ports(params: CdnParams, host: str) -> Sequence[Port]:
    p = params.ports
    out = [Port(p.control)]
    if host == params.origin:
        out.append(Port(p.origin, "tcp"))
    if host == params.router:
        out += [Port(p.dns), Port(p.redirect, "tcp")]
    if host in params.edges:
        out.append(Port(p.http, "tcp"))
    return out


def check(params: CdnParams, members: List[str]) -> Iterator[Tuple[tuple, str]]:
    for key in ("origin", "router"):
        if getattr(params, key) not in members:
            yield (key,), f"'{getattr(params, key)}' is not a member of this deployment (hosts)"
    for key in ("edges", "clients"):
        seen = set()
        for i, name in enumerate(getattr(params, key) or []):
            if name not in members:
                yield (key, i), f"'{name}' is not a member of this deployment (hosts)"
            if name in seen:
                yield (key, i), f"'{name}' is listed twice"
            seen.add(name)
    if params.origin in params.edges:
        yield ("edges",), "the origin cannot also be an edge"
    if not params.client_names(members):
        yield ("clients",), "no clients: every member has another role (list clients, " \
                            "or add hosts)"
    numbers = [params.ports.http, params.ports.origin, params.ports.redirect]
    if len(set(numbers)) < len(numbers):
        yield ("ports",), "http, origin and redirect need three different TCP ports"


def programs(params: CdnParams) -> Sequence[Program]:
    return [Program("nginx", "nginx")] if params.edge == "nginx" else []


def _metrics(records, params):  # type: ignore[no-untyped-def]
    from .analysis import metrics
    return metrics(records, params)


def _plots(deployments, folder):  # type: ignore[no-untyped-def]
    from .analysis import plots
    return plots(deployments, folder)


SPEC = OverlaySpec(params=CdnParams, ports=ports, check=check, programs=programs,
                   metrics=_metrics, plots=_plots)
