"""Link emulation on a real network: delay, loss and rate as configured, changed at
runtime, with the fidelity check's verdict. Here (no sch_netem) this is the userspace
emulator; where the kernel has netem, 'auto' picks netem and the same tests run on it."""
import concurrent.futures
import os
import re
import signal
import subprocess
import time

import pytest

from testbed.measure.counters import LinkCounters
from testbed.measure import fidelity
from testbed.measure.fidelity import check, expected_rtt, throughput_of, window_row
from testbed.model import load_topology
from testbed.underlay import capabilities
from testbed.underlay.emulation import Underlay, UnderlayError
from testbed.underlay.linkemu.names import emulator_ends


@pytest.fixture(scope="module")
def line(topo_path, plane):
    with Underlay(load_topology(topo_path("line-3as")), dataplane=plane) as underlay:
        yield underlay


def faithful(underlay):
    """Planes whose RTT meets the target here: Linux routers, and OVS on its kernel
    datapath; userspace OVS adds about 0.15 ms per router on line-3as (its error is
    reported)."""
    return underlay.dataplane == "linux" or capabilities.kernel_datapath()


UNFAITHFUL = ("OpenFlow on OVS's userspace datapath adds about 0.15 ms per router here "
              "(no kernel datapath): its RTTs cannot be within the target")


def rtt_miss(verdict):
    """What misses the target on some sample, or None: RTT within max(0.5 ms, 3%) of
    configured, the middle half of the RTTs within 1 ms (a steady spread), loss as
    configured. The RTT spread target (0.3 ms std with no jitter) is not asserted: a
    virtual CPU the host stops delays a few pings by milliseconds (README, "Data planes and
    performance")."""
    for s in verdict.samples:
        loss = [p for p in s.problems if "loss" in p]
        if abs(s.error_ms) > max(0.5, 0.03 * s.configured_rtt_ms) or s.rtt_iqr_ms >= 1.0 \
                or loss:
            return (f"{s.src} -> {s.dst}: median {s.error_ms:+.3f} ms off "
                    f"{s.configured_rtt_ms} ms, IQR {s.rtt_iqr_ms} ms, {loss or 'loss ok'}")
    return None


def on_target(underlay, measure, attempts=3):
    """measure()'s verdict, its RTT on target where the plane is faithful. The host stops
    this machine's virtual CPUs in episodes (stolen time 1-25% within an hour here): a
    measurement that misses is taken again, up to `attempts` times; the test fails with
    each attempt's miss and stolen CPU share."""
    misses = []
    for _ in range(attempts):
        verdict = measure()
        miss = rtt_miss(verdict) if faithful(underlay) else None
        if miss is None:
            return verdict
        misses.append(f"{miss}; stolen CPU {100 * verdict.cpu_steal:.0f}%")
    pytest.fail("RTT off target in every attempt: " + " | ".join(misses))


def test_fidelity_verdict_is_ok(line):
    """Every sample's RTT within max(0.5 ms, 3%) of configured (on_target)."""
    if not faithful(line):
        pytest.skip(UNFAITHFUL)
    verdict = on_target(line, lambda: check(line, count=60, throughput=False))
    far = next(s for s in verdict.samples if s.dst == "as300.h1")
    assert far.configured_rtt_ms == pytest.approx(64)  # 2 x 32 ms configured
    assert abs(far.median_rtt_ms - 64) <= max(0.5, 0.03 * 64)
    assert 0 < far.forwarding_ms < 0.1 * far.median_rtt_ms


def test_tcp_goodput_is_what_the_configured_rate_carries(line):
    """TCP goodput after slow start within 0.9-1.05 of what the 100 Mbit/s bottleneck
    carries of TCP payload, on both sides (a shaper ignoring its rate fails as surely as
    one starving), on every plane: rates are the emulator's, whatever forwards."""
    tput = throughput_of(line, ("as100.h1", "as300.h1"))
    assert tput["bottleneck_mbit"] == 100 and 0.9 <= tput["ratio"] <= 1.05, tput
    assert "problem" not in tput


def test_runtime_delay_change_shows_in_rtt(line):
    """36 ms more RTT configured at runtime: the measured median moves by 36 ms, within
    1 ms."""
    if not faithful(line):
        pytest.skip(UNFAITHFUL)

    def median():
        return on_target(line, lambda: check(line, pairs=[("as100.h1", "as300.h1")],
                                             count=40, throughput=False)).samples[0]
    before = median()
    line.set_link_params("as100.r1", "as100.r2", delay_ms=20)  # was 2 ms
    try:
        after = median()
        assert after.configured_rtt_ms == pytest.approx(64 + 36)
        assert abs(after.median_rtt_ms - before.median_rtt_ms - 36) <= 1.0, (before, after)
    finally:
        line.set_link_params("as100.r1", "as100.r2", delay_ms=2)


