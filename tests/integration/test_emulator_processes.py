"""The userspace link emulator spread over several processes (linkemu.process): on a real
network, a path's frames cross links held by different processes. Its own module: the
link-emulation tests keep line-3as up for the whole of theirs, one network at a time."""
import os
from pathlib import Path

import pytest

from testbed.measure.fidelity import check
from testbed.model import load_topology
from testbed.underlay import capabilities
from testbed.underlay.emulation import Underlay
from testbed.underlay.linkemu import emulator, process

from test_link_emulation import on_target


@pytest.mark.skipif(capabilities.netem_available(), reason="netem carries the links here")
def test_links_spread_over_three_emulator_processes_behave_as_one(topo_path, plane):
    """Every path crosses links held by different processes; runtime changes reach the
    process holding the link, and the per-class counters come back from all of them."""
    net = load_topology(topo_path("line-3as"))
    with Underlay(net, dataplane=plane, emulator_processes=3) as u:
        assert len(u.emulator.processes) == 3
        assert len(u.emulator_seconds()) == 3
        assert sorted(p.name for p in u.work_dir.glob("linkemu-*.log")) == \
            ["linkemu-0.log", "linkemu-1.log", "linkemu-2.log"]
        pair = ("as100.h1", "as300.h1")
        def measure():
            return check(u, pairs=[pair], count=40, throughput=False)
        # on target where each process has a CPU of its own; 3 polling processes on fewer
        # CPUs take turns (stolen time 22%, medians 8-34 ms off here), but frames never
        # leave early and none is lost
        pinned = process.placement(3, os.sched_getaffinity(0))[0] is not None
        sample = (on_target(u, measure) if pinned else measure()).samples[0]
        assert not sample.measured_loss > 0.1, sample
        assert sample.median_rtt_ms >= sample.configured_rtt_ms, sample
        u.set_link_params("as100.r1", "as100.r2", delay_ms=20)  # was 2 ms
        sample = check(u, pairs=[pair], count=40, throughput=False).samples[0]
        assert sample.configured_rtt_ms == pytest.approx(64 + 36)
        assert sample.median_rtt_ms >= 100, sample
        u.set_classes({"web": [80]})
        assert set(u.class_counters()) == {l.index for l in net.links if l.kind == "inter"}


@pytest.mark.skipif(capabilities.netem_available(), reason="netem carries the links here")
@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="one CPU: nothing to pin")
def test_emulator_pinned_to_the_last_cpus_alone(topo_path):
    """By default the emulator processes hold the last CPUs, one each, and fork nothing
    (the other CPUs may halt: spinners keeping them awake made the host stop the
    emulator's CPU more often)."""
    cpus = sorted(os.sched_getaffinity(0))
    with Underlay(load_topology(topo_path("line-3as")), dataplane="linux") as u:
        pids = u.emulator.pids
        assert [os.sched_getaffinity(p) for p in pids] == \
            [{c} for c in reversed(cpus[len(cpus) - len(pids):])]
        assert Path(f"/proc/{pids[0]}/task/{pids[0]}/children").read_text().split() == []
        busy, cpu = u.emulator_seconds()[0]
        assert 0 <= busy <= cpu


def _affinities(pids):
    out = {}
    for pid in pids:
        try:
            out[pid] = os.sched_getaffinity(pid)
        except OSError:
            pass  # gone
    return out


@pytest.mark.skipif(capabilities.netem_available(), reason="netem carries the links here")
@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="one CPU: nothing to pin")
def test_kernel_threads_kept_off_the_emulator_cpus_and_given_back(topo_path):
    """The movable kernel threads (kdamond, kcompactd, rcu's) leave the CPUs the emulator
    processes are pinned to while the network runs, and get their CPUs back after."""
    before = _affinities(emulator.movable_kernel_threads())
    assert before, "no movable kernel thread to check"
    with Underlay(load_topology(topo_path("line-3as")), dataplane="linux") as u:
        own = {c for p in u.emulator.pids for c in os.sched_getaffinity(p)}
        during = _affinities(before)
        assert {pid for pid, cpus in during.items() if cpus & own} == \
            {pid for pid, cpus in during.items() if not before[pid] - own}, own
    after = _affinities(before)
    assert after == {pid: before[pid] for pid in after}
