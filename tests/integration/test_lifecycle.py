"""Run life cycle through the real CLI: signals, kill -9 + clean, exit codes, collisions."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from testbed.underlay import runstate


def _run_up(topology, *extra):
    return subprocess.Popen([sys.executable, "-m", "testbed.cli", "up", str(topology), "--hold",
                             *extra], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)


def _wait_holding(proc, timeout=90):
    deadline = time.monotonic() + timeout
    lines = []
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        if "holding the network up" in line:
            return
    pytest.fail("testbed up did not come up:\n" + "".join(lines))


def _ours_left(state):
    bridges = subprocess.run(["ovs-vsctl", "list-br"], capture_output=True, text=True).stdout.split()
    intfs = set(os.listdir("/sys/class/net"))
    alive = [p for p in state["pids"] if runstate.pid_alive(p)]
    return ([b for b in state["bridges"] if b in bridges],
            [i for i in state["interfaces"] if i in intfs], alive)


def _state_of(pid):
    return json.loads((runstate.STATE_DIR / f"{pid}.json").read_text())


def test_kill_9_then_clean_leaves_nothing(topo_path, plane):
    proc = _run_up(topo_path("line-3as"), "--dataplane", plane)
    try:
        _wait_holding(proc)
        state = _state_of(proc.pid)
        # everything is really there before the kill (Linux routers have no bridges)
        assert _ours_left(state) == (state["bridges"], state["interfaces"], state["pids"])
        assert state["interfaces"] and len(state["pids"]) > 10
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        assert any(_ours_left(state))  # a killed run cannot clean up after itself
        out = subprocess.run([sys.executable, "-m", "testbed.cli", "clean"], capture_output=True,
                             text=True, timeout=60)
        assert out.returncode == 0 and f"removed run {proc.pid}" in out.stdout, out
        assert _ours_left(state) == ([], [], [])
        assert not (runstate.STATE_DIR / f"{proc.pid}.json").exists()
        assert subprocess.run(["ip", "netns"], capture_output=True, text=True).stdout == ""
    finally:
        if proc.poll() is None:
            proc.kill()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signals_tear_down(topo_path, sig):
    proc = _run_up(topo_path("line-3as"))
    try:
        _wait_holding(proc)
        state = _state_of(proc.pid)
        os.kill(proc.pid, sig)
        out, _ = proc.communicate(timeout=60)
        assert "torn down" in out, out
        assert _ours_left(state) == ([], [], [])
        assert not (runstate.STATE_DIR / f"{proc.pid}.json").exists()
    finally:
        if proc.poll() is None:
            proc.kill()


def test_pingall_main_job_exit_code(topo_path):
    out = subprocess.run([sys.executable, "-m", "testbed.cli", "up", str(topo_path("line-3as")),
                          "--pingall"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "12/12 host pairs reachable" in out.stdout


def test_bad_topology_to_up_is_exit_2_without_traceback(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nases:\n  - asn: 1\n    routers: [r1]\n    hosts: [{name: h1, router: r2}]\n")
    out = subprocess.run([sys.executable, "-m", "testbed.cli", "up", str(bad)],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert f"{bad}:5:" in out.stderr


def test_second_run_with_the_same_names_is_refused_clearly(topo_path):
    proc = _run_up(topo_path("line-3as"))
    try:
        _wait_holding(proc)
        out = subprocess.run([sys.executable, "-m", "testbed.cli", "up", str(topo_path("line-3as")),
                              "--pingall"], capture_output=True, text=True, timeout=60)
        assert out.returncode == 2 and "Traceback" not in out.stderr
        assert f"another run (pid {proc.pid}" in out.stderr
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        proc.communicate(timeout=60)


def test_probe_trace_and_json_through_the_cli(topo_path):
    cli = [sys.executable, "-m", "testbed.cli", "probe", str(topo_path("line-3as")), "as100.h1",
           "as300.h1"]
    out = subprocess.run(cli + ["--trace", "--kind", "udp"], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "the observed path is the expected path" in out.stdout
    assert "AS path expected 100 200 300, observed 100 200 300" in out.stdout
    out = subprocess.run(cli + ["--count", "3", "--json"], capture_output=True, text=True,
                         timeout=120)
    lines = [json.loads(line) for line in out.stdout.splitlines()]  # nothing but JSON
    assert out.returncode == 0 and len(lines) == 3
    assert all(m["reply"] == "echo-reply" and m["rtt_ms"] > 60 for m in lines)


def test_probe_unknown_host_is_refused_before_bring_up(topo_path):
    out = subprocess.run([sys.executable, "-m", "testbed.cli", "probe", str(topo_path("line-3as")),
                          "as100.h1", "as999.h1"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and "no host 'as999.h1'" in out.stderr
    assert "Traceback" not in out.stderr and "bringing up" not in out.stdout
