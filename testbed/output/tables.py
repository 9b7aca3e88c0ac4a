"""What a person reads about an underlay: banner, reachability, route tables, looking
glass, probe results, paths, fidelity (rich tables, printed on the console passed in)."""
from __future__ import annotations

import statistics
from typing import Any, Dict, List

from rich.console import Console
from rich.table import Table as RichTable

from ..control.routes import Table
from ..model.network import Network
from ..underlay.reachability import Matrix, as_summary


def print_banner(out: Console, net: Network, dataplane: str, datapath: str,
                 link_backend: str, seconds: float) -> None:
    table = RichTable(title=f"{net.name}: {len(net.ases)} ASes, {len(net.routers)} routers, "
                            f"{len(net.hosts)} hosts (up in {seconds:.1f} s, routers={dataplane}"
                            + (f", datapath={datapath}" if dataplane == "openflow" else "")
                            + f", links={link_backend})")
    for col in ("AS", "name", "prefix", "routers", "hosts"):
        table.add_column(col)
    for asn, autsys in sorted(net.ases.items()):
        table.add_row(str(asn), autsys.name, str(autsys.prefix),
                      _names(autsys.routers), _names(autsys.hosts))
    out.print(table)
    out.print("Run commands on a node: [bold]as100.h1 ping as200.h1[/], "
                  "[bold]as100.h1 traceroute -n as200.h1[/]; [bold]reach[/] all-pairs "
                  "reachability; [bold]rtt A B[/], [bold]path A B[/], [bold]matrix[/] probes; "
                  "[bold]routes ROUTER[/] its table; [bold]help[/] for more. "
                  "Leave with [bold]exit[/] or Ctrl-D: the network is torn down.")


def _names(names: "tuple[str, ...]", limit: int = 6) -> str:
    short = [n.split(".", 1)[1] for n in names]
    return ", ".join(short[:limit]) + (f" (+{len(short) - limit})" if len(short) > limit else "")


def print_reachability(console: Console, net: Network, matrix: Matrix) -> bool:
    """AS x AS table of reachable host pairs; returns whether every pair is reachable."""
    summary = as_summary(net, matrix)
    asns = sorted({a for a, _ in summary} | {b for _, b in summary})
    ok_pairs = sum(matrix.values())
    if len(asns) <= 16:
        table = RichTable(title="host pairs reachable, by source AS (rows) and destination AS")
        table.add_column("from \\ to")
        for asn in asns:
            table.add_column(str(asn), justify="center")
        for src in asns:
            table.add_row(str(src), *(_cell(summary.get((src, dst))) for dst in asns))
    else:
        table = RichTable(title="reachability by source AS")
        for col in ("AS", "host pairs reachable", "destination ASes fully reachable"):
            table.add_column(col)
        for src in asns:
            cells = [summary[(src, dst)] for dst in asns if (src, dst) in summary]
            table.add_row(str(src), f"{sum(c[0] for c in cells)}/{sum(c[1] for c in cells)}",
                          f"{sum(1 for c in cells if c[0] == c[1])}/{len(cells)}")
    console.print(table)
    style = "green" if ok_pairs == len(matrix) else "red"
    console.print(f"[{style}]{ok_pairs}/{len(matrix)} host pairs reachable[/]")
    return ok_pairs == len(matrix)


def _cell(cell: "tuple[int, int] | None") -> str:
    if cell is None:
        return "-"
    ok, total = cell
    if ok == total:
        return "[green]ok[/]"
    return f"[red]{ok}/{total}[/]"


def print_routes(console: Console, tables: Dict[str, Table], router: str) -> None:
    if router not in tables:
        console.print(f"no router '{router}'; routers: {', '.join(sorted(tables))}")
        return
    table = RichTable(title=f"forwarding table of {router}")
    for col in ("prefix", "port", "next hop"):
        table.add_column(col)
    for route in tables[router].routes:
        table.add_row(route.prefix, str(route.port), route.next_hop)
    console.print(table)


