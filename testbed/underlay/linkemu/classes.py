"""Traffic classes on a link, for transit accounting and the ISPs' reactions to overlays.

A class is an overlay deployment; a frame belongs to it when it is IPv4 TCP or UDP and its
destination port, else its source port, is one the deployment declared (its spec's
`ports`, those bound on the members' addresses). Everything else is `underlay`. Ports, not
a DSCP mark: the agents need no change, a real daemon (tor, nginx) is classified as well
as our Python agents, and it is what an ISP's middlebox sees. A deployment that shares a
port with ordinary traffic shares its class.

Per direction of a link, `ClassFilter` counts each class's bytes that crossed and polices
the classes an ISP throttles: a token bucket of `rate` Mbit/s holding `burst_bytes(rate)`
(10 ms of the rate, at least two full frames), frames beyond it dropped, like tc's
`police` action that the netem back end uses; rate 0 blocks the class. Pure: no sockets,
the caller gives the time.
"""
from __future__ import annotations

from typing import Dict, Optional, Tuple

UNDERLAY = "underlay"
FULL_FRAME = 1514


def burst_bytes(rate_mbit: float) -> int:
    """The policer's bucket: 10 ms of the rate, at least two full frames."""
    return max(int(rate_mbit * 1e6 / 8 * 0.01), 2 * FULL_FRAME)


def frame_ports(frame: bytes) -> Optional[Tuple[int, int]]:
    """(source port, destination port) of an Ethernet frame carrying IPv4 TCP or UDP (the
    first fragment), else None."""
    if len(frame) < 38 or frame[12:14] != b"\x08\x00" or frame[23] not in (6, 17):
        return None
    if (frame[20] & 0x1F) or frame[21]:  # a later fragment: no transport header
        return None
    start = 14 + (frame[14] & 0x0F) * 4
    if len(frame) < start + 4:
        return None
    return (frame[start] << 8 | frame[start + 1], frame[start + 2] << 8 | frame[start + 3])


def classify(frame: bytes, ports: Dict[int, str]) -> str:
    """The frame's class: the one owning its destination port, else its source port."""
    pair = frame_ports(frame)
    if pair is None:
        return UNDERLAY
    return ports.get(pair[1]) or ports.get(pair[0]) or UNDERLAY


class Policer:
    """A token bucket: `admit` says whether a frame of `size` bytes conforms."""

    def __init__(self, rate_mbit: float):
        self.rate_mbit = rate_mbit
        self.rate = rate_mbit * 1e6 / 8  # bytes per second
        self.burst = burst_bytes(rate_mbit)
        self.tokens = float(self.burst)
        self.last: Optional[float] = None

    def admit(self, now: float, size: int) -> bool:
        if self.rate <= 0:
            return False
        if self.last is not None:
            self.tokens = min(self.burst, self.tokens + (now - self.last) * self.rate)
        self.last = now
        if size > self.tokens:
            return False
        self.tokens -= size
        return True


class ClassFilter:
    """One direction of a link: classes by port, bytes per class, policers per class."""

    def __init__(self) -> None:
        self.ports: Dict[int, str] = {}
        self.policers: Dict[str, Policer] = {}
        self.bytes: Dict[str, int] = {}
        self.dropped: Dict[str, int] = {}

    @property
    def active(self) -> bool:
        return bool(self.ports)

    def police(self, cls: str, rate_mbit: Optional[float]) -> None:
        """Throttle `cls` to rate_mbit (0: block it; None: let it pass again)."""
        if rate_mbit is None:
            self.policers.pop(cls, None)
        else:
            self.policers[cls] = Policer(rate_mbit)

    def admit(self, now: float, frame: bytes) -> bool:
        """Count the frame under its class, unless that class's policer drops it."""
        cls = classify(frame, self.ports)
        policer = self.policers.get(cls)
        if policer is not None and not policer.admit(now, len(frame)):
            self.dropped[cls] = self.dropped.get(cls, 0) + 1
            return False
        self.bytes[cls] = self.bytes.get(cls, 0) + len(frame)
        return True
