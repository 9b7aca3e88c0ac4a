"""Overlay paths against the underlay's routers (experiment/divergence.py)."""
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest

from testbed.experiment.divergence import pair_metrics, pair_values
from testbed.model import load_topology

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture()
def run(tmp_path):
    (tmp_path / "inputs").mkdir()
    shutil.copy(ROOT / "topologies" / "policy-detour.yaml", tmp_path / "inputs" / "topology.run.yaml")
    return SimpleNamespace(path=tmp_path)


def test_direct_choice_has_no_divergence_and_a_relay_has_some(run):
    net = load_topology(ROOT / "topologies" / "policy-detour.yaml")
    ip = {name: h.ip for name, h in net.hosts.items()}
    records = [
        # an early report, then the settled one: only the last per pair counts
        {"host": "as100.h1", "metric": "stretch", "value": 1.0, "dst_ip": ip["as200.h1"], "via_ips": []},
        {"host": "as100.h1", "metric": "stretch", "value": 0.3, "dst_ip": ip["as200.h1"],
         "via_ips": [ip["as300.h1"]]},
        {"host": "as10.h1", "metric": "stretch", "value": 1.0, "dst_ip": ip["as100.h1"], "via_ips": []},
        {"host": "as10.h1", "metric": "rtt_ms", "value": 5},
    ]
    values = pair_values(run, records)
    assert len(values) == 2
    relayed = next(v for v in values if v["stretch"] == 0.3)
    direct = next(v for v in values if v["stretch"] == 1.0)
    assert direct["divergence_links"] == 0 and direct["divergence_edit"] == 0
    # as100 -> as10 -> as1 -> as2 -> as20 -> as200 against as100 -> as10 -> as300 -> as20 -> as200
    assert 0 < relayed["divergence_links"] < 1 and 0 < relayed["divergence_edit"] <= 1
    m = pair_metrics(run, records)
    assert m["pairs"] == 2 and m["pairs_stretch_below_1"] == 0.5
    assert m["stretch_median"] == pytest.approx(0.65)


def test_no_path_reports_no_metrics(run):
    assert pair_metrics(run, [{"host": "as1.h1", "metric": "rtt_ms", "value": 1}]) == {}
