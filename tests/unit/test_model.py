"""The topology model: bundled files, units, defaults and the deterministic address plan."""
import ipaddress
import json

import pytest

from testbed.cli import main
from testbed.model import json_schema, load_topology, parse_topology
from testbed.model import units
from testbed.model.synthetic import generate, to_yaml

BUNDLED = ["line-3as", "tiered-8as", "internet-50"]


@pytest.mark.parametrize("name", BUNDLED)
def test_bundled_topologies_validate_and_carry_the_schema_line(topo_path, name):
    net = load_topology(topo_path(name))
    assert net.name == name
    assert topo_path(name).read_text().startswith("# yaml-language-server: $schema=")


def test_internet_50_size(topo_path):
    net = load_topology(topo_path("internet-50"))
    assert len(net.ases) == 50 and 110 <= len(net.routers) <= 130 and len(net.hosts) == 100


def test_generator_is_seeded_and_the_bundled_file_is_current(topo_path):
    assert to_yaml(generate(50, 1)) == topo_path("internet-50").read_text()
    assert generate(50, 2) != generate(50, 1)


def test_committed_schema_is_current(topo_path):
    committed = json.loads((topo_path("x").parent / "topology.schema.json").read_text())
    assert committed == json_schema()


def test_schema_command_prints_json(capsys):
    assert main(["schema"]) == 0
    assert json.loads(capsys.readouterr().out)["title"] == "testbed topology"


@pytest.mark.parametrize("text,ms", [("5ms", 5), ("1.5ms", 1.5), ("1s", 1000), ("250us", 0.25),
                                     (3, 3), ("0", 0)])
def test_durations(text, ms):
    assert units.parse_ms(text) == pytest.approx(ms)


@pytest.mark.parametrize("text,mbit", [("100Mbit", 100), ("1Gbit", 1000), ("512kbit", 0.512),
                                       (10, 10), ("2gbps", 2000)])
def test_rates(text, mbit):
    assert units.parse_mbit(text) == pytest.approx(mbit)


@pytest.mark.parametrize("bad", ["5", "abc", True, "-1%"])
def test_bad_percentages(bad):
    if bad == "5":
        assert units.parse_percent(bad) == 5
    else:
        with pytest.raises(ValueError):
            units.parse_percent(bad)


def test_defaults_layer_file_as_link(topo_path):
    net = load_topology(topo_path("line-3as"))
    by_ends = {(l.a, l.b): l for l in net.links}
    assert by_ends[("as100.r1", "as100.r2")].props.delay_ms == 2  # file default
    assert by_ends[("as200.r1", "as200.r2")].props.delay_ms == 5  # AS default
    assert by_ends[("as200.r1", "as200.r3")].props.delay_ms == 12  # link's own
    assert by_ends[("as200.r1", "as200.r2")].props.bandwidth_mbit == 100  # file default kept
    assert by_ends[("as200.r3", "as300.r1")].props.loss_pct == 0.1


def test_address_plan(topo_path):
    net = load_topology(topo_path("line-3as"))
    assert str(net.ases[100].prefix) == "10.1.0.0/16"
    assert str(net.ases[200].prefix) == "10.200.0.0/16"  # explicit
    assert str(net.ases[300].prefix) == "10.2.0.0/16"  # next free block in ASN order
    r1 = net.routers["as100.r1"]
    assert str(r1.lan) == "10.1.1.0/24" and r1.gateway == "10.1.1.1"
    assert net.hosts["as100.h1"].ip == "10.1.1.2"
    assert net.hosts["as300.h1"].ip == "10.2.1.100"  # explicit
    inter = [l for l in net.links if l.kind == "inter"]
    # customer links are numbered from the provider's (as200's) prefix
    assert all(l.subnet.subnet_of(net.ases[200].prefix) for l in inter)
    addresses = [i.ip for i in net.interfaces.values() if i.prefixlen >= 30] + \
                [h.ip for h in net.hosts.values()]
    assert len(addresses) == len(set(addresses))
    macs = [i.mac for i in net.interfaces.values()] + [h.mac for h in net.hosts.values()]
    assert len(macs) == len(set(macs))


def test_plan_is_deterministic(topo_path):
    text = topo_path("internet-50").read_text()
    a, b = parse_topology(text, "a"), parse_topology(text, "a")
    assert a.links == b.links and a.hosts == b.hosts and a.interfaces == b.interfaces


def test_ports_are_dense_per_router(topo_path):
    net = load_topology(topo_path("tiered-8as"))
    for router in net.routers:
        ports = [i.port for i in net.router_interfaces(router)]
        assert ports == list(range(1, len(ports) + 1))


def test_link_subnets_do_not_overlap_lans(topo_path):
    net = load_topology(topo_path("internet-50"))
    nets = [r.lan for r in net.routers.values()] + \
           [l.subnet for l in net.links if l.kind != "access"]
    for i, a in enumerate(nets):
        for b in nets[i + 1:]:
            assert not a.overlaps(b), (a, b)
    assert all(isinstance(n, ipaddress.IPv4Network) for n in nets)
