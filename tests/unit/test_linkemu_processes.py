"""The link emulator spread over several processes (linkemu.process.LinkEmulator): which
process holds which link, where each control request goes, and how their stats merge.
The processes here are stand-ins that record requests (the real ones need root)."""
import os

import pytest

from testbed.measure.fidelity import cpu_times, emulator_shares
from testbed.process import ProcessError
from testbed.underlay.linkemu import process


class FakeProcess:
    def __init__(self, links, work_dir, stem="linkemu", cpu=None, poll_idle=False,
                 kernel_threads_off=()):
        self.links, self.stem, self.requests = [l["id"] for l in links], stem, []
        self.cpu, self.poll_idle = cpu, poll_idle
        self.kernel_threads_off = list(kernel_threads_off)
        self.pid = 1000 + len(self.links)

    def request(self, **request):
        self.requests.append(request)
        if request["cmd"] == "stats":
            return {"ok": True, "links": {str(i): {"a_to_b": {"sent": i}} for i in self.links},
                    "send_errors": 1, "receive_errors": 3, "queued": 2, "caught_up": 5,
                    "late_ms": {"mean": 0.1 * len(self.links), "max": len(self.links),
                                "releases": 10 * len(self.links)}}
        if request["cmd"] == "busy":
            return {"ok": True, "busy_s": 0.5 * len(self.links), "cpu_s": 2.0}
        return {"ok": True}

    def stop(self):
        pass


@pytest.fixture
def emulator(monkeypatch, tmp_path):
    monkeypatch.setattr(process, "EmulatorProcess", FakeProcess)
    return process.LinkEmulator([{"id": i} for i in (10, 11, 12, 13, 14)], tmp_path, 2)


def test_links_are_dealt_out_so_that_a_path_spreads_over_the_processes(emulator):
    assert [p.links for p in emulator.processes] == [[10, 12, 14], [11, 13]]
    assert [p.stem for p in emulator.processes] == ["linkemu-0", "linkemu-1"]


def test_each_request_reaches_the_process_holding_its_link(emulator):
    first, second = emulator.processes
    emulator.request(cmd="set", link=13, params={"delay_ms": 5})
    emulator.request(cmd="police", link=12, **{"class": "x"}, rate_mbit=0, ports={})
    assert second.requests == [{"cmd": "set", "link": 13, "params": {"delay_ms": 5}}]
    assert first.requests[0]["link"] == 12
    emulator.request(cmd="classes", links=[10, 11, 12], ports={"80": "web"})
    assert first.requests[-1] == {"cmd": "classes", "links": [10, 12], "ports": {"80": "web"}}
    assert second.requests[-1] == {"cmd": "classes", "links": [11], "ports": {"80": "web"}}


def test_a_link_no_process_holds_is_a_clear_error(emulator):
    with pytest.raises(ProcessError, match="no link 99"):
        emulator.request(cmd="set", link=99, params={})


def test_stats_merge_links_and_weigh_lateness_by_releases(emulator):
    stats = emulator.request(cmd="stats")
    assert sorted(stats["links"]) == ["10", "11", "12", "13", "14"]
    assert stats["send_errors"] == 2 and stats["receive_errors"] == 6 and stats["queued"] == 4
    assert stats["caught_up"] == 10
    # 30 releases at 0.3 ms and 20 at 0.2 ms
    assert stats["late_ms"]["mean"] == pytest.approx((30 * 0.3 + 20 * 0.2) / 50)
    assert stats["late_ms"]["max"] == 3 and stats["late_ms"]["releases"] == 50


def test_busy_seconds_come_from_every_process_in_order(emulator):
    busy = emulator.request(cmd="busy")["processes"]
    assert busy == [(0.5 * len(p.links), 2.0) for p in emulator.processes]


def test_processes_are_pinned_to_the_last_cpus():
    assert process.placement(1, [0, 1]) == [1]
    assert process.placement(2, [4, 0, 2, 6]) == [6, 4]
    # as many processes as CPUs or more: they would share CPUs
    assert process.placement(2, [0, 1]) == [None, None]
    assert process.placement(3, [0, 1]) == [None] * 3


def test_pinned_processes_poll_idle_and_the_first_keeps_kernel_threads_off(monkeypatch,
                                                                          tmp_path):
    monkeypatch.setattr(process, "EmulatorProcess", FakeProcess)
    monkeypatch.setattr(process.os, "sched_getaffinity", lambda pid: {0, 1, 2, 3})
    emu = process.LinkEmulator([{"id": i} for i in range(6)], tmp_path, 2, poll_idle=True)
    assert [(p.cpu, p.poll_idle, p.kernel_threads_off) for p in emu.processes] == \
        [(3, True, [3, 2]), (2, True, [])]
    # pinned without a hypervisor: kernel threads still kept off the emulator's CPUs
    emu = process.LinkEmulator([{"id": i} for i in range(6)], tmp_path, 1)
    assert [(p.cpu, p.poll_idle, p.kernel_threads_off) for p in emu.processes] == \
        [(3, False, [3])]
    # unpinned processes share CPUs: none polls with nothing in flight, none is kept clear
    emu = process.LinkEmulator([{"id": i} for i in range(6)], tmp_path, 4, poll_idle=True)
    assert not any(p.poll_idle or p.kernel_threads_off for p in emu.processes)


def test_never_more_processes_than_links(monkeypatch, tmp_path):
    monkeypatch.setattr(process, "EmulatorProcess", FakeProcess)
    one = process.LinkEmulator([{"id": 0}], tmp_path, 8)
    assert len(one.processes) == 1 and one.processes[0].stem == "linkemu"
    assert 1 <= process.default_processes() <= process.MAX_PROCESSES
    assert process.default_processes(reserved=64) == 1


def test_the_busiest_emulator_process_decides_the_share_of_a_core(monkeypatch):
    """Busy time decides the load; CPU time beyond it was polling, counted as idle."""
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    busiest, polling = emulator_shares([(1.0, 1.0), (5.0, 6.0)], [(3.0, 5.0), (6.0, 9.0)], 4.0)
    assert busiest == pytest.approx(0.5)  # 2 busy seconds in 4
    assert polling == pytest.approx((2.0 + 2.0) / (4.0 * 2))
    assert emulator_shares(None, None, 4.0) == (None, 0.0)


def test_cpu_times_count_stolen_time_apart():
    idle, steal, total = cpu_times()
    assert 0 <= steal <= total and 0 <= idle <= total
