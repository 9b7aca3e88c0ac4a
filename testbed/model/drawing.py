"""Topology drawings (`testbed draw`, and the topology figure of every run's report).

The AS graph is laid out by tier, as textbooks draw the Internet: ASes without providers
on top, every customer below all of its providers, peers side by side in a row. The tiers
come from the provider-customer graph (networkx's topological order); the rows are
networkx's `multipartite_layout`, with a wide tier wrapped into rows of at most `ROW`
ASes so that internet-200's hundred stubs stay readable. Within a row, ASes are ordered
by where their providers sit (the barycenter heuristic of layered drawing), which keeps
provider-customer edges short.

Each AS is a box; at the router level it holds its routers (networkx's circular layout),
hosts (small squares under their router) and internal links. Provider->customer links are
arrows from the provider down, peerings dashed; labels say delay and bandwidth (left out
above `MAX_LABELS` inter-AS links, where they would cover the drawing). Failed links and
routers (a run's timeline) are red and crossed. `.dot` writes Graphviz text instead (a
cluster per AS, a rank per tier) for those who lay out with Graphviz.
"""
from __future__ import annotations

import math
from itertools import groupby
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, FrozenSet, Iterable, List, Optional, Set, Tuple

import networkx as nx

from .network import Link, Network

ROW = 20  # ASes per row at most; a wider tier wraps
MAX_LABELS = 80  # inter-AS links labelled at most
BOX_W, BOX_H = 0.8, 0.62  # an AS box, in units of the row spacing
LEVELS = ("router", "as")
FORMATS = (".svg", ".png", ".pdf", ".dot")


@dataclass
class Layout:
    tiers: Dict[int, int]  # asn -> tier (0: no providers)
    centre: Dict[int, Tuple[float, float]]  # asn -> its box's centre
    nodes: Dict[str, Tuple[float, float]] = field(default_factory=dict)  # router/host -> xy

    def box(self, asn: int) -> Tuple[float, float, float, float]:
        """(x0, y0, x1, y1) of an AS's box."""
        x, y = self.centre[asn]
        return x - BOX_W / 2, y - BOX_H / 2, x + BOX_W / 2, y + BOX_H / 2


def tiers(net: Network) -> Dict[int, int]:
    """asn -> 1 + the deepest tier among its providers (0 without providers)."""
    dag = nx.DiGraph()
    dag.add_nodes_from(net.ases)
    dag.add_edges_from(_provider_edges(net))
    if not nx.is_directed_acyclic_graph(dag):  # a provider loop: the validator's to say
        return {asn: 0 for asn in net.ases}
    tier: Dict[int, int] = {}
    for asn in nx.topological_sort(dag):
        tier[asn] = 1 + max((tier[p] for p in dag.predecessors(asn)), default=-1)
    return tier


def _provider_edges(net: Network) -> Set[Tuple[int, int]]:
    """(provider asn, customer asn) for every provider-customer link."""
    edges = set()
    for link in _inter(net):
        a, b = net.asn_of(link.a), net.asn_of(link.b)
        if link.relationship == "provider-customer":
            edges.add((a, b))
        elif link.relationship == "customer-provider":
            edges.add((b, a))
    return edges


def _inter(net: Network) -> List[Link]:
    return [link for link in net.links if link.kind == "inter"]