def test_the_check_fails_a_zero_delay_emulator_and_a_shaper_ignoring_its_rate(line,
                                                                             monkeypatch):
    """Planted bugs: the emulator told to delay nothing, then to limit no rate, behind
    the harness's back (its link properties still say 2-12 ms and 100 Mbit/s). The check
    compares with the configuration, not with what the emulator was told: both fail.
    (The check's own baseline, the path with its delays set to zero, would set the links
    anew from the configuration and so mend the first bug: it is left out.)"""
    if line.emulator is None:
        pytest.skip("netem: the planted bugs are the userspace emulator's")
    monkeypatch.setattr(fidelity, "_base_rtt", lambda *args: (0.0, 0.0))
    links = [l.index for l in line.net.links]

    def plant(**params):
        for i in links:
            line.emulator.request(cmd="set", link=i, params=params)
    pair = [("as100.h1", "as300.h1")]
    try:
        plant(delay_ms=0)
        verdict = check(line, pairs=pair, count=20, throughput=False)
        assert not verdict.ok and any("median RTT" in p for p in verdict.problems), \
            verdict.problems
    finally:
        for i in links:
            line.set_link_params(line.net.links[i].a, line.net.links[i].b)  # as configured
    try:
        plant(rate_mbit=None)
        tput = throughput_of(line, pair[0])
        assert tput["ratio"] > 1.05 and "problem" in tput, tput
    finally:
        for i in links:
            line.set_link_params(line.net.links[i].a, line.net.links[i].b)
    tput = throughput_of(line, pair[0])
    assert "problem" not in tput, tput  # and back as configured


def test_unknown_link_or_property_is_a_clear_error(line):
    with pytest.raises(UnderlayError, match="no link between"):
        line.set_link_params("as100.h1", "as300.h1", delay_ms=1)
    with pytest.raises(UnderlayError, match="unknown link properties"):
        line.set_link_params("as100.r1", "as100.r2", latency=1)


@pytest.mark.skipif(capabilities.netem_available(), reason="this kernel has netem")
def test_asking_for_netem_without_it_is_refused(topo_path):
    with pytest.raises(UnderlayError, match="no sch_netem"):
        Underlay(load_topology(topo_path("line-3as")), link_backend="netem").start()


def frame_sizes(interface, seconds=3.0):
    """The sizes of the TCP frames crossing `interface` (tcpdump, link-level lengths)."""
    done = subprocess.run(["timeout", str(seconds), "tcpdump", "-i", interface, "-e", "-nn",
                           "-c", "300", "tcp"], capture_output=True, text=True)
    return [int(n) for n in re.findall(r"length (\d+):", done.stdout)]


def test_gso_frames_cross_links_that_only_delay_and_segments_the_others(line):
    """A host's 64 KB TCP frames (GSO) reach the emulator whole where a link only delays,
    on the Linux plane (OVS's userspace datapath takes none: hosts send segments); the
    link with a rate after it sees segments, cut by the router before it. The link's
    counters count the bytes the segments put on the wire either way."""
    if line.emulator is None:
        pytest.skip("netem: no userspace emulator")
    index = {frozenset((l.a, l.b)): l.index for l in line.net.links}
    plain = index[frozenset(("as100.r1", "as100.r2"))]
    rated = index[frozenset(("as100.r2", "as200.r1"))]
    unlimited = [("as100.h1", "as100.r1"), ("as100.r1", "as100.r2")]
    interfaces = LinkCounters(line.net, lambda node: line.mn[node].pid)
    for a, b in unlimited:
        line.set_link_params(a, b, bandwidth_mbit=0)
    try:
        assert plain not in line.segmented and rated in line.segmented
        with concurrent.futures.ThreadPoolExecutor() as pool:
            sizes = {i: pool.submit(frame_sizes, emulator_ends(i)[0]) for i in (plain, rated)}
            time.sleep(0.5)
            before = (line.link_counters()[plain], interfaces.sample()[plain])
            tput = throughput_of(line, ("as100.h1", "as300.h1"), 3)
            after = (line.link_counters()[plain], interfaces.sample()[plain])
            sizes = {i: f.result() for i, f in sizes.items()}
        assert tput["mbit"] >= 70 and sizes[plain] and sizes[rated]
        # the link's bytes are the segments' (66 bytes of headers for each 1,448 of TCP
        # payload), not the interfaces' count of the GSO frames (one set of headers each)
        way = "tx_bytes" if line.net.links[plain].a == "as100.r1" else "rx_bytes"
        wire, counted = (getattr(a, way) - getattr(b, way) for a, b in zip(after, before))
        assert max(sizes[rated]) <= 1514
        if line.dataplane == "linux":
            assert 1.02 < wire / counted < 1.05 and max(sizes[plain]) > 1514
        else:
            assert wire == pytest.approx(counted, rel=0.001) and max(sizes[plain]) <= 1514
    finally:
        for a, b in unlimited:
            line.set_link_params(a, b, bandwidth_mbit=100)
    assert plain in line.segmented
    assert line.emulator.request(cmd="stats")["receive_errors"] == 0


