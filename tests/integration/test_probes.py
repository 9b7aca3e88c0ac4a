"""Probes in real namespaces: agreement with iputils ping, every kind answered, rate.
(Traceroute against the tables and the matrix run on tiered-8as in test_underlay.)"""
import re
import statistics
import threading

import pytest

from testbed.model import load_topology
from testbed.underlay.emulation import Underlay


@pytest.fixture(scope="module")
def line(topo_path, plane):
    with Underlay(load_topology(topo_path("line-3as")), dataplane=plane) as underlay:
        yield underlay


def test_probe_rtt_agrees_with_iputils_ping(line):
    """Median of 100, both at once on the same path, so both see the same network. Ours at
    19/s against ping's 20/s: the phase between the two streams drifts through a whole
    cycle every second, so neither always meets the switches' and emulator's busy moments
    (at equal rates a fixed phase put 0.77 ms between the medians on as200.h1)."""
    dst = line.net.hosts["as100.h2"].ip
    out = {}
    pinger = threading.Thread(target=lambda: out.update(
        text=line.run("as100.h1", f"ping -n -c 100 -i 0.05 {dst}")))
    pinger.start()
    ours = line.prober("as100.h1").ping(dst, count=100, rate=19)
    pinger.join()
    theirs = [float(x) for x in re.findall(r"time=([\d.]+) ms", out["text"])]
    assert len(theirs) >= 95 and ours.received >= 95
    assert abs(statistics.median(ours.answered) - statistics.median(theirs)) <= 0.2, \
        (statistics.median(ours.answered), statistics.median(theirs))


@pytest.mark.parametrize("kind,reply", [("icmp", "echo-reply"), ("udp", "port-unreachable"),
                                        ("tcp", "rst")])
def test_every_kind_is_answered_by_the_destination(line, kind, reply):
    dst = line.net.hosts["as300.h1"].ip
    msgs = list(line.prober("as100.h1").start("ping", dst=[dst], kind=kind, count=5, rate=50))
    probes = [m for m in msgs if m["type"] == "probe"]
    assert len(probes) == 5 and msgs[-1]["type"] == "done"
    assert all(m["reply"] == reply and m["from"] == dst and m["rtt_ms"] > 60 for m in probes)
    assert all(m["recv_ns"] > m["sent_ns"] for m in probes)


def test_a_thousand_probes_per_second_sustained(line):
    dst = line.net.hosts["as100.h2"].ip
    msgs = [m for m in line.prober("as100.h1").start("ping", dst=[dst], count=3000, rate=1000)
            if m["type"] == "probe"]
    sent = sorted(m["sent_ns"] for m in msgs)
    achieved = (len(sent) - 1) / ((sent[-1] - sent[0]) / 1e9)
    answered = sum(m["rtt_ms"] is not None for m in msgs)
    assert achieved >= 950 and answered >= 0.99 * len(msgs), (achieved, answered)