def layout(net: Network, level: str = "router") -> Layout:
    tier = tiers(net)
    providers: Dict[int, List[int]] = {asn: [] for asn in net.ases}
    for p, c in _provider_edges(net):
        providers[c].append(p)
    rows: List[List[int]] = []
    x_of: Dict[int, float] = {}
    for t in sorted(set(tier.values())):
        members = [a for a in net.ases if tier[a] == t]
        # barycenter of the providers already placed; ASes without any keep AS order
        members.sort(key=lambda a: (sum(x_of[p] for p in providers[a]) / len(providers[a])
                                    if providers[a] else float(a), a))
        chunks = [members[i:i + ROW] for i in range(0, len(members), ROW)]
        for chunk in chunks:
            for i, a in enumerate(chunk):
                x_of[a] = (i + 0.5) / len(chunk)
        rows += chunks
    # networkx's multipartite layout: a row per subset, its nodes evenly spaced and
    # centred, in node order (hence the integer labels in our order)
    order = [a for row in rows for a in row]
    graph = nx.Graph()
    for r, row in enumerate(rows):
        graph.add_nodes_from((order.index(a) for a in row), row=r)
    pos = nx.multipartite_layout(graph, subset_key="row", align="horizontal")
    widest = max(range(len(rows)), key=lambda r: len(rows[r]))
    xs = sorted(pos[order.index(a)][0] for a in rows[widest])
    unit = float(xs[-1] - xs[0]) / (len(xs) - 1) if len(xs) > 1 else 1.0
    ys = [float(pos[order.index(row[0])][1]) for row in rows]
    sign = 1.0 if len(rows) < 2 or ys[0] > ys[1] else -1.0  # the top tier on top
    centre = {a: (float(pos[i][0]) / unit, sign * float(pos[i][1]) / unit)
              for i, a in enumerate(order)}
    out = Layout(tier, centre)
    if level == "router":
        for asn, system in net.ases.items():
            out.nodes.update(_inside(net, system.routers, centre[asn]))
    return out


def _inside(net: Network, routers: Iterable[str],
            at: Tuple[float, float]) -> Dict[str, Tuple[float, float]]:
    """Routers on a circle in the upper part of the box, hosts under their router."""
    routers = list(routers)
    x, y = at
    radius = min(BOX_W, BOX_H) * 0.2 if len(routers) > 1 else 0.0
    ring = nx.circular_layout(routers, scale=radius, center=(x, y))
    placed = {r: (float(p[0]), float(p[1])) for r, p in ring.items()}
    for r in routers:
        hosts = [h for h in net.hosts.values() if h.router == r]
        rx, ry = placed[r]
        for i, h in enumerate(hosts):
            dx = (i - (len(hosts) - 1) / 2) * 0.08
            placed[h.name] = (rx + dx, y - BOX_H * 0.4)
    return placed


def overlapping_boxes(lay: Layout) -> List[Tuple[int, int]]:
    """AS pairs whose boxes overlap (none, by construction: the test checks it)."""
    boxes = sorted((lay.box(a), a) for a in lay.centre)
    bad = []
    for i, (b1, a1) in enumerate(boxes):
        for b2, a2 in boxes[i + 1:]:
            if b2[0] >= b1[2]:
                break
            if b1[1] < b2[3] and b2[1] < b1[3]:
                bad.append((min(a1, a2), max(a1, a2)))
    return bad


def _label(link: Link) -> str:
    parts = []
    if link.props.delay_ms:
        parts.append(f"{link.props.delay_ms:g} ms")
    if link.props.bandwidth_mbit:
        parts.append(f"{link.props.bandwidth_mbit:g} Mbit/s")
    return ", ".join(parts)


def _failed(link: Link, down: FrozenSet[FrozenSet[str]], dead: FrozenSet[str]) -> bool:
    return frozenset((link.a, link.b)) in down or link.a in dead or link.b in dead


