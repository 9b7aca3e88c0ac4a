"""The live view of a running network (`top` in the testbed shell): what a user watches
while a link fails and traffic shifts. Counters come from measure/counters.py; the
control plane's view (links down, AS pairs without a route) from the controller's last
events; CPU from /proc (ovs-vswitchd) and the link emulator's own busy time (it polls while
frames are in flight, so its CPU time says nothing about its load)."""
from __future__ import annotations

import subprocess
import time
from typing import Any, Dict, List, Optional

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table

from ..measure.counters import Count, Rate, rates, totals
from ..process import process_cpu_seconds

ROWS = 15  # busiest links shown


def _ovs_pid() -> Optional[int]:
    out = subprocess.run(["pidof", "ovs-vswitchd"], capture_output=True, text=True).stdout
    return int(out.split()[0]) if out.split() else None


def _cpu_seconds(underlay: Any, ovs: Optional[int]) -> Dict[str, Optional[float]]:
    """Seconds each link emulator process spent on frames (numbered where there are
    several), and ovs-vswitchd's CPU seconds."""
    busy = [b for b, _ in underlay.emulator_seconds() or []]
    out: Dict[str, Optional[float]] = {
        "link emulator" + (f" {k}" if len(busy) > 1 else ""): b for k, b in enumerate(busy)}
    out["ovs-vswitchd"] = process_cpu_seconds(ovs) if ovs else None
    return out


def view(rows: List[Rate], links: int, down: int, no_route: int, pairs: int,
         cpu: Dict[str, Optional[float]], elapsed: float) -> Group:
    mbit, drops = totals(rows)
    table = Table(title=f"busiest links of {links} (a - b: a -> b and b -> a)",
                  title_justify="left")
    for col in ("link", "a->b Mbit/s", "b->a Mbit/s", "packets/s", "drops/s"):
        table.add_column(col, justify="left" if col == "link" else "right")
    for r in rows[:ROWS]:
        table.add_row(r.link, f"{r.a_to_b_mbit:.3f}", f"{r.b_to_a_mbit:.3f}",
                      f"{r.packets_s:.0f}", f"[red]{r.drops_s:.0f}[/]" if r.drops_s else "0")
    load = ", ".join(f"{name} {v * 100:.0f}% of a core" for name, v in cpu.items()
                     if v is not None) or "n/a"
    status = (f"t={elapsed:.0f} s  all links {mbit:.3f} Mbit/s, {drops:.0f} drops/s  |  "
              f"links down {down}  |  AS pairs without a route {no_route} of {pairs}  |  "
              f"CPU: {load}")
    return Group(status, table)


def watch(console: Console, underlay: Any, seconds: float, every: float = 1.0) -> None:
    names = {link.index: f"{link.a} - {link.b}" for link in underlay.net.links}
    ovs = _ovs_pid()
    started = time.monotonic()
    before: Dict[int, Count] = underlay.link_counters()
    cpu_before = _cpu_seconds(underlay, ovs)
    t_before = started
    try:
        with Live(console=console, refresh_per_second=4, transient=False) as live:
            while time.monotonic() - started < seconds:
                time.sleep(every)
                now = time.monotonic()
                after = underlay.link_counters()
                rows = rates(before, after, now - t_before, names)
                cpu_after = _cpu_seconds(underlay, ovs)
                cpu = {k: (cpu_after[k] - cpu_before[k]) / (now - t_before)
                       if cpu_after[k] is not None and cpu_before[k] is not None else None
                       for k in cpu_after}
                state = underlay.routing_state()
                routes = state.as_routes()
                n = len(routes.graph.asns)
                no_route = int((routes.nh < 0).sum())
                live.update(view(rows, len(names), len(state.down), no_route,
                                 n * (n - 1), cpu, now - started))
                before, cpu_before, t_before = after, cpu_after, now
    except KeyboardInterrupt:
        pass

