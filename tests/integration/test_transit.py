"""Transit accounting on a real network: the bytes the inter-AS link counters saw equal
what the probes sent (within 1%), and the 95th-percentile bill is the rate times the
price, on both link back ends' default here and the Linux and OVS data planes."""
import os
from pathlib import Path

import pytest
import yaml

from experiment_run import run_experiment
from throttling import check_throttle, edge_frames, run_throttle

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")


@pytest.mark.parametrize("dataplane", ["linux", "openflow"])
def test_counted_bytes_equal_the_sent_bytes_and_the_bill_follows(tmp_path, dataplane):
    topo = yaml.safe_load((ROOT / "topologies/line-3as.yaml").read_text())
    for link in topo["inter_as_links"]:
        link["price"] = 10.0  # USD per Mbit/s per month
    topo["emulation"] = {**topo.get("emulation", {}), "dataplane": dataplane}
    (tmp_path / "priced.yaml").write_text(yaml.safe_dump(topo))
    (tmp_path / "exp.yaml").write_text("""
name: transit
topology: priced.yaml
duration: 6s
metrics: [rtt, loss, transit]
workloads:
  - {name: load, from: as100.h1, to: as300.h1, rate: 50, size: 1000}
""")
    run, metrics = run_experiment(tmp_path / "exp.yaml", tmp_path / "r", timeout=300)
    m = metrics["per_trial"]["1"]
    frame = 1000 + 14  # the IP packet in its Ethernet frame, as the interfaces count it
    sent = m["load.sent"] * frame / 1e6
    assert m["transit.mbytes.as100>as200"] == pytest.approx(sent, rel=0.01)
    assert m["transit.mbytes.as200>as300"] == pytest.approx(sent, rel=0.01)
    rate = 50 * frame * 8 / 1e6  # Mbit/s each way, every second of the run
    assert m["transit.bill_usd.as100"] == pytest.approx(rate * 10, rel=0.05)
    assert m["transit.bill_usd.as300"] == pytest.approx(rate * 10, rel=0.05)
    assert m["transit.revenue_usd.as200"] == pytest.approx(2 * rate * 10, rel=0.05)
    assert m["transit.bill_usd.as200"] == 0  # no provider


@pytest.mark.parametrize("dataplane", ["linux", "openflow"])
def test_throttle_and_block_on_the_userspace_link_emulator(tmp_path, dataplane):
    m, actions, run = run_throttle(tmp_path, "userspace", dataplane)
    check_throttle(m, actions, edges=edge_frames(run))
    # the emulator counts classes: the flow is nearly all of as300's inter-AS bytes
    assert m["transit.share.app.as300"] > 0.95
    assert (m["transit.blocked.share.app.as300"] or 0) < 0.05


def test_ron_tussle_meets_its_expectations(tmp_path):
    """The bundled experiment as the README runs it: the campus's bill rises with the
    RON relay and falls after its throttle, and the report says who pays."""
    run, metrics = run_experiment(ROOT / "experiments/ron-tussle.yaml", tmp_path)
    m = metrics["per_trial"]["1"]
    assert m["transit.with_ron.bill_usd.as300"] > 5 * m["transit.throttled.bill_usd.as300"]
    assert m["transit.with_ron.share.ron.as300"] > 0.9
    report = (run / "report.md").read_text()
    assert "## Who pays" in report and "| AS300 | 10, 20 | – | – |" in report
    assert (run / "plots" / "transit.png").is_file()
