"""Metrics from measurements, hand-computed."""
import math

import pytest

from testbed.experiment import derive


def probe(t, rtt, pair="a>b"):
    return {"pair": pair, "t": t, "rtt_ms": rtt}


def test_outage_is_first_loss_to_first_answer_after_it():
    probes = [probe(0, 10), probe(1, None), probe(2, None), probe(3, 11), probe(4, None),
              probe(5, 12)]
    assert derive.outage_s(probes) == 2.0  # 1 -> 3, longer than 4 -> 5


def test_outage_running_at_the_end_counts_to_the_last_probe():
    assert derive.outage_s([probe(0, 1), probe(1, None), probe(4, None)]) == 3.0


@pytest.mark.parametrize("probes,expected", [([], 0.0), ([probe(0, 5), probe(1, 6)], 0.0),
                                             ([probe(0, None)], 0.0)])
def test_outage_edge_cases(probes, expected):
    assert derive.outage_s(probes) == expected


def test_ping_metrics_over_pairs():
    records = [probe(0, 10), probe(1, 20), probe(2, None), probe(0, 30, "c>d"),
               probe(1, None, "c>d"), probe(2, None, "c>d"), probe(3, 40, "c>d")]
    m = derive.ping_metrics(records)
    assert (m["sent"], m["received"]) == (7, 4)
    assert m["loss"] == pytest.approx(3 / 7) and m["delivery"] == pytest.approx(4 / 7)
    assert (m["rtt_min_ms"], m["rtt_max_ms"]) == (10, 40)
    assert m["rtt_median_ms"] == 25 and m["rtt_mean_ms"] == 25
    assert m["rtt_p95_ms"] == 40  # nearest rank: ceil(0.95 * 4) = 4th
    assert m["outage_s"] == 2.0  # c>d: 1 -> 3


def test_ping_metrics_with_nothing():
    m = derive.ping_metrics([])
    assert m["sent"] == 0 and m["loss"] is None and m["rtt_median_ms"] is None


def test_overlay_metrics_mean_and_count_per_name():
    m = derive.overlay_metrics([{"metric": "rtt_ms", "value": 10}, {"metric": "rtt_ms", "value": 20},
                                {"metric": "delivered", "value": 0}, {"event": "started"}])
    assert m == {"delivered": 0.0, "delivered.count": 1, "rtt_ms": 15.0, "rtt_ms.count": 2}


def test_confidence_interval_uses_student_t():
    got = derive.across_trials([{"x": 1.0}, {"x": 2.0}, {"x": 3.0}, {"x": None}])["x"]
    assert got["n"] == 3 and got["mean"] == 2.0 and got["std"] == 1.0
    assert got["ci95"] == pytest.approx(4.303 / math.sqrt(3))


def test_one_trial_has_no_interval():
    got = derive.across_trials([{"x": 5.0}])["x"]
    assert got["mean"] == 5.0 and got["std"] is None and got["ci95"] is None


@pytest.mark.parametrize("value,op,target,tol,ok", [
    (8.4, "==", 8, 0.5, True), (8.6, "==", 8, 0.5, False), (0.1, "<", 0.05, 0.06, True),
    (0.1, "<", 0.05, 0, False), (3, ">=", 3, 0, True), (2.9, ">", 3, 0.2, True),
    (None, "<", 1, 0, False), (1, "!=", 2, 0.5, True)])
def test_expectations(value, op, target, tol, ok):
    assert derive.check_expectation(value, op, target, tol) is ok


def _judged(values, aggregate="all", op="<", target=2.0, others=None):
    per_trial = {str(k): {"ron.outage_s": v, **({"ref.outage_s": others[k - 1]}
                                                 if others else {})}
                 for k, v in enumerate(values, 1)}
    across = derive.across_trials(list(per_trial.values()))
    e = {"metric": "ron.outage_s", "op": op, "value": target, "tolerance": 0.0,
         "aggregate": aggregate}
    return derive.judge(e, per_trial, across)


def test_an_expectation_holds_only_if_it_holds_in_every_trial():
    # the planted bug: one trial's 4 s outage among four of 1 s (mean 1.6 < 2)
    got = _judged([1.0, 1.0, 4.0, 1.0, 1.0])
    assert not got["passed"]
    assert (got["measured"], got["target"]) == (4.0, 2.0)  # the trial that missed
    assert [t["passed"] for t in got["trials"]] == [True, True, False, True, True]
    assert _judged([1.0] * 5)["passed"]
    assert not _judged([1.0, None, 1.0])["passed"]  # a trial without the metric fails
    assert not _judged([])["passed"]  # nothing measured: nothing holds


def test_a_mean_or_median_over_trials_only_when_asked():
    assert _judged([1.0, 1.0, 4.0, 1.0, 1.0], "mean")["passed"]
    assert _judged([1.0, 1.0, 4.0, 1.0, 1.0], "mean")["measured"] == pytest.approx(1.6)
    assert _judged([1.0, 1.0, 4.0, 4.0, 4.0], "median")["measured"] == 4.0


def test_a_metric_target_is_taken_from_the_same_trial():
    # each trial's swarm beats that trial's baseline, though not the baselines' mean
    got = _judged([5.0, 9.0], target="ref.outage_s", others=[6.0, 10.0])
    assert got["passed"] and [t["target"] for t in got["trials"]] == [6.0, 10.0]
    got = _judged([5.0, 9.0], target="ref.outage_s", others=[10.0, 6.0])
    assert not got["passed"] and (got["measured"], got["target"]) == (9.0, 6.0)


def test_a_target_may_be_a_multiple_of_another_metric():
    per_trial = {"1": {"bt40.t": 6.5, "bt5.t": 2.9}, "2": {"bt40.t": 5.0, "bt5.t": 2.9}}
    e = {"metric": "bt40.t", "op": "<=", "value": "bt5.t", "tolerance": 0.0, "scale": 2.0}
    got = derive.judge(e, per_trial, derive.across_trials(list(per_trial.values())))
    assert not got["passed"] and (got["measured"], got["target"]) == (6.5, 5.8)
    assert [t["passed"] for t in got["trials"]] == [False, True]


def test_percentile_nearest_rank():
    assert derive.percentile([5, 1, 3, 2, 4], 50) == 3
    assert derive.percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 99) == 10
    assert derive.percentile([7], 0) == 7


def test_application_flows_from_client_and_server_records():
    records = [{"flow": "ron", "seq": s, "sent": 100.0 + s * 0.5} for s in range(1, 7)]
    records += [{"flow": "ron", "seq": s, "sent": 100.0 + s * 0.5, "received": 100.0 + s * 0.5 + 0.02}
                for s in (1, 2, 5, 6)]  # 3 and 4 lost
    probes = derive.flow_probes(records + [{"metric": "x", "value": 1}], t0=100.0)
    assert list(probes) == ["ron"]
    assert [p["t"] for p in probes["ron"]] == [0.5, 1.0, 1.5, 2.0, 2.5, 3.0]
    m = derive.flow_metrics(probes["ron"])
    assert (m["sent"], m["received"]) == (6, 4)
    assert m["latency_median_ms"] == pytest.approx(20.0)
    assert m["outage_s"] == pytest.approx(1.0)  # lost from 1.5, delivered again at 2.5
    assert "rtt_median_ms" not in m
