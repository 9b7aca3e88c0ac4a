"""Transit billing against hand-computed bills: the 95th percentile, bins from counter
samples, each AS's bill on a priced topology, and the runner's accounting on a fake
underlay turned into metrics."""
import textwrap

import pytest

from testbed.experiment.loader import load_experiment
from testbed.experiment.results import finish_run
from testbed.experiment.runner import Runner
from testbed.measure.billing import (bills, binned_mbit, class_mbytes, link_charge, percentile95,
                                     unpaid_mbytes)
from testbed.model import InvalidInput, parse_topology

from fake_underlay import FakeUnderlay

PRICED = """
name: priced
ases:
  - {asn: 1, routers: [{name: r1}], hosts: [{name: h1, router: r1}]}
  - {asn: 2, routers: [{name: r1}], hosts: [{name: h1, router: r1}]}
  - {asn: 3, routers: [{name: r1}], hosts: [{name: h1, router: r1}]}
inter_as_links:
  - {a: as1.r1, b: as2.r1, relationship: provider-customer, price: 10}
  - {a: as3.r1, b: as1.r1, relationship: customer-provider, price: 2}
  - {a: as2.r1, b: as3.r1, relationship: peer-peer, peering_cost: 100}
"""


def test_the_95th_percentile_drops_the_top_5_percent():
    assert percentile95(list(range(1, 21))) == 19  # 20 samples: the top one dropped
    assert percentile95(list(range(1, 101))) == 95
    assert percentile95(list(range(1, 8641))) == 8208  # a month of 5-minute samples
    assert percentile95([7, 1, 3]) == 7 and percentile95([]) == 0.0


def test_bins_from_cumulative_counters():
    mb = 125_000  # bytes in one megabit
    samples = [(0.0, 0, 0), (1.01, mb, 0), (2.0, 2 * mb, mb), (3.02, 2 * mb, mb),
               (4.0, 10 * mb, 2 * mb)]
    ab, ba = binned_mbit(samples, 1.0)
    assert [round(x, 2) for x in ab] == [0.99, 1.01, 0.0, 8.16]
    ab, ba = binned_mbit(samples, 2.0)  # bins end at 1.01, 3.02, 4.0
    assert [round(x, 3) for x in ab] == [0.498, 8.163] and [round(x, 3) for x in ba] == \
        [0.498, 1.02]


def test_each_as_pays_its_providers_95th_percentile_and_its_peerings():
    net = parse_topology(PRICED)
    link = {(x.a, x.b): x.index for x in net.links if x.kind == "inter"}
    mb = 125_000
    # as1 -> as2: 19 seconds at 1 Mbit/s and one at 100: billed 1 Mbit/s (the burst is
    # in the top 5%); back 3 Mbit/s throughout: the larger direction is billed
    ab = [0]
    for k in range(20):
        ab.append(ab[-1] + (100 if k == 7 else 1) * mb)
    samples = {link[("as1.r1", "as2.r1")]: [(float(t), ab[t], 3 * mb * t) for t in range(21)],
               link[("as3.r1", "as1.r1")]: [(float(t), 5 * mb * t, 0) for t in range(21)]}
    got = bills(net, samples, 1.0)
    assert got[2].pays == pytest.approx(3 * 10 + 100)  # transit to as1, and its peering
    assert got[3].pays == pytest.approx(5 * 2 + 100)
    assert got[1].pays == 0 and got[1].paid == pytest.approx(30 + 10)
    assert got[1].net_cost == pytest.approx(-40)


def test_prices_belong_on_the_right_links():
    bad = PRICED.replace("peering_cost: 100", "price: 5").replace(
        "relationship: customer-provider, price: 2", "relationship: customer-provider, "
        "peering_cost: 2, price: -1")
    with pytest.raises(InvalidInput) as exc:
        parse_topology(bad, "priced.yaml")
    text = "\n".join(str(d) for d in exc.value.diagnostics)
    assert "priced.yaml:9:" in text and "greater than or equal to 0" in text
    assert "priced.yaml:10:" in text and "settlement-free" in text


def test_the_runner_accounts_inter_as_links_and_bills_them(tmp_path):
    (tmp_path / "priced.yaml").write_text(PRICED)
    (tmp_path / "exp.yaml").write_text(textwrap.dedent("""\
        name: billed
        topology: priced.yaml
        duration: 3s
        metrics: [transit]
        expect:
          - {metric: transit.bill_usd.as2, op: ">", value: 100}
        """))
    plan = load_experiment(tmp_path / "exp.yaml")
    outcome = Runner(plan, tmp_path / "results", make_underlay=FakeUnderlay).execute()
    metrics = finish_run(outcome.run)["per_trial"]["1"]
    # the fake counts 1 MB a -> b and 0.5 MB back per sample, one sample a second:
    # 8 Mbit/s on every inter-AS link
    assert metrics["transit.bill_usd.as2"] == pytest.approx(8 * 10 + 100, rel=0.05)
    assert metrics["transit.revenue_usd.as1"] == pytest.approx(8 * 10 + 8 * 2, rel=0.05)
    assert metrics["transit.mbytes.as1>as2"] == pytest.approx(3, abs=1)
    assert metrics["transit.mbytes.as2>as1"] == pytest.approx(1.5, abs=0.5)
    assert (outcome.run / "plots" / "transit.png").is_file()
    assert [e["passed"] for e in finish_run(outcome.run)["expectations"]] == [True]


def test_a_reprice_bills_each_period_at_its_price_pro_rata():
    mb = 125_000
    # 2 Mbit/s for the first 10 s at price 10, then 4 Mbit/s for 10 s at price 1
    rows, total = [], 0
    for t in range(21):
        rows.append((float(t), total, 0))
        total += (2 if t < 10 else 4) * mb
    rate, amount = link_charge(rows, 1.0, 10.0, [(10.0, 1.0)])
    assert rate == 4.0  # the whole run's 95th percentile
    assert amount == pytest.approx(2 * 10 * 0.5 + 4 * 1 * 0.5)
    assert link_charge(rows, 1.0, 10.0, [(0.0, 3.0)])[1] == pytest.approx(4 * 3)
    assert link_charge(rows, 1.0, 10.0)[1] == pytest.approx(4 * 10)


def test_an_overlay_relay_creates_unpaid_transit_in_the_valley():
    net = parse_topology(PRICED)
    # as3 is a customer of as1 and a peer of as2: overlay bytes in from as1 (its
    # provider) and out to as2 (its peer) are carried for others, unpaid
    by_class = {(1, 3, "ron"): 5.0, (3, 2, "ron"): 4.0, (2, 3, "ron"): 1.0,
                (3, 1, "underlay"): 7.0, (1, 3, "underlay"): 7.0}
    got = unpaid_mbytes(net, by_class, ["ron"])
    assert got[3] == pytest.approx(4.0)  # in from as1, out to as2 (of 5 in, 4 out)
    assert got[1] == 0  # it only receives, from its customer
    assert got[2] == 0  # in from as3 and back to as3: a member, not a relay


def test_class_bytes_per_as_pair_from_cumulative_samples():
    net = parse_topology(PRICED)
    link = next(x for x in net.links if (x.a, x.b) == ("as1.r1", "as2.r1"))
    rows = [(0.0, {"ron": [1_000_000, 0]}), (5.0, {"ron": [3_000_000, 500_000],
                                                  "underlay": [100, 0]})]
    got = class_mbytes(net, {link.index: rows})
    assert got == {(1, 2, "ron"): 2.0, (2, 1, "ron"): 0.5, (1, 2, "underlay"): 0.0001,
                   (2, 1, "underlay"): 0.0}
