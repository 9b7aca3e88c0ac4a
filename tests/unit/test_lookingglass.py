"""Looking glass, verifier and inflation report through the CLI (no network needed)."""
import csv
import json

from testbed.cli import main
from testbed.control.lookingglass import as_path_attribute, table
from testbed.control.policy import ASGraph, compute
from testbed.model import load_topology
from testbed.model.network import Policy


def test_lg_json_explains_every_destination(topo_path, capsys):
    assert main(["lg", str(topo_path("policy-detour")), "--as", "100", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["100"]
    by_prefix = {r["prefix"]: r for r in rows}
    net = load_topology(topo_path("policy-detour"))
    east = by_prefix[str(net.ases[200].prefix)]
    assert east["as_path"] == [10, 1, 2, 20, 200] and east["relationship"] == "provider"
    assert by_prefix[str(net.ases[100].prefix)]["why"] == "own prefix"
    assert all(r["why"] for r in rows)


def test_lg_says_why_a_destination_is_unreachable():
    g = ASGraph.build([1, 2, 3], [], [(1, 3), (2, 3)])
    routes = compute(g)

    class Net:  # the looking glass needs only the AS prefixes
        ases = {asn: type("A", (), {"prefix": f"10.{asn}.0.0/16"}) for asn in (1, 2, 3)}
    rows = {r["prefix"]: r for r in table(Net, routes, 1)}
    assert rows["10.2.0.0/16"]["as_path"] is None
    assert "valley-free" in rows["10.2.0.0/16"]["why"]


def test_as_path_shows_prepends():
    g = ASGraph.build([1, 5], [(1, 5)], [], {5: Policy(prepend={1: 2})})
    routes = compute(g)
    assert as_path_attribute(routes, routes.path(0, 1)) == [5, 5, 5]


def test_verify_finds_no_violation_in_bundled_topologies(topo_path, capsys):
    for name in ("tiered-8as", "internet-50", "policy-detour", "line-3as"):
        assert main(["lg", str(topo_path(name)), "--verify"]) == 0
        assert "0 violation(s)" in capsys.readouterr().out


def test_lg_unknown_as_is_a_clear_error(topo_path, capsys):
    assert main(["lg", str(topo_path("tiered-8as")), "--as", "999"]) == 2
    assert "no AS 999" in capsys.readouterr().err


def test_inflation_csv_and_the_detour(topo_path, tmp_path, capsys):
    out = tmp_path / "inflation.csv"
    assert main(["inflation", str(topo_path("policy-detour")), "--csv", str(out)]) == 0
    rows = {(int(r["src_as"]), int(r["dst_as"])): r for r in csv.DictReader(out.open())}
    assert len(rows) == 8 * 7
    detour = rows[(100, 200)]
    assert float(detour["latency_policy_ms"]) > 5 * float(detour["latency_min_ms"])
    assert int(detour["as_hops_policy"]) > int(detour["as_hops_min"])
    assert "latency (ms)" in capsys.readouterr().out