def print_looking_glass(console: Console, asn: int, rows: List[Dict[str, Any]]) -> None:
    table = RichTable(title=f"looking glass of AS{asn}")
    for col in ("prefix", "AS path", "next hop", "from", "pref", "alt"):
        table.add_column(col, no_wrap=True)
    table.add_column("why chosen", ratio=1)
    for row in rows:
        path = row["as_path"]
        table.add_row(row["prefix"],
                      "[red]unreachable[/]" if path is None else (" ".join(map(str, path)) or "(own)"),
                      f"AS{row['next_hop']}" if row["next_hop"] else "-",
                      row["relationship"] or "-", str(row["local_pref"] or "-"),
                      str(row["alternatives"]), row["why"])
    console.print(table)


def print_inflation(console: Console, name: str, summary: List[Dict[str, Any]]) -> None:
    table = RichTable(title=f"policy inflation in {name}: policy path / shortest path, "
                            "over ordered AS pairs")
    for col in ("metric", "pairs routed", "inflated", "median", "p90", "max", "mean extra"):
        table.add_column(col, justify="right")
    for row in summary:
        share = row["inflated_share"]
        table.add_row(row["metric"], f"{row['routed']}/{row['pairs']}",
                      "-" if share is None else f"{100 * share:.1f}%",
                      *(str(row[k]) for k in ("ratio_median", "ratio_p90", "ratio_max",
                                              "extra_mean")))
    console.print(table)


def print_fidelity(console: Console, name: str, plane: str, backend: str, verdict: Any) -> None:
    table = RichTable(title=f"fidelity of {name} (routers={plane}, links={backend}): measured "
                            "against configured")
    for col in ("pair", "RTT configured", "RTT median", "error", "harness forwarding",
                "jitter conf.", "RTT std", "loss conf.", "loss", "verdict"):
        table.add_column(col, justify="right")
    for s in verdict.samples:
        per_router = f"{s.forwarding_ms / s.routers:.3f}" if s.routers else "-"
        table.add_row(f"{s.src} -> {s.dst}", f"{s.configured_rtt_ms} ms", f"{s.median_rtt_ms} ms",
                      f"{s.error_ms:+.2f} ms" if s.error_ms is not None else "-",
                      f"{s.forwarding_ms} ms ({per_router}/router)",
                      f"{s.expected_jitter_ms} ms", f"{s.rtt_std_ms} ms",
                      f"{100 * s.expected_loss:.1f}%", f"{100 * s.measured_loss:.1f}%",
                      "[green]ok[/]" if not s.problems else "[red]off[/]")
    console.print(table)
    if verdict.forwarding_per_router_ms is not None:
        console.print(f"the harness's own forwarding time: {verdict.forwarding_per_router_ms} ms "
                      "per router crossing (with every delay set to zero)", highlight=False)
    if verdict.throughput:
        t = verdict.throughput
        console.print(f"TCP {t['pair']}: {t.get('mbit', '?')} Mbit/s after slow start "
                      f"(bottleneck configured: {t.get('bottleneck_mbit') or 'none'}"
                      + (f"; {t['ratio']} of the payload it carries)" if "ratio" in t else ")"),
                      highlight=False)
    console.print(f"CPU idle during the measurement: {100 * verdict.cpu_idle:.0f}%" +
                  (f"; taken by the hypervisor: {100 * verdict.cpu_steal:.0f}%"
                   if verdict.cpu_steal >= 0.005 else "") +
                  ("" if verdict.emulator_cpu is None else
                   f"; busiest link emulator process: {100 * verdict.emulator_cpu:.0f}% of a core"))
    for problem in verdict.problems:
        console.print(f"[red]- {problem}[/]", highlight=False)
    console.print("verdict: " + ("[green]ok[/]" if verdict.ok else "[red]degraded[/]"))


def _ms(value: "float | None") -> str:
    return "-" if value is None else f"{value:.2f}"


