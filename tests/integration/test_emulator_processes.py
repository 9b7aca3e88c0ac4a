"""The userspace link emulator spread over several processes (linkemu.process): on a real
network, a path's frames cross links held by different processes. Its own module: the
link-emulation tests keep line-3as up for the whole of theirs, one network at a time."""
import pytest

from testbed.measure.fidelity import check
from testbed.model import load_topology
from testbed.underlay import capabilities
from testbed.underlay.emulation import Underlay

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
        verdict = on_target(u, lambda: check(u, pairs=[pair], count=40, throughput=False))
        assert not verdict.samples[0].measured_loss > 0.1, verdict.samples[0]
        u.set_link_params("as100.r1", "as100.r2", delay_ms=20)  # was 2 ms
        sample = check(u, pairs=[pair], count=40, throughput=False).samples[0]
        assert sample.configured_rtt_ms == pytest.approx(64 + 36)
        assert sample.median_rtt_ms >= 100, sample
        u.set_classes({"web": [80]})
        assert set(u.class_counters()) == {l.index for l in net.links if l.kind == "inter"}
