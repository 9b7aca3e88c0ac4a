"""The data plane watched second by second while a trial runs: into
`measurements/trial-<k>/_fidelity.jsonl`, one row per window (measure.fidelity.window_row):
the machine's idle and stolen CPU in that second, the busiest link emulator process's
busy share, and per link the frames the emulator released, their lateness against
schedule (p50/p99/max) and the frames it lost unasked, with the problems that compromise
the window. The trial's fidelity verdict is made from these rows (results.py), not from
an average over the trial, in which idle phases hide a saturated one.
"""
from __future__ import annotations

import threading
import time
from typing import Any, Callable, Dict, List, Optional

from ..measure import fidelity
from ..underlay.api import UnderlayAPI

MIN_LAST = 0.2  # the trial's last, partial window is kept if at least this long (share)


class Watch:
    """A thread sampling `underlay.dataplane_window()` and the CPU every `every` seconds
    from T=0 until stopped; `rows` keeps what it wrote (for the trial's summary)."""

    def __init__(self, underlay: UnderlayAPI, now: Callable[[], float],
                 write: Callable[[Dict[str, Any]], None], every: float = 1.0):
        self.underlay, self.now, self.write, self.every = underlay, now, write, every
        self.rows: List[Dict[str, Any]] = []
        self.stop_event = threading.Event()
        self.thread: Optional[threading.Thread] = None

    def start(self) -> None:
        window = self.underlay.dataplane_window()  # empties what came before T=0
        cpu, at = fidelity.cpu_times(), time.monotonic()
        processes = _processes(window)
        self.thread = threading.Thread(target=self._loop, args=(cpu, at, processes),
                                       name="fidelity-watch", daemon=True)
        self.thread.start()

    def _loop(self, cpu: Any, at: float, processes: Any) -> None:
        while True:
            done = self.stop_event.wait(self.every)
            try:
                window = self.underlay.dataplane_window()
            except Exception as exc:  # the emulator gone: say so once, and stop watching
                self._keep({"t": round(self.now(), 3), "problems": [
                    f"the data plane could not be watched: {exc}"]})
                return
            cpu_now, at_now = fidelity.cpu_times(), time.monotonic()
            seconds = at_now - at
            if done and seconds < MIN_LAST * self.every:
                return  # a sliver of a window: its CPU shares would be noise
            idle, steal = fidelity.cpu_shares(cpu, cpu_now)
            busy, polling = fidelity.emulator_shares(processes, _processes(window), seconds)
            row = fidelity.window_row(self.now(), seconds, idle + polling, steal, busy,
                                      window["links"] if window else None)
            self._keep(row)
            if done:  # the last, partial window counts too
                return
            cpu, at = cpu_now, at_now
            processes = _processes(window)

    def _keep(self, row: Dict[str, Any]) -> None:
        self.rows.append(row)
        self.write(row)

    def stop(self) -> None:
        if self.thread is not None:
            self.stop_event.set()
            self.thread.join(10)
            self.thread = None


def _processes(window: Optional[Dict[str, Any]]) -> Any:
    """The emulator processes' (busy, CPU) seconds in a window (None: no emulator)."""
    return window["processes"] if window else None
