"""Expected path properties from the configuration (what fidelity is measured against)."""
import dataclasses

import pytest

from testbed.control.routes import forwarding_tables
from testbed.measure.paths import one_way
from testbed.model import load_topology


def test_line_3as_one_way_delay_loss_and_bottleneck(topo_path):
    net = load_topology(topo_path("line-3as"))
    spec = one_way(net, forwarding_tables(net), "as100.h1", "as300.h1")
    # access 2 + as100 r1-r2 2 + inter 8 + as200 r1-r2 5 + r2-r3 5 + inter 8 + access 2
    assert spec.delay_ms == pytest.approx(32)
    assert len(spec.links) == 7
    assert spec.loss == pytest.approx(0.001)  # 0.1% on the as200-as300 link
    assert spec.bottleneck_mbit == 100


def test_runtime_properties_override_the_file(topo_path):
    net = load_topology(topo_path("line-3as"))
    tables = forwarding_tables(net)
    props = {l.index: l.props for l in net.links}
    spec = one_way(net, tables, "as100.h1", "as300.h1", props)
    first = spec.links[1]
    props[first] = dataclasses.replace(props[first], delay_ms=10, jitter_ms=3)
    changed = one_way(net, tables, "as100.h1", "as300.h1", props)
    assert changed.delay_ms == pytest.approx(40) and changed.jitter_ms == pytest.approx(3)


def test_unreachable_gives_none():
    from testbed.model import parse_topology
    net = parse_topology("""
name: v
ases:
  - {asn: 1, routers: [r1], hosts: [{name: h1, router: r1}]}
  - {asn: 2, routers: [r1], hosts: [{name: h1, router: r1}]}
  - {asn: 3, routers: [r1]}
inter_as_links:
  - {a: as1.r1, b: as3.r1, relationship: peer-peer}
  - {a: as2.r1, b: as3.r1, relationship: peer-peer}
""", "v.yaml")
    assert one_way(net, forwarding_tables(net), "as1.h1", "as2.h1") is None
