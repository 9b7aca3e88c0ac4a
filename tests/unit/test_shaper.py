"""The per-direction link model, without sockets: delay, jitter, loss, rate, queue."""
import statistics

import pytest

from testbed.underlay.linkemu.shaper import Direction, Params


def test_delay_only():
    d = Direction(Params(delay_ms=20), seed=1)
    assert d.admit(1.0, 100) == pytest.approx(1.020)
    assert d.admit(1.0, 60) is not None and (d.sent, d.bytes) == (2, 160)


def test_jitter_spread_and_no_reordering():
    d = Direction(Params(delay_ms=20, jitter_ms=4), seed=2)
    releases = [d.admit(i * 0.005, 100) for i in range(5000)]  # 5 ms apart: little reordering pressure
    assert releases == sorted(releases)
    extra = [r - i * 0.005 for i, r in enumerate(releases)]
    assert statistics.median(extra) == pytest.approx(0.020, abs=0.0005)
    assert statistics.pstdev(extra) == pytest.approx(0.004, rel=0.2)


@pytest.mark.parametrize("loss", [1, 5, 10])
def test_loss_rate_over_10000_frames(loss):
    d = Direction(Params(loss_pct=loss), seed=loss)
    delivered = sum(d.admit(i * 1e-4, 64) is not None for i in range(10000))
    assert abs((10000 - delivered) / 100 - loss) <= 1.0
    assert d.dropped_loss == 10000 - delivered


def test_rate_serialises_and_queue_drops_tail():
    d = Direction(Params(rate_mbit=8, queue_bytes=10_000), seed=3)  # 1 byte/us
    t = [d.admit(0.0, 1000) for _ in range(12)]  # a burst at t=0
    assert t[0] == pytest.approx(0.001) and t[1] == pytest.approx(0.002)
    assert t[9] == pytest.approx(0.010)
    assert t[10] is None and t[11] is None and d.dropped_queue == 2
    assert d.admit(0.02, 1000) == pytest.approx(0.021)  # queue drained


def test_down_drops_everything_and_update_keeps_state():
    d = Direction(Params(delay_ms=5), seed=4)
    d.params = d.params.updated(up=False)
    assert d.admit(0.0, 100) is None and d.dropped_down == 1
    d.params = d.params.updated(up=True, delay_ms=1)
    assert d.admit(0.0, 100) == pytest.approx(0.001)


def test_seeded_and_repeatable():
    a = Direction(Params(delay_ms=5, jitter_ms=1, loss_pct=10), seed=7)
    b = Direction(Params(delay_ms=5, jitter_ms=1, loss_pct=10), seed=7)
    assert [a.admit(i / 1000, 100) for i in range(500)] == [b.admit(i / 1000, 100) for i in range(500)]
