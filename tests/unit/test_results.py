"""A run directory read back into metrics, plots and reports (no network needed)."""
import json
from pathlib import Path

import pytest

from testbed.cli import main
from testbed.experiment.results import finish_run, load_run
from testbed.experiment.rundir import RunDir, read_jsonl

TOPOLOGY = Path(__file__).resolve().parents[2] / "topologies" / "tiered-8as.yaml"

CONFIG = {"name": "demo", "duration": 10, "metrics": ["rtt", "loss", "outage", "delivery",
                                                      "overlay"],
          "workloads": [{"name": "w"}], "overlays": [{"name": "echo"}],
          "expect": [{"metric": "w.outage_s", "op": "==", "value": 2, "tolerance": 0.5},
                     {"metric": "w.loss", "op": "<", "value": 0.01, "tolerance": 0}]}


def make_run(tmp_path, trials=2):
    run = RunDir(tmp_path, "demo")
    run.add_input("experiment", "demo.yaml", b"name: demo\n", "experiments/demo.yaml")
    run.add_input("topology_as_run", "topology.run.yaml", TOPOLOGY.read_bytes())
    run.write_manifest(seed=3, trials=trials, configuration=CONFIG, versions={})
    for k in range(1, trials + 1):
        run.event(type="trial_started", trial=k, t0_wall=1000.0)
        run.event(type="action", trial=k, action="link_down", target="as1.r1-as2.r1",
                  link=["as1.r1", "as2.r1"], planned=3.0, actual=3.004, late_ms=4.0,
                  took_ms=2.0)
        for i in range(10):
            lost = 3 <= i < 5 + k - 1  # trial 1: 2 s outage, trial 2: 3 s
            run.append(f"measurements/trial-{k}/w.jsonl",
                       {"trial": k, "pair": "a>b", "seq": i, "t": float(i),
                        "rtt_ms": None if lost else 10.0 + k, "reply": "echo-reply"})
        agent = run.path / "overlays" / f"trial-{k}" / "echo"
        agent.mkdir(parents=True)
        (agent / "as1.h1.jsonl").write_text(
            json.dumps({"t": 1001.5, "metric": "delivered", "value": 1}) + "\n" +
            json.dumps({"t": 1002.5, "metric": "delivered", "value": 0}) + "\n{broken")
        run.event(type="trial_fidelity", trial=k, cpu_idle=0.5, emulator_cpu=0.2, verdict="ok")
    return run


def test_metrics_across_trials_expectations_and_reports(tmp_path):
    run = make_run(tmp_path)
    run.finish("complete")
    metrics = finish_run(run.path)
    across = metrics["across_trials"]
    assert across["w.outage_s"]["values"] == [2.0, 3.0]
    assert across["w.outage_s"]["mean"] == 2.5
    assert across["w.rtt_median_ms"]["values"] == [11.0, 12.0]
    assert across["echo.delivered"]["mean"] == 0.5  # the cut last line is skipped
    # outage 2 ± 0.5: trial 1's 2 s holds, trial 2's 3 s does not (the mean 2.5 would)
    outage = metrics["expectations"][0]
    assert [t["passed"] for t in outage["trials"]] == [True, False]
    assert [e["passed"] for e in metrics["expectations"]] == [False, False]
    assert outage["measured"] == 3.0
    assert metrics["timeline"]["late_ms_p99"] == 4.0
    assert metrics["fidelity_verdict"] == "ok"
    assert json.loads((run.path / "metrics.json").read_text()) == metrics
    md = (run.path / "report.md").read_text()
    assert "| w.outage_s | 2.5 | ± 6.353 | 2.5 |" in md and "INCOMPLETE" not in md
    assert "| w.outage_s | == 2 ± 0.5 | every trial (worst shown) | 3 | 1: 2, 2: 3 FAIL | FAIL |" in md
    assert "testbed run experiments/demo.yaml --seed 3 --trials 2" in md
    page = (run.path / "report.html").read_text()
    assert page.count("data:image/png;base64,") == 4  # and the topology: self-contained
    assert sorted(p.name for p in (run.path / "plots").iterdir()) == \
        ["delivery.png", "rtt.png", "rtt_cdf.png", "topology.png"]


def test_a_partial_run_is_reported_as_incomplete(tmp_path, capsys):
    run = make_run(tmp_path, trials=1)  # never finished: as after kill -9
    assert load_run(run.path).manifest["status"] == "running"
    assert main(["report", str(run.path)]) == 0
    assert "INCOMPLETE" in (run.path / "report.md").read_text()
    assert json.loads((run.path / "manifest.json").read_text())["complete"] is False


def test_compare_two_runs(tmp_path, capsys):
    a, b = make_run(tmp_path / "a"), make_run(tmp_path / "b", trials=1)
    a.finish("complete")
    b.finish("interrupted")
    assert main(["compare", str(a.path), str(b.path)]) == 0
    out = capsys.readouterr().out
    assert "w.outage_s" in out and "interrupted" in out


def test_report_of_something_else_is_a_clear_error(tmp_path, capsys):
    assert main(["report", str(tmp_path)]) == 2
    assert "is not a run directory" in " ".join(capsys.readouterr().err.split())


def test_jsonl_cut_mid_line_keeps_the_rest(tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_text('{"a": 1}\n{"a": 2}\n{"a": ')
    assert read_jsonl(path) == [{"a": 1}, {"a": 2}]


@pytest.mark.parametrize("n", [1])
def test_two_runs_in_one_second_get_two_directories(tmp_path, n):
    from datetime import datetime, timezone
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    first, second = RunDir(tmp_path, "x", now), RunDir(tmp_path, "x", now)
    assert first.path != second.path and second.path.name.endswith("-2")
