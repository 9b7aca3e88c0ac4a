"""The pure parts of packet capture and the live view: which links a capture target
names (and the problems of one that names nothing), /proc/net/dev counters and rates."""
from pathlib import Path

from testbed.measure.counters import Count, parse_dev, rates, totals
from testbed.model import load_topology
from testbed.underlay.capture import parse_cli, points, problems

NET = load_topology(Path(__file__).resolve().parents[2] / "topologies" / "tiered-8as.yaml")


def test_targets_name_links_once_at_their_a_end():
    assert len(points(NET, ["all"])) == len(NET.links)
    host = points(NET, ["as100.h1"])
    assert [(p.node, p.interface) for p in host] == [("as100.h1", "tbh6")]
    assert host[0].label == "as100.h1_as100.r1"
    router = points(NET, ["as200.r1"])
    assert {p.label for p in router} == {"as200.h1_as200.r1", "as200.r1_as200.r2",
                                         "as20.r1_as200.r1"}
    both = points(NET, ["as200.r1", ["as20.r1", "as200.r1"], "as200.h1"])
    assert [p.label for p in both] == [p.label for p in router]  # each link once


def test_targets_that_name_nothing():
    got = list(problems(NET, ["all", "as7.h1", ["as1.r1", "as300.r1"], ["as1.r1"],
                              ["as1.r1", "as1.r9"]]))
    assert got[0][:2] == (1, "no node 'as7.h1' in tiered-8as")
    assert got[1][:2] == (2, "no link between as1.r1 and as300.r1")
    assert got[2][:2] == (3, "a link is the two nodes at its ends: [a, b]")
    assert got[3][0] == 4 and "as1.r9" in got[3][1] and "did you mean" in got[3][2]
    assert len(got) == 4
    assert parse_cli("as20.r1,as200.r1") == ["as20.r1", "as200.r1"]
    assert parse_cli("as100.h1") == "as100.h1" and parse_cli("all") == "all"


DEV = """Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:       0       0    0    0    0     0          0         0        0       0    0    0    0     0       0          0
  tbh6: 1250000    1000    0    2    0     0          0         0  2500000    2000    0    1    0     0       0          0
"""


def test_proc_net_dev_and_rates():
    counts = parse_dev(DEV)
    assert counts["tbh6"] == Count(1250000, 1000, 2500000, 2000, 3)
    before = {0: Count(0, 0, 0, 0, 0), 1: Count(0, 0, 0, 0, 0)}
    after = {0: counts["tbh6"], 1: Count(125000, 10, 0, 0, 0)}
    rows = rates(before, after, 2.0, {0: "a - b", 1: "c - d"})
    assert rows[0].link == "a - b"  # busiest first
    assert (rows[0].a_to_b_mbit, rows[0].b_to_a_mbit) == (10.0, 5.0)
    assert (rows[0].packets_s, rows[0].drops_s) == (1500.0, 1.5)
    assert totals(rows) == (15.5, 1.5)