def draw(net: Network, path: Path, level: str = "router", asn: Optional[int] = None,
         down: Iterable[Tuple[str, str]] = (), dead: Iterable[str] = (),
         paths: Optional[Dict[str, List[str]]] = None) -> Path:
    """Write the drawing to `path` (.svg, .png, .pdf or .dot). `asn`: that AS alone, its
    routers, hosts and internal links, and its neighbours' border routers. `down`/`dead`:
    failed links (node pairs) and routers, drawn red. `paths`: label -> node sequence,
    drawn over the network (router level), e.g. an overlay's path and the underlay's."""
    down_set = frozenset(frozenset(p) for p in down)
    dead_set = frozenset(dead)
    if path.suffix == ".dot":
        path.write_text(dot(net, level))
        return path
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyBboxPatch

    if asn is not None:
        return _draw_one_as(net, asn, path, down_set, dead_set)
    lay = layout(net, level)
    xs = [x for x, _ in lay.centre.values()]
    ys = [y for _, y in lay.centre.values()]
    width, height = max(xs) - min(xs) + 1, max(ys) - min(ys) + 1
    fig, ax = plt.subplots(figsize=(max(6.0, 1.6 * width), max(3.0, 1.5 * height)))
    for a, system in net.ases.items():
        x0, y0, x1, y1 = lay.box(a)
        ax.add_patch(FancyBboxPatch((x0, y0), x1 - x0, y1 - y0,
                                    boxstyle="round,pad=0,rounding_size=0.06",
                                    facecolor=f"C{lay.tiers[a] % 10}", alpha=0.15,
                                    edgecolor="0.3", linewidth=0.8))
        title = f"AS{a}" + (f" {system.name}" if system.name and level == "as" else "")
        ax.text((x0 + x1) / 2, y1 - 0.04, title, ha="center", va="top", fontsize=8,
                weight="bold")
        if level == "as":
            ax.text((x0 + x1) / 2, (y0 + y1) / 2 - 0.05,
                    f"{len(system.routers)} routers\n{len(system.hosts)} hosts",
                    ha="center", va="center", fontsize=6.5, color="0.3")
    labels = len(_inter(net)) <= MAX_LABELS
    for link in net.links:
        if link.kind == "inter":
            if level == "as":
                p, q = lay.centre[net.asn_of(link.a)], lay.centre[net.asn_of(link.b)]
            else:
                p, q = lay.nodes[link.a], lay.nodes[link.b]
            _edge(ax, link, p, q, _failed(link, down_set, dead_set), labels)
        elif level == "router":
            p, q = lay.nodes[link.a], lay.nodes[link.b]
            failed = _failed(link, down_set, dead_set)
            ax.plot(*zip(p, q), color="tab:red" if failed else "0.45",
                    linewidth=0.8, linestyle=":" if failed else "-", zorder=1)
    if level == "router":
        for name, (x, y) in lay.nodes.items():
            router = name in net.routers
            ax.plot(x, y, "o" if router else "s", markersize=7 if router else 4,
                    color="tab:red" if name in dead_set else ("0.15" if router else "tab:blue"),
                    zorder=3)
            ax.text(x, y + (0.05 if router else -0.06), name.split(".", 1)[1],
                    ha="center", va="bottom" if router else "top", fontsize=5.5, zorder=4)
    for i, (label, nodes) in enumerate((paths or {}).items()):
        where = [lay.nodes[n] for n in nodes if n in lay.nodes] if level == "router" else \
            [lay.centre[a] for a, _ in groupby(net.asn_of(n) for n in nodes)]
        offset = 0.025 * (i - 0.5)  # two paths over the same links stay apart
        ax.plot([x + offset for x, _ in where], [y + offset for _, y in where],
                color=f"C{i + 1}", linewidth=3, alpha=0.7, zorder=6, label=label)
    if paths:
        ax.legend(loc="lower left", fontsize=7)
    ax.set_xlim(min(xs) - 0.6, max(xs) + 0.6)
    ax.set_ylim(min(ys) - 0.6, max(ys) + 0.6)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(f"{net.name}: {len(net.ases)} ASes, {len(net.routers)} routers, "
                 f"{len(net.hosts)} hosts (providers above customers; peers dashed)",
                 fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _edge(ax: object, link: Link, p: Tuple[float, float], q: Tuple[float, float],
          failed: bool, label: bool) -> None:
    """An inter-AS link: an arrow from provider to customer, a dashed line for peers."""
    peer = link.relationship not in ("provider-customer", "customer-provider")
    if link.relationship == "customer-provider":
        p, q = q, p
    color = "tab:red" if failed else ("tab:green" if peer else "0.2")
    ax.annotate("", xy=q, xytext=p, zorder=2,  # type: ignore[attr-defined]
                arrowprops=dict(arrowstyle="-" if peer else "-|>", color=color,
                                linestyle="--" if peer or failed else "-", linewidth=1.0,
                                shrinkA=4, shrinkB=4))
    mid = ((p[0] + q[0]) / 2, (p[1] + q[1]) / 2)
    if failed:
        ax.text(*mid, "✕", color="tab:red", ha="center", va="center", fontsize=11,  # type: ignore[attr-defined]
                weight="bold", zorder=5)
    elif label and _label(link):
        ax.text(*mid, _label(link), fontsize=5.5, color="0.25", ha="center",  # type: ignore[attr-defined]
                va="center", zorder=5, bbox=dict(boxstyle="round,pad=0.1", fc="white",
                                                 ec="none", alpha=0.8))


def _draw_one_as(net: Network, asn: int, path: Path, down: FrozenSet[FrozenSet[str]],
                 dead: FrozenSet[str]) -> Path:
    import matplotlib.pyplot as plt
    system = net.ases[asn]
    graph = nx.Graph()
    graph.add_nodes_from(system.routers)
    outside: Dict[str, str] = {}  # a neighbour's border router -> what it is to this AS
    for link in net.links:
        ends = {net.asn_of(link.a), net.asn_of(link.b)}
        if link.kind == "access" or asn not in ends:
            continue
        graph.add_edge(link.a, link.b, link=link)
        if link.kind == "inter":
            far = link.b if net.asn_of(link.a) == asn else link.a
            rel = link.relationship or ""
            mine_is_a = far == link.b
            role = {"provider-customer": "customer" if mine_is_a else "provider",
                    "customer-provider": "provider" if mine_is_a else "customer"}.get(rel,
                                                                                      "peer")
            outside[far] = role
    pos = nx.spring_layout(graph, seed=1, k=1.5 / math.sqrt(max(1, len(graph))))
    fig, ax = plt.subplots(figsize=(8, 6))
    for a, b, data in graph.edges(data=True):
        link = data["link"]
        failed = _failed(link, down, dead)
        ax.plot(*zip(pos[a], pos[b]), color="tab:red" if failed else "0.4",
                linestyle="--" if failed or link.kind == "inter" else "-", zorder=1)
        if _label(link):
            mid = (pos[a] + pos[b]) / 2
            ax.text(*mid, _label(link), fontsize=7, ha="center", color="0.25",
                    bbox=dict(boxstyle="round,pad=0.1", fc="white", ec="none", alpha=0.8))
    for node, (x, y) in pos.items():
        if node in outside:
            ax.plot(x, y, "o", color="0.75", markersize=10)
            ax.text(x, y - 0.07, f"{node}\n({outside[node]})", ha="center", va="top",
                    fontsize=7, color="0.4")
            continue
        ax.plot(x, y, "o", color="tab:red" if node in dead else "0.15", markersize=10)
        hosts = [h.name for h in net.hosts.values() if h.router == node]
        ax.text(x, y + 0.05, node + ("\n" + ", ".join(hosts) if hosts else ""),
                ha="center", va="bottom", fontsize=7)
    ax.axis("off")
    ax.set_title(f"AS{asn} {system.name}: {len(system.routers)} routers, "
                 f"{len(system.hosts)} hosts; grey: neighbours' border routers", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def dot(net: Network, level: str = "router") -> str:
    """Graphviz text: a cluster per AS (router level) or a node per AS, a rank per tier."""
    lines = [f'digraph "{net.name}" {{', "  rankdir=TB; compound=true;",
             '  node [fontname="Helvetica", fontsize=10];']
    if level == "as":
        tier = tiers(net)
        for t in sorted(set(tier.values())):
            ases = [a for a in net.ases if tier[a] == t]
            lines.append("  { rank=same; " + " ".join(f'"AS{a}";' for a in ases) + " }")
    for a, system in net.ases.items():
        if level == "as":
            lines.append(f'  "AS{a}" [shape=box, label="AS{a}\\n{system.name}"];')
            continue
        lines.append(f'  subgraph "cluster_as{a}" {{ label="AS{a} {system.name}"; style=rounded;')
        for r in system.routers:
            lines.append(f'    "{r}" [shape=circle, label="{r.split(".", 1)[1]}"];')
        for h in system.hosts:
            lines.append(f'    "{h}" [shape=box, label="{h.split(".", 1)[1]}"];')
        lines.append("  }")
    for link in net.links:
        if level == "as" and link.kind != "inter":
            continue
        a, b = link.a, link.b
        if level == "as":
            a, b = f"AS{net.asn_of(a)}", f"AS{net.asn_of(b)}"
        if link.relationship == "customer-provider":
            a, b = b, a
        style = "dir=none"
        if link.kind == "inter" and link.relationship not in ("provider-customer",
                                                             "customer-provider"):
            style = "dir=none, style=dashed, constraint=false"
        elif link.kind == "inter":
            style = "dir=forward"
        lines.append(f'  "{a}" -> "{b}" [{style}, label="{_label(link)}"];')
    lines.append("}")
    return "\n".join(lines) + "\n"
