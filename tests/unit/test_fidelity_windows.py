"""Fidelity judged per second from the data plane: the emulator's per-link windows
(lateness against schedule, unrequested drops) and the machine's CPU in that second make
a window compromised; a trial with any is not "ok"."""
import pytest

from testbed.measure.fidelity import window_problems, window_row
from testbed.underlay.linkemu.catchup import TTL, CatchUp
from testbed.underlay.linkemu.window import Window

from test_catchup import ipv4


def link(frames, late=0, drops=0, p99=0.05):
    return {"frames": frames, "late": late, "drops": drops, "p50_ms": 0.01, "p99_ms": p99,
            "max_ms": p99}


def test_a_window_summarises_lateness_and_starts_anew():
    w = Window()
    w.lates += [0.00001] * 97 + [0.002, 0.003, 0.007]
    w.drops = 2
    got = w.summary()
    assert got == {"frames": 100, "drops": 2, "late": 3, "p50_ms": 0.01, "p99_ms": 3.0,
                   "max_ms": 7.0}
    assert w.idle and w.summary() == {"frames": 0, "drops": 0, "late": 0}


def test_lateness_a_later_link_absorbed_is_not_counted_where_it_happened():
    first, second = Window(), Window()
    catch_up, frame = CatchUp(), ipv4()
    catch_up.late(frame, 0.007, now=1.0, window=first)  # 7 ms late on the first link
    assert catch_up.take(frame, now=1.001) == 0.007  # the next link takes it on
    assert first.lates == [0.0]
    catch_up.late(ipv4(seq=2), 0.004, now=2.0, window=second)  # its path's last link
    catch_up.expire(2.0 + TTL)
    assert second.lates == [0.004] and not catch_up.credits
    catch_up.late(frame, 0.0001, now=3.0, window=first)  # on time: recorded at once
    assert first.lates == [0.0, 0.0001]


def test_quiet_seconds_are_not_compromised():
    row = window_row(5.0, 1.0, idle=0.6, steal=0.01, emulator_busy=0.2,
                     links={"3": link(2000, late=5), "4": link(10, late=1, p99=2.0)})
    assert row["problems"] == [] and row["frames"] == 2010 and row["p99_ms"] == 2.0


@pytest.mark.parametrize("links,idle,busy,problem", [
    ({"3": link(2000, late=25, p99=4.0)}, 0.6, 0.2, "25 of 2000 frames over 1 ms late"),
    # one busy link lagging among many quiet ones
    ({"3": link(200, late=20, p99=3.1), "4": link(9000)}, 0.6, 0.2, "link 3: p99 lateness 3.1"),
    ({"3": link(2000, drops=3)}, 0.6, 0.2, "3 frames lost"),
    ({"3": link(2000)}, 0.05, 0.2, "CPU idle 5%"),
    ({"3": link(2000)}, 0.6, 0.95, "busy 95%"),
])
def test_a_compromised_second_says_why(links, idle, busy, problem):
    row = window_row(5.0, 1.0, idle, 0.0, busy, links)
    assert len(row["problems"]) == 1 and problem in row["problems"][0]


def test_without_the_emulator_only_the_cpu_is_judged():
    assert window_row(1.0, 1.0, 0.5, 0.0, None, None)["problems"] == []
    assert window_problems({"cpu_idle": 0.02}) != []
