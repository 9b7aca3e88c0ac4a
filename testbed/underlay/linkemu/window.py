"""What one link did in one window (a second of a run), as the emulator itself saw it:
the frames it released and how late each left against its scheduled release, and the
frames it lost that no configured property asked it to lose.

Why the emulator's own view: a fidelity verdict from CPU averages over a trial hides the
seconds in which the emulator fell behind (a 40-peer swarm ran 3.8x slower than its
5-peer phase while the trial's mean CPU idle said "ok"). The emulator knows when each
frame was due and when it left; that is the measurement, per second.

Lateness is the lateness the frame's path kept: a frame late on one link whose next link
in the same process absorbed it (`catchup`) counts as on time there, and what the next
link could not absorb is late on that one. Unrequested drops are the frames the kernel
dropped before the emulator read them (its socket's buffer was full: PACKET_STATISTICS)
and the sends that failed (ENOBUFS); losses the link's loss rate, queue limit, policer or
down state asked for are not among them.

Pure bookkeeping: the emulator appends, `summary` reduces, both unit-tested.
"""
from __future__ import annotations

from typing import Any, Dict, List

from ...stats import percentile

LATE = 0.001  # s: a frame released later than this is late for the verdict (p99 > 1 ms)


class Window:
    __slots__ = ("lates", "drops")

    def __init__(self) -> None:
        self.lates: List[float] = []  # seconds, one per released frame
        self.drops = 0  # frames lost that nothing configured asked to lose

    @property
    def idle(self) -> bool:
        return not self.lates and not self.drops

    def summary(self) -> Dict[str, Any]:
        """The window's figures (milliseconds), and the window emptied for the next."""
        lates = self.lates
        out: Dict[str, Any] = {"frames": len(lates), "drops": self.drops,
                               "late": sum(1 for x in lates if x > LATE)}
        if lates:
            out.update(p50_ms=round(1000 * percentile(lates, 50), 4),
                       p99_ms=round(1000 * percentile(lates, 99), 4),
                       max_ms=round(1000 * max(lates), 4))
        self.lates, self.drops = [], 0
        return out
