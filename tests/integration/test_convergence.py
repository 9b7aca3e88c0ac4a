"""Failures on a real network: intra-AS detours at once, inter-AS only after the
convergence delay (black hole in between), with the events to show it."""
import re
import time
from pathlib import Path

import pytest

from testbed.control.routes import forward_path
from testbed.model import load_topology
from testbed.underlay.controller import event_named
from testbed.underlay.emulation import Underlay

TOPOLOGY = Path(__file__).resolve().parent.parent / "data" / "convergence.yaml"
DELAY_S = 2.0
INTERVAL_S = 0.05


@pytest.fixture
def underlay(plane):
    with Underlay(load_topology(TOPOLOGY), dataplane=plane) as u:
        yield u


def _longest_gap(underlay, cut, tmp_path, seconds=6, cut_at=1.5):
    """Ping as1.h1 -> as100.h1 every 50 ms; cut at `cut_at`; the longest reply gap in s."""
    dst = underlay.net.hosts["as100.h1"].ip
    out = tmp_path / "ping.txt"
    underlay.run("as1.h1", f"ping -D -n -i {INTERVAL_S} -w {int(seconds)} {dst} > {out} 2>&1 &")
    time.sleep(cut_at)
    cut() if callable(cut) else underlay.set_link(*cut, up=False)
    time.sleep(seconds - cut_at + 0.5)
    stamps = [float(m.group(1)) for m in re.finditer(r"^\[(\d+\.\d+)\] \d+ bytes from", out.read_text(), re.M)]
    assert len(stamps) > 10, out.read_text()[-500:]
    return max(b - a for a, b in zip(stamps, stamps[1:]))


def test_inter_as_cut_black_holes_for_the_convergence_delay(underlay, tmp_path):
    net = underlay.net
    before = forward_path(net, underlay.routing_state().tables(), "as1.h1", net.hosts["as100.h1"].ip)[0]
    assert "as10.r1" in before
    gap = _longest_gap(underlay, ("as10.r1", "as100.r1"), tmp_path)
    assert DELAY_S * 0.9 <= gap <= DELAY_S * 1.1 + INTERVAL_S, gap
    events = underlay.controller.events
    down = next(e for e in events if e["event"] == "link_down")
    bgp = underlay.controller.wait_for(event_named("bgp_converged"), 5)
    assert bgp["t"] - down["t"] == pytest.approx(DELAY_S, rel=0.1)
    igp = next(e for e in events if e["event"] == "igp_updated")
    assert igp["t"] - down["t"] < 0.5


def test_intra_as_cut_detours_at_once(underlay, tmp_path):
    gap = _longest_gap(underlay, ("as1.r1", "as1.r2"), tmp_path, seconds=4)
    assert gap < 0.5, gap  # no BGP delay: the IGP reroutes r1 -> r3 -> r2 at once


def test_router_failure_is_routed_around_after_convergence(underlay, tmp_path):
    gap = _longest_gap(underlay, lambda: underlay.set_router("as10.r1", up=False), tmp_path)
    assert DELAY_S * 0.9 <= gap <= DELAY_S * 1.1 + INTERVAL_S, gap
    downs = [e for e in underlay.controller.events if e["event"] == "link_down"]
    assert {(e["a"], e["b"]) for e in downs} == {("as1.r2", "as10.r1"), ("as10.r1", "as100.r1")}
    underlay.controller.wait_for(event_named("bgp_converged"), 5)
    state = underlay.routing_state()
    g = state.as_routes().graph
    assert state.as_routes().path(g.index(1), g.index(100)) == [1, 20, 100]
