"""Experiments end to end through the real CLI: a run's files, the timeline's accuracy,
the agent contract, policy changes, and interruption (SIGINT, SIGTERM, kill -9 + clean)
leaving a readable partial run and nothing of ours on the machine."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from testbed.experiment.results import load_run
from testbed.measure.pathmap import compare
from testbed.model import load_topology
from testbed.underlay import runstate
from testbed.underlay.emulation import Underlay

ROOT = Path(__file__).resolve().parents[2]

EXPERIMENT = f"""
name: short
topology:
  file: {ROOT}/topologies/line-3as.yaml
  overrides: {{routing: {{convergence_delay: 1s}}}}
duration: {{duration}}
seed: 3
overlays:
  - {{name: echo, module: overlays.echo, hosts: [as100.h1, as300.h1], params: {{interval: 0.2}}}}
workloads:
  - {{name: probes, from: as100.h1, to: as300.h1, rate: 20}}
timeline:
  - {{at: 2, action: link_down, link: [as200.r3, as300.r1]}}
  - {{at: 3, action: set_link, link: [as100.r1, as100.r2], delay: 5ms}}
  - {{at: 4, action: link_up, link: [as200.r3, as300.r1]}}
  - {{at: 4.5, action: stop, workload: probes}}
  - {{at: 5, action: start, workload: probes}}
expect:
  - {{metric: probes.outage_s, op: "==", value: 3, tolerance: 0.6}}
