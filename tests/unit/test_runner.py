"""The runner, trials, workloads and overlay deployments on a fake underlay (no root):
the schedule is played, every action reaches the underlay, probes are recorded, agents
start and stop, and the run directory has what a real run has."""
import json
import textwrap
from pathlib import Path

import pytest

from testbed.experiment.actions import REGISTRY
from testbed.experiment.loader import load_experiment
from testbed.experiment.results import load_run
from testbed.experiment.runner import Runner
from testbed.model.diagnostics import InvalidInput

from fake_underlay import FakeUnderlay

ROOT = Path(__file__).resolve().parents[2]


def experiment(tmp_path, body):
    path = tmp_path / "exp.yaml"
    path.write_text(textwrap.dedent(f"""\
        name: fake
        topology: {ROOT / "topologies" / "line-3as.yaml"}
        duration: 2s
        """) + textwrap.dedent(body))
    return load_experiment(path)


def run(plan, tmp_path, **kwargs):
    made = []

    def factory(net):
        made.append(FakeUnderlay(net))
        return made[-1]
    outcome = Runner(plan, tmp_path / "results", make_underlay=factory, **kwargs).execute()
    return outcome, made


def test_every_action_reaches_the_underlay_and_probes_are_recorded(tmp_path):
    plan = experiment(tmp_path, """\
        workloads:
          - {name: w, from: as100.h1, to: as300.h1, rate: 20}
        timeline:
          - {at: 0.5s, action: link_down, link: [as200.r3, as300.r1]}
          - {at: 1.0s, action: link_up, link: [as200.r3, as300.r1]}
          - {at: 1.1s, action: set_link, link: [as100.r1, as100.r2], delay: 5ms, bandwidth: 0}
          - {at: 1.2s, action: node_fail, node: as200.r1}
          - {at: 1.3s, action: node_recover, node: as200.r1}
          - {at: 1.4s, action: policy, asn: 300, policy: {exit: cold-potato}}
          - {at: 1.5s, action: throttle, class: e, asn: 300, rate: 2Mbit}
          - {at: 1.55s, action: unthrottle, class: e, asn: 300}
          - {at: 1.6s, action: block, class: e, link: [as200.r3, as300.r1]}
          - {at: 1.65s, action: unblock, class: e, link: [as300.r1, as200.r3]}
          - {at: 1.7s, action: reprice, link: [as200.r3, as300.r1], price: 3}
        overlays:
          - {name: e, module: overlays.echo, hosts: [as100.h1, as300.h1]}
        expect:
          - {metric: w.outage_s, op: ">", value: 0.3}
        """)
    outcome, made = run(plan, tmp_path)
    assert outcome.status == "complete", outcome.error
    calls = made[0].calls
    assert ("set_link", "as200.r3", "as300.r1", False) in calls
    assert ("set_link", "as200.r3", "as300.r1", True) in calls
    assert ("set_link_params", "as100.r1", "as100.r2",
            {"delay_ms": 5.0, "bandwidth_mbit": None}) in calls
    assert ("set_router", "as200.r1", False) in calls and ("set_router", "as200.r1", True) in calls
    assert ("set_policy", 300, {"exit": "cold-potato"}) in calls
    # the overlay is a traffic class of its ports; ISP reactions police it
    assert ("set_classes", {"e": [7000]}) in calls
    assert [c[1:] for c in calls if c[0] == "police"] == [
        ("as200.r3", "as300.r1", "e", 2.0), ("as200.r3", "as300.r1", "e", None),
        ("as200.r3", "as300.r1", "e", 0.0), ("as300.r1", "as200.r3", "e", None)]
    assert made[0].started and made[0].stopped
    loaded = load_run(outcome.run)
    probes = loaded.probes(1, "w")
    assert len(probes) >= 30 and any(p["rtt_ms"] is None for p in probes)
    # the cut lasted 0.5 s: the workload saw it, and the expectation holds
    assert outcome.summary["expectations"][0]["passed"]
    actions = [e for e in loaded.events if e.get("type") == "action"]
    assert {e["action"] for e in actions} >= set(REGISTRY) - {"start", "stop"} | {"start"}
    assert all(abs(e["late_ms"]) < 100 for e in actions)


def test_overlay_agents_get_validated_params_and_stop_on_time(tmp_path):
    plan = experiment(tmp_path, """\
        overlays:
          - {name: e, module: overlays.echo, hosts: [as100.h1, as300.h1],
             params: {interval: 0.5}, stop: 1.5s}
        """)
    outcome, made = run(plan, tmp_path)
    assert outcome.status == "complete", outcome.error
    spawned = [c for c in made[0].calls if c[0] == "spawn"]
    assert [c[1] for c in spawned] == ["as100.h1", "as300.h1"]
    config = json.loads((outcome.run / "overlays" / "trial-1" / "e" /
                         "as100.h1.config.json").read_text())
    # the defaults the agent uses are in its config, from the overlay's spec
    assert config["params"] == {"port": 7000, "interval": 0.5, "timeout": 1.0}
    assert [p["name"] for p in config["peers"]] == ["as300.h1"]
    stopped = [e for e in load_run(outcome.run).events if e.get("type") == "overlay_stopped"]
    # the agents cannot bind 10.x here and exit at once; either way none had to be killed
    assert stopped and stopped[0]["killed"] == []


