"""`testbed draw`: tiers, a layout without overlapping AS boxes and with every provider
above its customers, the files it writes, and one clear error per bad argument."""
from pathlib import Path

import pytest

from testbed.cli import main
from testbed.model import load_topology
from testbed.model.drawing import dot, draw, layout, overlapping_boxes, tiers

TOPOLOGIES = Path(__file__).resolve().parents[2] / "topologies"


def test_tiers_follow_the_provider_customer_graph():
    net = load_topology(TOPOLOGIES / "tiered-8as.yaml")
    assert tiers(net) == {1: 0, 2: 0, 10: 1, 20: 1, 30: 1, 100: 2, 200: 2, 300: 2}


@pytest.mark.parametrize("name", ["tiered-8as", "internet-50", "internet-200"])
def test_no_boxes_overlap_and_providers_are_above_their_customers(name):
    net = load_topology(TOPOLOGIES / f"{name}.yaml")
    lay = layout(net, "as")
    assert overlapping_boxes(lay) == []
    for link in net.links:
        if link.relationship in ("provider-customer", "customer-provider"):
            p, c = net.asn_of(link.a), net.asn_of(link.b)
            if link.relationship == "customer-provider":
                p, c = c, p
            assert lay.centre[p][1] > lay.centre[c][1], (p, c)
    xs = sorted(x for x, _ in lay.centre.values())
    assert max(xs) - min(xs) < 20  # a wide tier wraps into rows of 20


def test_overlapping_boxes_are_found():
    lay = layout(load_topology(TOPOLOGIES / "tiered-8as.yaml"), "as")
    lay.centre[10] = (lay.centre[20][0] + 0.1, lay.centre[20][1] + 0.1)
    assert overlapping_boxes(lay) == [(10, 20)]


def test_the_router_level_places_every_router_and_host_in_its_box():
    net = load_topology(TOPOLOGIES / "tiered-8as.yaml")
    lay = layout(net, "router")
    for node, (x, y) in lay.nodes.items():
        x0, y0, x1, y1 = lay.box(net.asn_of(node))
        assert x0 < x < x1 and y0 < y < y1, node
    assert set(lay.nodes) == set(net.routers) | set(net.hosts)


def test_files_of_every_kind(tmp_path):
    net = load_topology(TOPOLOGIES / "tiered-8as.yaml")
    svg = draw(net, tmp_path / "t.svg", down=[("as20.r1", "as200.r1")], dead=["as30.r2"])
    assert svg.read_text().startswith("<?xml")
    assert draw(net, tmp_path / "t.png", level="as").read_bytes()[:4] == b"\x89PNG"
    assert draw(net, tmp_path / "one.png", asn=200).stat().st_size > 1000
    text = dot(net, "as")
    assert '{ rank=same; "AS1"; "AS2"; }' in text
    assert '"AS10" -> "AS100" [dir=forward' in text
    assert '"AS1" -> "AS2" [dir=none, style=dashed' in text


def test_cli_errors_are_one_line_and_exit_2(tmp_path, capsys):
    topo = str(TOPOLOGIES / "tiered-8as.yaml")
    assert main(["draw", topo, "-o", str(tmp_path / "t.svg")]) == 0
    assert (tmp_path / "t.svg").is_file()
    for argv, words in ((["-o", str(tmp_path / "none" / "t.svg")], "not writable"),
                        (["-o", str(tmp_path / "t.gif")], "must end in"),
                        (["--as", "7"], "no AS 7 in tiered-8as")):
        assert main(["draw", topo, *argv]) == 2
        err = capsys.readouterr().err
        assert words in err and "Traceback" not in err, err