def test_frames_late_from_a_stalled_emulator_catch_up_on_later_links(line):
    """A virtual CPU the host stops holds every frame in the emulator: stopping the
    emulator for 5 ms every 150 ms while pings cross a 64 ms path would leave about half
    of them up to 5 ms late. With catch-up (linkemu.catchup) a frame late on one link
    leaves the next ones that much earlier: only frames in their path's last few ms stay
    late."""
    if line.emulator is None or not faithful(line):
        pytest.skip("netem, or OVS's userspace datapath: its own forwarding spreads the RTTs "
                    "by more than the stalls (10% of pings 2-9 ms late here)")
    pid = line.emulator.pids[0]
    ip = line.net.hosts["as300.h1"].ip
    line.prober("as100.h1").ping(ip, count=2, rate=5, timeout=1.0)  # ARP on the way
    before = line.emulator.request(cmd="stats")["caught_up"]
    with concurrent.futures.ThreadPoolExecutor() as pool:
        pings = pool.submit(lambda: line.prober("as100.h1").ping(ip, count=200, rate=50,
                                                                 timeout=1.0).rtts)
        stalls = 0
        while not pings.done():
            time.sleep(0.15)
            os.kill(pid, signal.SIGSTOP)
            time.sleep(0.005)
            os.kill(pid, signal.SIGCONT)
            stalls += 1
        rtts = [r for r in pings.result() if r is not None]
    median = sorted(rtts)[len(rtts) // 2]
    late = [r for r in rtts if r > median + 1.0]
    assert stalls >= 20 and len(rtts) >= 198
    assert abs(median - 64) <= max(0.5, 0.03 * 64)
    assert len(late) <= 0.15 * len(rtts), sorted(late)
    assert line.emulator.request(cmd="stats")["caught_up"] - before >= stalls


def test_the_emulator_reports_each_seconds_lateness_and_a_stall_compromises_it(line):
    """The per-second fidelity window is the emulator's own account of each frame's
    release against its schedule. Quiet, pings cross on time; with the emulator stopped
    for 30 ms every 100 ms (more than any later link's delay can absorb), more than 1%
    of the frames leave over 1 ms late and the window says so."""
    if line.emulator is None:
        pytest.skip("netem: the kernel's qdisc has no lateness to report")
    pid = line.emulator.pids[0]
    ip = line.net.hosts["as300.h1"].ip
    line.prober("as100.h1").ping(ip, count=2, rate=5, timeout=1.0)  # ARP on the way

    def window(stall_s):
        line.dataplane_window()  # starts a window
        with concurrent.futures.ThreadPoolExecutor() as pool:
            pings = pool.submit(lambda: line.prober("as100.h1").ping(ip, count=60, rate=50,
                                                                     timeout=1.0))
            while stall_s and not pings.done():
                time.sleep(0.07)
                os.kill(pid, signal.SIGSTOP)
                time.sleep(stall_s)
                os.kill(pid, signal.SIGCONT)
            pings.result()
        time.sleep(0.2)  # the last replies, and credits expired
        links = line.dataplane_window()["links"]
        return window_row(1.0, 1.0, 0.5, 0.0, None, links)
    quiet = window(0)
    # 60 pings there and back: every crossing of the path's links released (0.1% loss)
    there, back = expected_rtt(line.net, line.routing_state().tables(), line.link_props,
                               "as100.h1", "as300.h1")
    crossings = len(there.links) + len(back.links)
    assert quiet["frames"] >= 0.95 * 60 * crossings and quiet["drops"] == 0
    assert quiet["late"] <= 0.01 * quiet["frames"], quiet
    stalled = window(0.03)
    assert stalled["late"] > 0.01 * stalled["frames"] and stalled["max_ms"] >= 20, stalled
    assert any("over 1 ms late" in p for p in stalled["problems"])