def test_several_agents_per_host_get_their_own_ports_files_and_records(tmp_path):
    plan = experiment(tmp_path, """\
        overlays:
          - {name: d, module: overlays.dht, hosts: [as100.h1, as300.h1], instances: 3,
             params: {port: 5000}, stop: 1s}
        """)
    outcome, made = run(plan, tmp_path)
    assert outcome.status == "complete", outcome.error
    spawned = [c[1] for c in made[0].calls if c[0] == "spawn"]
    assert spawned == ["as100.h1"] * 3 + ["as300.h1"] * 3  # in the hosts' namespaces
    folder = outcome.run / "overlays" / "trial-1" / "d"
    config = json.loads((folder / "as300.h1@1.config.json").read_text())
    assert config["host"] == {**config["host"], "name": "as300.h1", "instance": 1,
                              "port_shift": 1}
    assert [(p["name"], p["instance"]) for p in config["peers"]] == [
        ("as100.h1", 0), ("as100.h1", 1), ("as100.h1", 2), ("as300.h1", 0), ("as300.h1", 2)]
    # the traffic class counts every instance's port
    assert ("set_classes", {"d": [5000, 5001, 5002]}) in made[0].calls
    with open(folder / "as300.h1@2.jsonl", "a") as f:
        f.write('{"t": 1, "metric": "x", "value": 1}\n')
    records = load_run(outcome.run).overlay_records(1, "d")
    assert [(r["host"], r["instance"]) for r in records if r.get("metric") == "x"] == [
        ("as300.h1", 2)]
    assert {r["instance"] for r in records} <= {0, 1, 2}


def test_instances_are_refused_for_an_overlay_that_runs_one_agent_per_host(tmp_path):
    with pytest.raises(InvalidInput) as err:
        experiment(tmp_path, """\
            overlays:
              - {name: e, module: overlays.echo, hosts: [as100.h1], instances: 2}
            """)
    assert "runs one agent per host" in str(err.value) and "instances" in str(err.value)


def test_an_error_in_a_trial_is_a_failed_run_with_everything_torn_down(tmp_path):
    plan = experiment(tmp_path, """\
        timeline:
          - {at: 0.2s, action: node_fail, node: as200.r1}
        """)

    class Broken(FakeUnderlay):
        def set_router(self, name, up):
            raise RuntimeError("the router is on fire")

    made = []
    outcome = Runner(plan, tmp_path / "r", make_underlay=lambda n: made.append(Broken(n)) or made[-1]).execute()
    assert outcome.status == "failed" and "on fire" in outcome.error
    assert made[0].stopped
    manifest = json.loads((outcome.run / "manifest.json").read_text())
    assert manifest["status"] == "failed" and manifest["complete"] is False


def test_trials_replay_the_same_random_link(tmp_path):
    plan = experiment(tmp_path, """\
        trials: 2
        timeline:
          - {at: 0.2s, action: link_down, link: random-inter-as}
          - {at: 0.4s, action: link_up, link: random-inter-as}
        """)
    outcome, made = run(plan, tmp_path)
    for underlay in made:
        links = [c[1:3] for c in underlay.calls if c[0] == "set_link"]
        assert len(links) == 2 and links[0] == links[1]
    again, made_again = run(plan, tmp_path)
    assert [u.calls for u in made] == [u.calls for u in made_again]


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_every_registered_action_applies(name, tmp_path):
    """No action can validate and then do nothing: each family applies through the
    underlay or the trial."""
    family = REGISTRY[name]
    assert type(family).apply is not type(family).__mro__[-2].apply


def test_report_of_a_complete_run_says_when_it_ended(tmp_path):
    plan = experiment(tmp_path, "workloads:\n  - {name: w, from: as100.h1, to: as300.h1}\n")
    outcome, _ = run(plan, tmp_path)
    manifest = json.loads((outcome.run / "manifest.json").read_text())
    assert manifest["complete"] and manifest["ended"]
    assert manifest["ended"] in (outcome.run / "report.md").read_text()


def test_a_stalled_data_plane_compromises_its_seconds_and_the_verdict(tmp_path):
    plan = experiment(tmp_path, """\
        workloads:
          - {name: w, from: as100.h1, to: as300.h1, rate: 5, start: 1s}
        """)
    made = []

    def factory(net):
        made.append(FakeUnderlay(net))
        made[-1].late_from = 2  # the window ending at 2 s: a planted stall
        return made[-1]
    outcome = Runner(plan, tmp_path / "results", make_underlay=factory).execute()
    assert outcome.status == "complete", outcome.error
    rows = load_run(outcome.run).fidelity_windows(1)
    assert [r["t"] for r in rows] == pytest.approx([1, 2], abs=0.2)
    late = [r["t"] for r in rows if any("over 1 ms late" in p for p in r["problems"])]
    assert late == pytest.approx([2], abs=0.2)
    f = outcome.summary["fidelity"][0]
    assert f["verdict"] == "degraded" and outcome.summary["fidelity_verdict"] == "degraded"
    assert f["compromised"][0]["during"] == ["workload w"]
    assert "40 of 100 frames over 1 ms late" in (outcome.run / "report.md").read_text()