"""


def _write(tmp_path, duration):
    path = tmp_path / "short.yaml"
    path.write_text(EXPERIMENT.replace("{duration}", str(duration)))
    return path


def _run(tmp_path, duration, **kw):
    return subprocess.Popen([sys.executable, "-m", "testbed.cli", "run",
                             str(_write(tmp_path, duration)), "--out", str(tmp_path / "results")],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True, **kw)


def _run_dir(tmp_path):
    dirs = list((tmp_path / "results" / "short").glob("*"))
    assert len(dirs) == 1, dirs
    return dirs[0]


def _nothing_left(pid):
    assert not (runstate.STATE_DIR / f"{pid}.json").exists()
    bridges = subprocess.run(["ovs-vsctl", "list-br"], capture_output=True, text=True).stdout
    assert not [b for b in bridges.split() if b.startswith("as")]
    assert not [l for l in os.listdir("/sys/class/net") if l.startswith("tb")]
    procs = subprocess.run(["pgrep", "-f", "overlays.echo|testbed.measure.prober"],
                           capture_output=True, text=True).stdout
    assert not procs.strip(), procs


def test_a_run_produces_its_directory_and_meets_the_timeline(tmp_path):
    proc = _run(tmp_path, 8)
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0, out
    run = load_run(_run_dir(tmp_path))
    m = run.manifest
    assert m["complete"] and m["status"] == "complete" and m["seed"] == 3
    assert set(m["inputs"]) == {"experiment", "topology", "topology_as_run"}
    assert m["versions"]["kernel"] and m["link_backend"] in ("netem", "userspace")
    actions = [e for e in run.events if e["type"] == "action"]
    assert [a["action"] for a in actions] == ["start", "start", "link_down", "set_link",
                                              "link_up", "stop", "start", "stop", "stop"]
    late = sorted(a["late_ms"] for a in actions)
    assert late[-1] <= 50, late  # p99 of 9 is the max
    stopped = next(e for e in run.events if e["type"] == "overlay_stopped")
    assert stopped["took_s"] < 2 and not stopped["killed"]  # the agent contract
    assert any(e["type"] == "controller" and e["event"] == "link_down" for e in run.events)
    metrics = json.loads((run.path / "metrics.json").read_text())
    assert metrics["expectations"][0]["passed"], metrics["across_trials"]["probes.outage_s"]
    assert metrics["across_trials"]["echo.rtt_ms"]["mean"] > 60
    assert (run.path / "report.html").stat().st_size > 10_000
    # measurements were written per probe, the restarted workload included
    probes = [json.loads(l) for l in (run.path / "measurements/trial-1/probes.jsonl").open()]
    assert max(p["t"] for p in probes) > 7 and any(4.5 < p["t"] < 5.0 for p in probes) is False


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupted_run_is_partial_and_clean(tmp_path, sig):
    proc = _run(tmp_path, 60)
    events = None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        dirs = list((tmp_path / "results" / "short").glob("*"))
        if dirs and (dirs[0] / "events.jsonl").exists() and \
                '"link_down"' in (dirs[0] / "events.jsonl").read_text():
            events = dirs[0] / "events.jsonl"
            break
        time.sleep(0.2)
    assert events is not None, "the run never got to its first link change"
    os.killpg(proc.pid, sig) if sig == signal.SIGINT else proc.send_signal(sig)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 130, out
    run = load_run(_run_dir(tmp_path))
    assert run.manifest["status"] == "interrupted" and run.manifest["complete"] is False
    assert (run.path / "measurements/trial-1/probes.jsonl").stat().st_size > 0
    assert "INCOMPLETE" in (run.path / "report.md").read_text()
    _nothing_left(proc.pid)


def test_kill_9_then_clean_leaves_a_readable_partial_run(tmp_path):
    proc = _run(tmp_path, 60)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        dirs = list((tmp_path / "results" / "short").glob("*"))
        if dirs and (dirs[0] / "measurements/trial-1/probes.jsonl").exists():
            break
        time.sleep(0.2)
    time.sleep(1)
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)
    clean = subprocess.run([sys.executable, "-m", "testbed.cli", "clean"], capture_output=True,
                           text=True, timeout=120)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    time.sleep(1.5)  # the agents and probers notice their parent is gone
    _nothing_left(proc.pid)
    run_dir = _run_dir(tmp_path)
    run = load_run(run_dir)
    assert run.manifest["complete"] is False and run.manifest["status"] == "running"
    probes = [json.loads(l) for l in (run_dir / "measurements/trial-1/probes.jsonl").open()]
    assert len(probes) >= 10
    report = subprocess.run([sys.executable, "-m", "testbed.cli", "report", str(run_dir)],
                            capture_output=True, text=True, timeout=120)
    assert report.returncode == 0 and "INCOMPLETE" in (run_dir / "report.md").read_text()


def test_policy_change_reroutes_after_the_convergence_delay(topo_path, plane):
    net = load_topology(topo_path("policy-detour"))
    with Underlay(net, convergence_delay_ms=500, dataplane=plane) as u:
        src, dst = "as300.h1", "as20.h1"
        before = u.prober(src).trace(net.hosts[dst].ip)
        assert compare(u.net, u.routing_state().tables(), src, dst, before.hops,
                       before.reached).as_path() == [300, 20]
        u.set_policy(300, {"local_pref": {"as10": 200}})
        u.controller.wait_for(lambda e: e.get("event") == "policy_applied", timeout=10)
        after = u.prober(src).trace(net.hosts[dst].ip)
        cmp = compare(u.net, u.routing_state().tables(), src, dst, after.hops, after.reached)
        assert cmp.agrees and cmp.as_path() == [300, 10, 1, 2, 20]


def test_ron_fails_over_while_the_underlay_waits_for_bgp(tmp_path):
    """ron-outage in small: the underlay's outage is its convergence delay, RON's ~1 s."""
    path = ROOT / "tests" / "data" / "ron-short.yaml"
    done = subprocess.run([sys.executable, "-m", "testbed.cli", "run", str(path), "--out",
                           str(tmp_path / "results")], capture_output=True, text=True,
                          timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr
    run_dir = next((tmp_path / "results" / "ron-short").glob("*"))
    across = json.loads((run_dir / "metrics.json").read_text())["across_trials"]
    assert across["app.direct.outage_s"]["mean"] == pytest.approx(4.0, rel=0.1)
    assert across["app.ron.outage_s"]["mean"] < 2.0
    assert across["app.ron.delivery"]["mean"] > 0.9
    stopped = [e for e in load_run(run_dir).events if e["type"] == "overlay_stopped"]
    assert len(stopped) == 2 and all(e["took_s"] < 2 and not e["killed"] for e in stopped)
    assert (run_dir / "plots" / "ron_pairs_cdf.png").is_file()
