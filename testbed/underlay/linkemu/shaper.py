"""One direction of an emulated link: what happens to a frame, as a pure function of time.

    arrival --loss?--> drop
            --rate: waits behind the frames queued before it (drop-tail when the queue
              holds more than `queue_bytes`), then takes size*8/rate to serialise-->
            --delay + jitter (normal, std = jitter)-->
            release, never before the previous frame's release (no reordering)

This is netem's model (delay distribution, random loss, tbf-like rate with a byte limit),
kept free of sockets and clocks so it is unit-tested directly and the emulator process is
only I/O around it.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, replace
from typing import Optional

DEFAULT_QUEUE_BYTES = 1000 * 1514  # netem's default limit of 1000 frames


@dataclass(frozen=True)
class Params:
    delay_ms: float = 0.0
    jitter_ms: float = 0.0
    loss_pct: float = 0.0
    rate_mbit: Optional[float] = None  # None: unlimited
    queue_bytes: int = DEFAULT_QUEUE_BYTES
    up: bool = True

    def updated(self, **changes: object) -> "Params":
        return replace(self, **changes)  # type: ignore[arg-type]

    @property
    def per_segment(self) -> bool:
        """Frames must cross one TCP segment at a time: loss, jitter and a rate act on
        each (a link that only delays may carry a sender's 64 KB GSO frames whole; vnet)."""
        return bool(self.loss_pct or self.jitter_ms or self.rate_mbit)


class Direction:
    def __init__(self, params: Params, seed: int):
        self.params = params
        self.rng = random.Random(seed)
        self.busy_until = 0.0  # when the rate limiter finishes the frames admitted so far
        self.last_release = 0.0
        self.sent = self.dropped_loss = self.dropped_queue = self.dropped_down = 0
        self.bytes = 0  # the frames sent, as the wire carries them (the caller's sizes)

    def admit(self, now: float, size: int) -> Optional[float]:
        """Release time (seconds, same clock as `now`) of a frame, or None if it is dropped."""
        p = self.params
        if not p.up:
            self.dropped_down += 1
            return None
        if p.loss_pct and self.rng.random() * 100.0 < p.loss_pct:
            self.dropped_loss += 1
            return None
        t = now
        if p.rate_mbit:
            start = max(now, self.busy_until)
            backlog_bytes = round((start - now) * p.rate_mbit * 1e6 / 8, 6)  # float noise
            if backlog_bytes + size > p.queue_bytes:
                self.dropped_queue += 1
                return None
            self.busy_until = start + size * 8 / (p.rate_mbit * 1e6)
            t = self.busy_until
        t += p.delay_ms / 1000.0
        if p.jitter_ms:
            t = max(t + self.rng.gauss(0.0, p.jitter_ms / 1000.0), now)
        t = max(t, self.last_release)
        self.last_release = t
        self.sent += 1
        self.bytes += size
        return t
