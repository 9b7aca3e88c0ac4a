"""Schedules are a pure function of experiment, seed and trial."""
from pathlib import Path

from testbed.experiment.loader import load_experiment
from testbed.experiment.timeline import schedule

ROOT = Path(__file__).resolve().parents[2]


def _plan(tmp_path, extra_timeline="", pairs="{random: 4}"):
    text = f"""
name: t
topology: {ROOT}/topologies/internet-50.yaml
duration: 30
seed: 5
workloads:
  - {{name: w, pairs: {pairs}, rate: 5, start: 2, stop: 20}}
  - {{name: v, from: as1.h1, to: as2.h1}}
timeline:
  - {{at: 10, action: link_down, link: random-inter-as}}
  - {{at: 10, action: stop, workload: v}}
  - {{at: 15, action: link_up, link: random-inter-as}}
{extra_timeline}"""
    path = tmp_path / "t.yaml"
    path.write_text(text)
    return load_experiment(path)


def test_same_seed_same_schedule_and_choices(tmp_path):
    plan = _plan(tmp_path)
    a = schedule(plan.experiment, plan.net, trial=1)
    b = schedule(plan.experiment, plan.net, trial=1)
    assert a.actions == b.actions and a.pairs == b.pairs and a.choices == b.choices
    assert len(a.pairs["w"]) == 4 and len(set(a.pairs["w"])) == 4


def test_other_seed_or_trial_other_choices(tmp_path):
    plan = _plan(tmp_path)
    base = schedule(plan.experiment, plan.net, trial=1)
    assert schedule(plan.experiment, plan.net, trial=2).choices != base.choices
    assert schedule(plan.experiment, plan.net, trial=1, seed=6).choices != base.choices


def test_random_link_is_one_inter_as_link_for_the_whole_trial(tmp_path):
    plan = _plan(tmp_path)
    sched = schedule(plan.experiment, plan.net, trial=3)
    links = [a.params["link"] for a in sched.actions if a.action.startswith("link_")]
    assert len(links) == 2 and links[0] == links[1] == sched.choices["random-inter-as"]
    kinds = {(l.a, l.b): l.kind for l in plan.net.links}
    assert kinds[tuple(links[0])] == "inter"


def test_order_starts_first_then_file_order_then_ends(tmp_path):
    plan = _plan(tmp_path, pairs="[[as1.h1, as3.h1]]")
    sched = schedule(plan.experiment, plan.net, trial=1)
    got = [(a.at, a.action, a.target) for a in sched.actions]
    assert got[0] == (0.0, "start", "v") and got[1] == (2.0, "start", "w")
    at_10 = [g for g in got if g[0] == 10]
    assert [g[1] for g in at_10] == ["link_down", "stop"]  # file order at equal times
    assert got[-1] == (30.0, "stop", "v")  # implied stop at the end
    assert (20.0, "stop", "w") in got
    assert sched.choices == {"random-inter-as": sched.choices["random-inter-as"]}


def test_commands_that_build_networks_take_ctrl_c_even_when_started_ignoring_it():
    """A run started in the background of a script inherits SIGINT ignored; the command
    still needs Ctrl-C to raise KeyboardInterrupt, so that it tears down and marks the
    run interrupted."""
    import signal

    from testbed import cli
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        cli._take_signals()
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
        assert signal.getsignal(signal.SIGTERM) is cli._raise_exit
    finally:
        for s, handler in saved.items():
            signal.signal(s, handler)