def print_probe(console: Console, msg: Dict[str, Any]) -> None:
    """One probe, as ping prints it."""
    if msg["rtt_ms"] is None:
        console.print(f"seq={msg['seq']} to {msg['dst']}: [red]no answer[/]", highlight=False)
    else:
        console.print(f"seq={msg['seq']} {msg['reply']} from {msg['from']}: "
                      f"rtt={msg['rtt_ms']:.3f} ms", highlight=False)


def print_ping_summary(console: Console, src: str, dst: str, kind: str, result: Any) -> None:
    stats = result.stats()
    console.print(f"{src} -> {dst} ({kind}): {result.sent} sent, {result.received} answered, "
                  f"{100 * result.loss:.1f}% loss; rtt min/median/mean/max/mdev = "
                  + "/".join(_ms(stats[k]) for k in ("min", "median", "mean", "max", "mdev"))
                  + " ms", highlight=False)


def print_path(console: Console, cmp: Any) -> None:
    """Expected (controller's tables) and observed (traceroute) hops side by side."""
    table = RichTable(title=f"{cmp.src} -> {cmp.dst}: expected by the tables vs traceroute")
    for col in ("ttl", "expected", "AS", "observed", "address", "AS ", "rtt ms", ""):
        table.add_column(col)
    for row in cmp.rows:
        exp = row.expected
        table.add_row(str(row.ttl), exp.node if exp else "-", str(exp.asn) if exp else "",
                      row.node.name if row.node else ("*" if row.addr is None else "?"),
                      row.addr or "*", str(row.node.asn) if row.node else "",
                      " ".join(f"{r:.1f}" for r in row.rtt_ms),
                      "[green]ok[/]" if row.agrees else "[red]differs[/]")
    console.print(table)
    observed, expected = cmp.as_path(True), cmp.as_path(False)
    console.print(f"AS path expected {' '.join(map(str, expected)) or '-'}, observed "
                  f"{' '.join(map(str, observed)) or '-'}", highlight=False)
    if cmp.agrees:
        console.print("[green]the observed path is the expected path[/]")
    elif not cmp.delivered_expected:
        console.print("[red]the tables do not deliver this pair[/]")
    else:
        console.print(f"[red]{len(cmp.disagreements)} hop(s) differ"
                      f"{'' if cmp.reached else '; destination not reached'}[/] "
                      f"(normalised edit distance {cmp.edit_distance():.2f})")


def print_rtt_matrix(console: Console, net: Network, matrix: Dict[Any, Any]) -> None:
    """Host x host median RTT for small networks; per source AS otherwise."""
    hosts = sorted({s for s, _ in matrix} | {d for _, d in matrix})
    if len(hosts) <= 16:
        table = RichTable(title="median RTT in ms (row: from, column: to, by number; x = no "
                                "answer)")
        table.add_column("from")
        for i in range(len(hosts)):
            table.add_column(str(i + 1), justify="right")
        for i, src in enumerate(hosts):
            cells = []
            for dst in hosts:
                result = matrix.get((src, dst))
                median = result.stats()["median"] if result is not None else None
                cells.append("" if result is None else
                             (f"{median:.0f}" if median is not None else "[red]x[/]"))
            table.add_row(f"{i + 1} {src}", *cells)
    else:
        table = RichTable(title="RTT by source AS (all its hosts to every other host)")
        for col in ("AS", "pairs answered", "median ms", "max ms"):
            table.add_column(col, justify="right")
        for asn in sorted({net.hosts[h].asn for h in hosts}):
            rows = [r for (s, _), r in matrix.items() if net.hosts[s].asn == asn]
            rtts = sorted(x for r in rows for x in r.answered)
            table.add_row(str(asn), f"{sum(1 for r in rows if r.received)}/{len(rows)}",
                          _ms(statistics.median(rtts) if rtts else None),
                          _ms(rtts[-1] if rtts else None))
    console.print(table)
    answered = sum(1 for r in matrix.values() if r.received)
    style = "green" if answered == len(matrix) else "red"
    console.print(f"[{style}]{answered}/{len(matrix)} host pairs answered[/]")
